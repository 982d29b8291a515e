"""Quarters and months: the periods cadences, thought reports and probation are counted in."""

from __future__ import annotations

import calendar
import re
from datetime import date

QUARTER = re.compile(r"^(?P<year>\d{4})Q(?P<q>[1-4])$")


def quarter_of(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def quarter_bounds(quarter: str) -> tuple[date, date]:
    """First day of the quarter and first day of the next one."""
    match = QUARTER.match(quarter)
    if match is None:
        raise ValueError(f"not a quarter like 2026Q4: {quarter!r}")
    year, q = int(match["year"]), int(match["q"])
    start = date(year, 3 * q - 2, 1)
    return start, (date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1))


def quarters_between(start: date, end: date) -> list[str]:
    """Every quarter from the one holding `start` up to the one holding `end`, inclusive."""
    found: list[str] = []
    day = date(start.year, 3 * ((start.month - 1) // 3) + 1, 1)
    while day <= end:
        found.append(quarter_of(day))
        day = add_months(day, 3)
    return found


def add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
