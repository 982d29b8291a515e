"""Backoff grows, is capped and jittered; quiet hours move email and webhooks to the window's end."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from notify.domain.backoff import retry_delay
from notify.domain.quiet import QuietHours


def test_backoff_doubles_per_attempt_within_its_jitter_band() -> None:
    for attempt, step in ((1, 10), (2, 20), (3, 40), (4, 80)):
        low = retry_delay(attempt, base_seconds=10, cap_seconds=1000, jitter=0)
        high = retry_delay(attempt, base_seconds=10, cap_seconds=1000, jitter=0.999)
        assert low == timedelta(seconds=step / 2)
        assert timedelta(seconds=step / 2) < high < timedelta(seconds=step)


def test_backoff_is_capped() -> None:
    assert retry_delay(30, base_seconds=10, cap_seconds=300, jitter=0.999) < timedelta(seconds=300)


def test_jitter_outside_its_range_is_refused() -> None:
    with pytest.raises(ValueError):
        retry_delay(1, base_seconds=1, cap_seconds=1, jitter=1.0)


def test_quiet_hours_over_midnight_defer_to_the_morning_in_the_recipients_zone() -> None:
    quiet = QuietHours(time(22, 0), time(7, 30), "Asia/Shanghai")
    late_evening = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai
    assert quiet.next_allowed(late_evening) == datetime(2026, 11, 23, 23, 30, tzinfo=UTC)  # 07:30 next day
    early_morning = datetime(2026, 11, 23, 21, 0, tzinfo=UTC)  # 05:00 in Shanghai
    assert quiet.next_allowed(early_morning) == datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
    noon = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
    assert quiet.next_allowed(noon) == noon


def test_quiet_hours_within_a_day() -> None:
    quiet = QuietHours(time(12, 0), time(14, 0), "Asia/Shanghai")
    assert quiet.next_allowed(datetime(2026, 11, 23, 4, 30, tzinfo=UTC)) == datetime(
        2026, 11, 23, 6, 0, tzinfo=UTC
    )
    assert QuietHours.from_dict(quiet.to_dict()) == quiet
