"""Retry policy and crash points."""

from __future__ import annotations

from typing import Any

import pytest
from nats.errors import TimeoutError as NatsTimeout

from shared import failpoints
from shared.consumer import backoff_seconds, fetch


@pytest.mark.parametrize("delivered", [1, 2, 5, 20])
def test_backoff_is_jittered_below_an_exponential_cap(delivered: int) -> None:
    cap = min(30.0, 0.5 * 2 ** (delivered - 1))
    samples = [backoff_seconds(delivered) for _ in range(200)]
    assert all(0 <= s <= cap for s in samples)
    assert len(set(samples)) > 1


def test_failpoints_never_fire_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIANXIN_FAILPOINTS", "relay.after_publish")
    monkeypatch.setenv("LIANXIN_ENV", "production")
    failpoints.hit("relay.after_publish")  # returning at all is the assertion: an armed point would exit


def test_an_unarmed_failpoint_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIANXIN_FAILPOINTS", "something.else")
    monkeypatch.delenv("LIANXIN_ENV", raising=False)
    failpoints.hit("relay.after_publish")


class ExpiringPull:
    def __init__(self, error: BaseException) -> None:
        self.error = error

    async def fetch(self, **_: Any) -> list[Any]:  # the pull subscription's (batch, timeout)
        raise self.error


@pytest.mark.parametrize("error", [NatsTimeout(), TimeoutError()])
async def test_a_pull_that_expires_either_way_is_an_empty_one(error: BaseException) -> None:
    """nats-py raises a plain asyncio.TimeoutError when the deadline ran out before its lingering request: it used
    to escape and restart the consumer's loop (seen on a loaded machine in analytics' landing loops)."""
    assert await fetch(ExpiringPull(error), 10) == []  # type: ignore[arg-type]
