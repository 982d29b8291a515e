"""The registry's one "N months on" helper."""

from __future__ import annotations

from datetime import date

from registry.domain.dates import add_months


def test_a_year_on_is_the_same_day_next_year() -> None:
    assert add_months(date(2026, 3, 14), 12) == date(2027, 3, 14)


def test_months_carry_into_the_next_year() -> None:
    assert add_months(date(2026, 11, 5), 4) == date(2027, 3, 5)


def test_a_day_past_the_28th_is_clamped_to_the_28th() -> None:
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 28)
    assert add_months(date(2027, 8, 31), 2) == date(2027, 10, 28)
