"""Read-model projections: a service's own events into PostgreSQL tables, position in the same transaction.

One runner serves all of a service's projections: one wake-up, one read of the log and one decoding of each
event, one transaction that applies the batch to every projection and moves each one's position. The log is read
inside that transaction, after the position rows are locked, so a second instance of the service waits for the
lock and then reads on from where the first one stopped.

An event a projection cannot apply (a value PostgreSQL refuses, a projection bug) is parked: its id and the
error go to `projection_parked`, an error is logged, a metric counts it and `/readyz` fails until an operator
has looked, while the projections go on with the events after it, so one bad event blocks no tenant. Failures
that may pass (connection lost, a deadlock) leave the positions where they are and the batch is retried.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any, Protocol, cast

import asyncpg
from eventsourcing.persistence import Notification

from shared.db import Connection, system_transaction
from shared.eventstore import ServiceApplication
from shared.logtail import LogTail, decoded, event_of, log_share, warm_keys
from shared.telemetry import PROJECTED, PROJECTION_PARKED

logger = logging.getLogger("lianxin.projection")

PERMANENT = (
    asyncpg.DataError,
    asyncpg.IntegrityConstraintViolationError,
    asyncpg.SyntaxOrAccessError,
    KeyError,
    ValueError,
    TypeError,
    AttributeError,
    LookupError,
)


class Projection(Protocol):
    name: str

    async def apply(self, conn: Connection, event: Any, notification_id: int) -> None: ...


class ManyAtOnce(Protocol):
    """A projection that may also take a batch's events together, in order (`apply_many`), e.g. in one
    `executemany`. It writes only its own tables and reads no other projection's, so it may be applied after the
    others within the batch's transaction rather than interleaved with them; a batch applied carefully (one
    savepoint per event, parking what fails) still goes through `apply`."""

    async def apply_many(self, conn: Connection, events: Sequence[tuple[Any, int]]) -> None: ...


def is_permanent(exc: BaseException) -> bool:
    return isinstance(exc, PERMANENT) and not isinstance(exc, asyncio.TimeoutError | ConnectionError)


class ProjectionRunner:
    def __init__(
        self,
        *,
        service: str,
        app: ServiceApplication,
        pool: asyncpg.Pool,
        listen_url: str,
        projections: Sequence[Projection],
        batch_size: int = 500,
    ) -> None:
        self.service = service
        self.app = app
        self.pool = pool
        self.projections = list(projections)
        self.names = [projection.name for projection in self.projections]
        self.batch_size = batch_size
        self.tail = LogTail(app, listen_url, batch_size=batch_size)
        recorder: Any = app.recorder
        self.select = (
            f"SELECT notification_id, originator_id, originator_version, topic, state "
            f'FROM "{recorder.datastore.schema}"."{recorder.events_table_name}" '
            f"WHERE notification_id > $1 ORDER BY notification_id LIMIT $2"
        )
        self.position = 0  # the lowest position of the projections after the last batch
        self.share = log_share(app)  # each batch as soon as it is read, for the relay (shared.logtail)
        self.share.readers += 1

    async def run(self) -> None:
        async for _ in self.tail.wakeups():
            while await self.apply_batch() >= self.batch_size:
                pass

    async def apply_batch(self) -> int:
        """Apply the next batch to every projection in one transaction; returns how many events it read."""
        try:
            return await self._apply_batch(careful=False)
        except Exception as exc:
            if not is_permanent(exc):
                raise
            # The batch rolled back whole; again, one savepoint per event and projection, parking what fails.
            return await self._apply_batch(careful=True)

    async def _apply_batch(self, *, careful: bool) -> int:
        async with system_transaction(self.pool) as conn:
            # Row locks: a second instance of the service waits here and skips what this one applied. The rows are
            # inserted the first time only (a statement less in every batch after that).
            rows = await self._lock_positions(conn)
            if len(rows) < len(self.names):
                await conn.execute(
                    "INSERT INTO projection_position SELECT unnest($1::text[]), 0 ON CONFLICT DO NOTHING",
                    self.names,
                )
                rows = await self._lock_positions(conn)
            applied = {row["name"]: row["position"] for row in rows}
            after = min(applied.values())
            read_started = asyncio.get_running_loop().time()
            records = await conn.fetch(self.select, after, self.batch_size)
            notifications = [
                Notification(
                    id=r["notification_id"],
                    originator_id=r["originator_id"],
                    originator_version=r["originator_version"],
                    topic=r["topic"],
                    state=bytes(r["state"]),
                )
                for r in records
            ]
            await warm_keys(self.app, notifications)
            if not careful:
                # Decoded once, here, for the projections and the relay alike (an event that fails to decode rolls
                # the batch back, and the careful pass offers it undecoded).
                notifications = [decoded(n, self.app.mapper.to_domain_event(n)) for n in notifications]
            # Offered before the projections apply it: the batch is committed log (the runner inserts no events),
            # so the relay publishes it now instead of after this transaction, whatever becomes of it.
            self.share.offer(
                after, notifications, complete=len(records) < self.batch_size, read_started=read_started
            )
            together: dict[str, list[tuple[Any, int]]] = {}
            for notification in notifications:
                due = [p for p in self.projections if notification.id > applied[p.name]]
                if not due:
                    continue
                if careful:
                    await self._apply_or_park(conn, notification, due)
                else:
                    event = event_of(self.app, notification)
                    for projection in due:
                        if hasattr(projection, "apply_many"):
                            together.setdefault(projection.name, []).append((event, notification.id))
                        else:
                            await projection.apply(conn, event, notification.id)
            for projection in self.projections:
                if projection.name in together:
                    await cast(ManyAtOnce, projection).apply_many(conn, together[projection.name])
            if records:
                # Never backwards: a slower instance finishing an old batch must not hand events out again.
                await conn.execute(
                    "UPDATE projection_position SET position = GREATEST(position, $2) WHERE name = ANY($1::text[])",
                    self.names,
                    records[-1]["notification_id"],
                )
        if records:
            self.position = records[-1]["notification_id"]
            for projection in self.projections:
                PROJECTED.labels(self.service, projection.name).inc(len(records))
        return len(records)

    async def _lock_positions(self, conn: Connection) -> list[Any]:
        return list(
            await conn.fetch(
                "SELECT name, position FROM projection_position WHERE name = ANY($1::text[]) "
                "ORDER BY name FOR UPDATE",
                self.names,
            )
        )

    async def _apply_or_park(
        self, conn: Connection, notification: Notification, projections: list[Projection]
    ) -> None:
        try:
            event = self.app.mapper.to_domain_event(notification)
        except Exception as exc:
            if not is_permanent(exc):
                raise
            for projection in projections:
                await self._park(conn, projection, notification, exc)
            return
        for projection in projections:
            try:
                async with conn.transaction():  # a savepoint: a refused event leaves nothing half-applied
                    await projection.apply(conn, event, notification.id)
            except Exception as exc:
                if not is_permanent(exc):
                    raise
                await self._park(conn, projection, notification, exc)

    async def _park(
        self, conn: Connection, projection: Projection, notification: Notification, exc: BaseException
    ) -> None:
        error = f"{type(exc).__name__}: {exc}"[:1000]
        await conn.execute(
            "INSERT INTO projection_parked (name, notification_id, topic, error) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT DO NOTHING",
            projection.name,
            notification.id,
            notification.topic,
            error,
        )
        PROJECTION_PARKED.labels(self.service, projection.name).inc()
        logger.error(
            "projection parked an event it cannot apply; the read model misses it",
            extra={
                "projection": projection.name,
                "notification_id": notification.id,
                "topic": notification.topic,
                "error": type(exc).__name__,
            },
        )


async def parked_events(pool: asyncpg.Pool) -> tuple[bool, str]:
    """Readiness: not ready while any event is parked (an operator fixes the cause and deletes the row)."""
    rows = await pool.fetch("SELECT name, count(*) AS n FROM projection_parked GROUP BY name ORDER BY name")
    if not rows:
        return True, "no parked events"
    return False, "parked events: " + ", ".join(f"{r['name']}={r['n']}" for r in rows)
