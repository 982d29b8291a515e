"""Retry delays: exponential in the attempt number, capped, with jitter so failed receivers are not stampeded."""

from __future__ import annotations

from datetime import timedelta


def retry_delay(attempt: int, *, base_seconds: float, cap_seconds: float, jitter: float) -> timedelta:
    """Delay after the `attempt`th failure. `jitter` in [0, 1) is drawn by the caller, so events replay exactly.

    "Equal jitter": half the exponential step is fixed and half random, so a retry never comes immediately.
    """
    if not 0 <= jitter < 1:
        raise ValueError("jitter must be in [0, 1)")
    step = min(cap_seconds, base_seconds * 2 ** max(0, attempt - 1))
    return timedelta(seconds=step / 2 + step / 2 * jitter)
