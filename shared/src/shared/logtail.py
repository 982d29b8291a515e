"""Tails an application's notification log in batches, woken by PostgreSQL LISTEN; a slow poll is only a safety net.

The recorder NOTIFYs in every insert, so a tail that is caught up sleeps until the next commit instead of asking
every second (an idle service commits next to nothing). A lost LISTEN connection wakes it at once, and the
supervisor restarts it from its durable position.

A `LogShare` lets a second reader of the same log in the same process (the relay) take the batches the first one
(the projection runner) has read, instead of reading them again: one select of the log per commit, not two. See
`LogTail.batches` for why that loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections import deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
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


async def warm_keys(app: ServiceApplication, batch: list[Notification]) -> None:
    """`prefetch_keys` from the event loop: in a worker thread (it may query), and only when some key of the batch
    is not cached. Usually none is missing (the command that created a key caches it, the projection runner warms
    the batch the relay then takes), and the hop to a thread costs more than the check."""
    needs = getattr(app.mapper, "needs_prefetch", None)
    if batch and needs is not None and needs(batch):
        await anyio.to_thread.run_sync(prefetch_keys, app, batch)


@dataclass(frozen=True)
class Decoded(Notification):
    """A notification with its domain event, as the reader that read it decoded it: a reader it is shared with (the
    relay) uses that event instead of decrypting and decoding the same state again. Read-only for every reader."""

    event: Any = None


def decoded(notification: Notification, event: Any) -> Decoded:
    return Decoded(**vars(notification), event=event)


def event_of(app: ServiceApplication, notification: Notification) -> Any:
    """The notification's domain event: the one decoded with it, else decoded now."""
    if isinstance(notification, Decoded) and notification.event is not None:
        return notification.event
    return app.mapper.to_domain_event(notification)


@dataclass(frozen=True)
class SharedBatch:
    """What one reader read: the whole log after `after` up to its last notification (ids have gaps, never holes:
    the recorder's table lock makes commit order notification-id order). `complete`: shorter than that reader's
    batch size, so the log ended there when it was read. `read_started`: the event loop's time just before the
    select was sent, so the read saw every commit whose NOTIFY this process had received by then."""

    sequence: int
    after: int
    notifications: list[Notification]
    complete: bool
    read_started: float


class LogShare:
    """Batches of one application's log read by one reader in this process, for the other readers in it."""

    KEEP = 16  # batches of up to 500 notifications; a tail that misses one reads the log itself

    def __init__(self) -> None:
        self.readers = 0  # readers that offer their batches (projection runners of this application)
        self.sequence = 0
        self._batches: deque[SharedBatch] = deque(maxlen=self.KEEP)
        self._listeners: set[asyncio.Event] = set()

    def offer(
        self, after: int, notifications: list[Notification], *, complete: bool, read_started: float
    ) -> None:
        self.sequence += 1
        self._batches.append(SharedBatch(self.sequence, after, notifications, complete, read_started))
        for wake in self._listeners:
            wake.set()

    def since(self, sequence: int) -> list[SharedBatch]:
        return [batch for batch in self._batches if batch.sequence > sequence]

    @contextlib.contextmanager
    def listening(self, wake: asyncio.Event) -> Iterator[None]:
        self._listeners.add(wake)
        try:
            yield
        finally:
            self._listeners.discard(wake)


def log_share(app: ServiceApplication) -> LogShare:
    """The application's one share (every reader in the process holds the same application object)."""
    share: LogShare | None = app.__dict__.get("_log_share")
    if share is None:
        share = app.__dict__.setdefault("_log_share", LogShare())
    return share


class LogTail:
    def __init__(
        self,
        app: ServiceApplication,
        listen_url: str,
        *,
        batch_size: int = 500,
        poll_seconds: float = 30.0,
        share: LogShare | None = None,
        share_wait: float = 0.25,
    ) -> None:
        self.app = app
        self.listen_url = listen_url
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.share = share
        self.share_wait = share_wait
        self.selects = 0  # reads of the log this tail made itself
        self._wake = asyncio.Event()
        self._notified_at = -math.inf

    def _on_notify(self, *_: Any) -> None:
        self._notified_at = asyncio.get_running_loop().time()
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
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
                except TimeoutError:
                    self._notified_at = (
                        asyncio.get_running_loop().time()
                    )  # the safety net reads as if notified
        finally:
            if conn is not None:
                await conn.close()

    async def batches(self, after: int) -> AsyncIterator[list[Notification]]:
        """Yields batches after `after`; the caller records its position before asking for the next one.

        Notification ids have gaps (rolled-back inserts), so the position is the last id seen, never a count.

        With a share, the batches another reader offers are taken when they continue the log from this tail's
        position (trimmed to what is after it); one that starts beyond it is skipped. A NOTIFY this tail received
        counts as answered only by a complete batch that continued from its position and whose read started after
        that NOTIFY arrived (so it saw the commit), or by a read of its own: when no such batch comes within
        `share_wait` (the other reader is slow, stopped, or another instance took the batch), this tail reads the
        log itself, to its end. Every commit NOTIFYs, so nothing is left unread; at worst it is read twice.
        """
        if self.share is None:
            async for batch in self._batches_alone(after):
                yield batch
            return
        loop = asyncio.get_running_loop()
        position, seen, answered = after, self.share.sequence, -math.inf
        self._notified_at = loop.time() - self.share_wait  # at start: read to the end at once
        with self.share.listening(self._wake):
            async for _ in self.wakeups():
                for shared in self.share.since(seen):
                    seen = shared.sequence
                    if shared.after > position:
                        continue  # a hole between this tail's position and that batch
                    part = [n for n in shared.notifications if n.id > position]
                    if part:
                        await warm_keys(self.app, part)
                        yield part
                        position = part[-1].id
                    if shared.complete:
                        answered = max(answered, shared.read_started)
                if self._notified_at <= answered:
                    continue  # nothing committed that this tail has not seen read: wait for a NOTIFY or a batch
                waited = loop.time() - self._notified_at
                if self.share.readers and waited < self.share_wait:
                    await self._sleep(self.share_wait - waited)
                    self._wake.set()  # look again without waiting for the next NOTIFY
                    continue
                started = loop.time()
                async for batch in self._read_to_end(position):
                    yield batch
                    position = batch[-1].id
                answered = started

    async def _batches_alone(self, after: int) -> AsyncIterator[list[Notification]]:
        position = after
        async for _ in self.wakeups():
            async for batch in self._read_to_end(position):
                yield batch
                position = batch[-1].id

    async def _read_to_end(self, position: int) -> AsyncIterator[list[Notification]]:
        while True:
            batch = await anyio.to_thread.run_sync(self._select, position)
            if not batch:
                return
            yield batch
            position = batch[-1].id
            if len(batch) < self.batch_size:
                return  # read to the end: wait for the next NOTIFY instead of an empty select

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)

    def _select(self, position: int) -> list[Notification]:
        self.selects += 1
        batch = list(
            self.app.recorder.select_notifications(
                start=position, limit=self.batch_size, inclusive_of_start=False
            )
        )
        prefetch_keys(self.app, batch)
        return batch

    def max_id(self) -> int:
        return self.app.recorder.max_notification_id() or 0
