"""预备期 (DOMAIN.md sections 0 and 4): the registry is the one owner of a probationary member's period.

It runs one year from the 支部大会 that admitted the member (the profile's 入党日期, `joined_on`), extended once by
6 to 12 months; it ends by 转正 or 取消预备资格, each a recorded decision. A member admitted less than three months
before arriving by transfer is flagged for the receiving committee (突击发展).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from typing import Any

RUSH_MONTHS = 3


def calendar_months_on(day: date, months: int) -> date:
    """The same day N months on, or the month's last day: a period in law ends on its true date (a probation
    admitted on 30 March ends on 30 March), so the registry's stored-deadline helper, clamped to the 28th, is
    not used here."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def as_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value))


@dataclass(frozen=True)
class ProbationFacts:
    admitted_on: date
    extension_months: int
    ends_on: date
    state: str  # running, regularised, cancelled
    rush_admission: bool

    @property
    def reminder_on(self) -> date:
        """The branch is reminded a month before the end: the application for 转正 is due then."""
        return calendar_months_on(self.ends_on, -1)

    def as_dict(self) -> dict[str, Any]:
        return {
            "admitted_on": self.admitted_on,
            "extension_months": self.extension_months,
            "ends_on": self.ends_on,
            "state": self.state,
            "rush_admission": self.rush_admission,
        }


def probation_facts(
    profile: dict[str, Any], *, registered_on: date, arrived_by_transfer: bool, state: str
) -> ProbationFacts:
    """From the member's profile: the 支部大会 date (or, until it is recorded, the date of registration)."""
    admitted_on = as_date(profile.get("joined_on")) or registered_on
    months = int(profile.get("probation_extension_months") or 0)
    rush = arrived_by_transfer and registered_on < calendar_months_on(admitted_on, RUSH_MONTHS)
    return ProbationFacts(
        admitted_on=admitted_on,
        extension_months=months,
        ends_on=calendar_months_on(admitted_on, 12 + months),
        state=state,
        rush_admission=rush,
    )
