"""Quiet hours: a daily local window (which may span midnight) in which email and webhooks wait."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

DEFAULT_TIMEZONE = "Asia/Shanghai"


@cache
def known_timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def check_timezone(name: str) -> str:
    """An IANA zone name this machine knows; anything else is refused when the policy is written."""
    if name not in known_timezones():
        raise ValueError(f"unknown time zone {name!r}: an IANA name such as Asia/Shanghai")
    return name


def zone(name: str) -> ZoneInfo:
    """A zone stored before names were checked falls back to the default rather than failing every delivery."""
    return ZoneInfo(name if name in known_timezones() else DEFAULT_TIMEZONE)


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time
    timezone: str = DEFAULT_TIMEZONE

    @classmethod
    def from_dict(cls, data: dict[str, str] | None) -> QuietHours | None:
        if not data:
            return None
        return cls(
            time.fromisoformat(data["start"]),
            time.fromisoformat(data["end"]),
            data.get("timezone") or DEFAULT_TIMEZONE,
        )

    def to_dict(self) -> dict[str, str]:
        return {
            "start": self.start.strftime("%H:%M"),
            "end": self.end.strftime("%H:%M"),
            "timezone": self.timezone,
        }

    def contains(self, at: datetime) -> bool:
        local = at.astimezone(zone(self.timezone)).time()
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_allowed(self, at: datetime) -> datetime:
        """`at` itself outside the window, else the window's end (today's or tomorrow's, in local time)."""
        if not self.contains(at):
            return at
        here = zone(self.timezone)
        local = at.astimezone(here)
        end = datetime.combine(local.date(), self.end, tzinfo=here)
        if end <= local:
            end = datetime.combine(local.date() + timedelta(days=1), self.end, tzinfo=here)
        return end.astimezone(at.tzinfo)


def next_allowed(at: datetime, quiet: QuietHours | None) -> datetime:
    return at if quiet is None else quiet.next_allowed(at)
