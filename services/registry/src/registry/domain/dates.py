"""The registry's calendar helpers: a day N months on, in the two ways the registry counts months.

`add_months` clamps to the 28th: the stored deadlines (a registration's end, a certificate's yearly review) have
always been derived so. `months_later` keeps the day and falls back to the month's last day: the development
record's periods (a year as an activist, a quarter's thought report), as the party's rules count them.
"""

from __future__ import annotations

import calendar
from datetime import date


def add_months(day: date, months: int) -> date:
    """The same day N months on, clamped to the 28th so it exists in every month.

    The clamp (not the month's last day) is what the registry has always stored and scheduled: changing it
    would move deadlines already derived from events on a rebuild.
    """
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, 28))


def months_later(day: date, months: int) -> date:
    """The same day `months` later; the month's last day when it has no such day (31 Jan + 1 month = 28/29 Feb)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
