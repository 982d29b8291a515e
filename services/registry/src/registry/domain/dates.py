"""The registry's one calendar helper: a day N months on (a registration's end, a certificate's yearly review)."""

from __future__ import annotations

from datetime import date


def add_months(day: date, months: int) -> date:
    """The same day N months on, clamped to the 28th so it exists in every month.

    The clamp (not the month's last day) is what the registry has always stored and scheduled: changing it
    would move deadlines already derived from events on a rebuild.
    """
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, 28))
