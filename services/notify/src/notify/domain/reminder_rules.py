"""Which events open and close which reminders, when the reminders fire, and whether they repeat.

Due dates are dates; a reminder fires at 09:00 in the tenant's zone on its day (quiet hours then delay email
and webhooks per recipient). Repeating reminders repeat every `reminder_interval_days` of the tenant's policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from notify.domain.quiet import DEFAULT_TIMEZONE

REMIND_AT = time(9, 0)


@dataclass(frozen=True)
class ReminderSpec:
    kind: str
    opened_by: frozenset[str]
    closed_by: frozenset[str]
    item_fields: tuple[str, ...]
    due_field: str | None  # None: due when the announcing event happened (a case, open until closed)
    offsets_days: tuple[int, ...]
    repeats: bool

    @property
    def offsets(self) -> tuple[timedelta, ...]:
        return tuple(timedelta(days=d) for d in self.offsets_days)

    def item_id(self, data: Mapping[str, Any]) -> str | None:
        values = [data.get(f) for f in self.item_fields]
        return ":".join(str(v) for v in values) if all(values) else None

    def due_at(self, data: Mapping[str, Any], happened_at: datetime) -> datetime | None:
        if self.due_field is None:
            return happened_at
        value = data.get(self.due_field)
        if not value:
            return None
        day = value if isinstance(value, date) else date.fromisoformat(str(value))
        return datetime.combine(day, REMIND_AT, tzinfo=ZoneInfo(DEFAULT_TIMEZONE))


def _types(service: str, *names: str) -> frozenset[str]:
    return frozenset(f"cn.lianxin.{service}.{n}.v1" for n in names)


TRANSFER_CLOSED = ("transfer_completed", "transfer_cancelled", "letter_voided", "letter_expired")

SPECS: tuple[ReminderSpec, ...] = (
    # Letter: T-7 and T-1 before expiry (DOMAIN.md section 0); the transfer service handles expiry itself.
    ReminderSpec(
        "letter-expiry",
        _types("transfer", "letter_issued"),
        _types("transfer", "member_checked_in", *TRANSFER_CLOSED),
        ("case_id",),
        "expires_on",
        (-7, -1),
        repeats=False,
    ),
    ReminderSpec(
        "receipt-overdue",
        _types("transfer", "member_checked_in"),
        _types("transfer", "receipt_returned", *TRANSFER_CLOSED),
        ("case_id",),
        "receipt_due_on",
        (0,),
        repeats=True,
    ),
    # A contact case (at risk, lost contact, self-lapse review) is chased from the day it opens until closed.
    ReminderSpec(
        "contact-case",
        _types("registry", "contact_at_risk", "lost_contact_case_opened", "self_lapse_review_opened"),
        _types("registry", "contact_case_closed"),
        ("member_id",),
        None,
        (0,),
        repeats=True,
    ),
    # Certificate review and the 6-monthly contact are the registry's; thought_report_due is still assumed.
    ReminderSpec(
        "certificate-review",
        _types("registry", "certificate_review_due"),
        _types("registry", "certificate_reviewed", "certificate_surrendered"),
        ("item_id",),
        "due_on",
        (0,),
        repeats=True,
    ),
    # Members abroad or deferred: one reminder per six-month cycle (item <member_id>:<due_on>), so the next cycle
    # is a new reminder after the last one was closed by a recorded contact.
    ReminderSpec(
        "contact-due",
        _types("registry", "contact_due"),
        _types("registry", "contact_recorded"),
        ("item_id",),
        "due_on",
        (-7, 0),
        repeats=True,
    ),
    ReminderSpec(
        "thought-report",
        _types("learning", "thought_report_due"),
        _types("learning", "thought_report_submitted"),
        ("member_id", "quarter"),
        "due_on",
        (-3, 0),
        repeats=True,
    ),
)
SPECS_BY_KIND = {spec.kind: spec for spec in SPECS}


def opened_by(event_type: str) -> list[ReminderSpec]:
    return [s for s in SPECS if event_type in s.opened_by]


def closed_by(event_type: str) -> list[ReminderSpec]:
    return [s for s in SPECS if event_type in s.closed_by]
