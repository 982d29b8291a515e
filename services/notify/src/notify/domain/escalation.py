"""Escalation ladders: after the inbox, a WeChat step and then an SMS step for an item still open near its
deadline. Defaults cover a letter about to expire with the member not yet reported (报到) and a contact case
about to become 失联; a tenant sets any reminder rule's ladder (or switches it off) in its mobile policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from notify.domain.reminder_rules import ReminderSpec

LOST_CONTACT_AFTER_DAYS = 180  # DOMAIN.md: at risk after 90 silent days, 失联 after 180


@dataclass(frozen=True)
class Ladder:
    enabled: bool = True
    wechat_before_hours: float | None = None  # None: no WeChat step
    sms_before_hours: float | None = None  # None: no SMS step
    urgent: bool = False  # urgent steps ignore quiet hours (never the daily limit or an opt-out)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Ladder:
        return cls(
            **{
                k: data[k]
                for k in ("enabled", "wechat_before_hours", "sms_before_hours", "urgent")
                if k in data
            }
        )


DEFAULT_LADDERS: dict[str, Ladder] = {
    # The letter expires tomorrow and the member has not reported: WeChat three days before, SMS one day before.
    "reminder.letter-expiry": Ladder(wechat_before_hours=72, sms_before_hours=24),
    # An at-risk member about to count as 失联: WeChat two weeks before, SMS one week before.
    "reminder.contact-case": Ladder(wechat_before_hours=14 * 24, sms_before_hours=7 * 24),
}


def deadline_of(
    spec: ReminderSpec, event_type: str, data: Mapping[str, Any], happened_at: datetime
) -> datetime | None:
    """When the item is lost if nobody acts: the reminder's due time, or for an at-risk contact case the day the
    silence reaches 180 days. A case opened as lost contact or self-lapse review is past escalating."""
    if spec.kind == "contact-case":
        if not event_type.endswith(".contact_at_risk.v1"):
            return None
        silent = data.get("silent_days")
        if not isinstance(silent, int):
            return None
        return happened_at + timedelta(days=max(0, LOST_CONTACT_AFTER_DAYS - silent))
    return spec.due_at(data, happened_at)


def plan_steps(ladder: Ladder, deadline: datetime, now: datetime) -> list[dict[str, str]]:
    """WeChat then SMS, each at deadline minus its lead, none before now, SMS never before WeChat; nothing when
    the deadline has passed (the item is lost or closed by its own owner by then)."""
    if not ladder.enabled or deadline <= now:
        return []
    steps: list[dict[str, str]] = []
    earliest = now
    for step, hours in (("wechat", ladder.wechat_before_hours), ("sms", ladder.sms_before_hours)):
        if hours is None:
            continue
        at = max(earliest, deadline - timedelta(hours=hours))
        steps.append({"step": step, "at": at.isoformat()})
        earliest = at
    return steps
