"""Tails an application's notification log in batches, woken by PostgreSQL LISTEN; a slow poll is only a safety net.

The recorder NOTIFYs in every insert, so a tail that is caught up sleeps until the next commit instead of asking
every second (an idle service commits next to nothing). A lost LISTEN connection wakes it at once, and the
supervisor restarts it from its durable position."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import anyio
import asyncpg
from eventsourcing.persistence import Notification

from shared.eventstore import ServiceApplication


def prefetch_keys(app: ServiceApplication, batch: list[Notification]) -> None:
    """shared.shredding: the subject keys of a whole batch in one query, before its events are decoded."""
    prefetch = getattr(app.mapper, "prefetch", None)
    if prefetch is not None and batch:
        prefetch(batch)


class LogTail:
    def __init__(
        self, app: ServiceApplication, listen_url: str, *, batch_size: int = 500, poll_seconds: float = 30.0
    ) -> None:
        self.app = app
        self.listen_url = listen_url
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()

    def _on_notify(self, *_: Any) -> None:
        self._wake.set()

    async def wakeups(self) -> AsyncIterator[None]:
        """Yields whenever the log may have grown: at once, then after each NOTIFY (or the safety-net timeout).

        The caller reads until it gets a short batch before asking for the next wake-up. A commit during that
        read has NOTIFYed and set the event (cleared before the caller's first read), so nothing is missed."""
        channel = getattr(self.app.recorder, "channel_name", None)
        conn = await asyncpg.connect(self.listen_url, timeout=5) if channel else None
        try:
            if conn is not None:
                await conn.add_listener(channel, self._on_notify)  # type: ignore[arg-type]
                conn.add_termination_listener(self._on_notify)
            while True:
                self._wake.clear()
                yield
                if conn is not None and conn.is_closed():
                    raise ConnectionError("LISTEN connection closed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
        finally:
            if conn is not None:
                await conn.close()

    async def batches(self, after: int) -> AsyncIterator[list[Notification]]:
        """Yields batches after `after`; the caller records its position before asking for the next one.

        Notification ids have gaps (rolled-back inserts), so the position is the last id seen, never a count.
        """
        position = after
        async for _ in self.wakeups():
            while True:
                batch = await anyio.to_thread.run_sync(self._select, position)
                if not batch:
                    break
                yield batch
                position = batch[-1].id
                if len(batch) < self.batch_size:
                    break  # read to the end: wait for the next NOTIFY instead of an empty select

    def _select(self, position: int) -> list[Notification]:
        batch = list(
            self.app.recorder.select_notifications(
                start=position, limit=self.batch_size, inclusive_of_start=False
            )
        )
        prefetch_keys(self.app, batch)
        return batch

    def max_id(self) -> int:
        return self.app.recorder.max_notification_id() or 0
