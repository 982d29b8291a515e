"""An injectable clock: production reads the system time, tests move a settable one."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from eventsourcing.domain import CanCreateTimestamp


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SettableClock:
    """A clock tests control.

    With `start` it stands still at that instant until `advance` moves it (unit tests). Without it, it runs with
    the system time shifted by `shift` (a service under integration tests runs on a chosen date, and a restarted
    process carries on from where the shift puts it). `advance` moves it forward for every reader at once."""

    def __init__(self, start: datetime | None = None, *, shift: timedelta = timedelta(0)) -> None:
        self._offset = shift
        self._fixed = start
        self._lock = threading.Lock()
        self._on_advance: list[Callable[[], None]] = []

    def on_advance(self, callback: Callable[[], None]) -> None:
        """Called after every `advance`: a scheduler sleeping until the next deadline wakes to look again."""
        self._on_advance.append(callback)

    def now(self) -> datetime:
        with self._lock:
            base = self._fixed if self._fixed is not None else datetime.now(UTC)
            return base + self._offset

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._offset += delta
        for callback in list(self._on_advance):
            callback()
        return self.now()


def stamp_events_with(clock: Clock) -> None:
    """Domain events take their timestamp from the service's clock, not the machine's, so that read models and
    deadlines derived from `event.timestamp` agree with the time the domain decides by. One clock per process."""
    CanCreateTimestamp.create_timestamp = staticmethod(clock.now)  # type: ignore[method-assign]
