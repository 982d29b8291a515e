"""Read-model projections: a service's own events into PostgreSQL tables, position in the same transaction.

An event the projection cannot apply (a value PostgreSQL refuses, a projection bug) is parked: its id and the
error go to `projection_parked`, an error is logged, a metric counts it and `/readyz` fails until an operator
has looked, while the projection goes on with the events after it, so one bad event blocks no tenant. Failures
that may pass (connection lost, a deadlock) leave the position where it is and the batch is retried.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

import asyncpg

from shared.db import Connection, system_transaction
from shared.eventstore import ServiceApplication
from shared.logtail import LogTail
from shared.telemetry import PROJECTED, PROJECTION_PARKED

logger = logging.getLogger("lianxin.projection")

# What retrying cannot cure: the value or the projection is wrong, not the connection.
PERMANENT = (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError, asyncpg.SyntaxOrAccessError,
             KeyError, ValueError, TypeError, AttributeError, LookupError)


class Projection(Protocol):
    name: str

    async def apply(self, conn: Connection, event: Any, notification_id: int) -> None: ...


def is_permanent(exc: BaseException) -> bool:
    return isinstance(exc, PERMANENT) and not isinstance(exc, asyncio.TimeoutError | ConnectionError)


class ProjectionRunner:
    def __init__(self, *, service: str, app: ServiceApplication, pool: asyncpg.Pool, listen_url: str,
                 projection: Projection, batch_size: int = 500) -> None:
        self.service = service
        self.app = app
        self.pool = pool
        self.projection = projection
        self.tail = LogTail(app, listen_url, batch_size=batch_size)
        self.position = 0

    async def run(self) -> None:
        self.position = await self.pool.fetchval(
            "SELECT position FROM projection_position WHERE name = $1", self.projection.name) or 0
        async for batch in self.tail.batches(self.position):
            try:
                await self._apply_batch(batch, careful=False)
            except Exception as exc:
                if not is_permanent(exc):
                    raise
                # The batch rolled back whole; again, one savepoint per event, parking what cannot be applied.
                await self._apply_batch(batch, careful=True)
            self.position = batch[-1].id
            PROJECTED.labels(self.service, self.projection.name).inc(len(batch))

    async def _apply_batch(self, batch: list[Any], *, careful: bool) -> None:
        async with system_transaction(self.pool) as conn:
            # Row lock: a second instance of the service waits here and skips what this one applied.
            await conn.execute("INSERT INTO projection_position VALUES ($1, 0) ON CONFLICT DO NOTHING",
                               self.projection.name)
            applied = await conn.fetchval(
                "SELECT position FROM projection_position WHERE name = $1 FOR UPDATE", self.projection.name)
            for notification in (n for n in batch if n.id > applied):
                if careful:
                    await self._apply_or_park(conn, notification)
                else:
                    event = self.app.mapper.to_domain_event(notification)
                    await self.projection.apply(conn, event, notification.id)
            # Never backwards: a slower instance finishing an old batch must not hand events out again.
            await conn.execute(
                "INSERT INTO projection_position (name, position) VALUES ($1, $2) "
                "ON CONFLICT (name) DO UPDATE SET position = GREATEST(projection_position.position, "
                "EXCLUDED.position)",
                self.projection.name, batch[-1].id)

    async def _apply_or_park(self, conn: Connection, notification: Any) -> None:
        try:
            async with conn.transaction():  # a savepoint: a refused event leaves nothing half-applied
                event = self.app.mapper.to_domain_event(notification)
                await self.projection.apply(conn, event, notification.id)
        except Exception as exc:
            if not is_permanent(exc):
                raise
            error = f"{type(exc).__name__}: {exc}"[:1000]
            await conn.execute(
                "INSERT INTO projection_parked (name, notification_id, topic, error) VALUES ($1, $2, $3, $4) "
                "ON CONFLICT DO NOTHING", self.projection.name, notification.id, notification.topic, error)
            PROJECTION_PARKED.labels(self.service, self.projection.name).inc()
            logger.error("projection parked an event it cannot apply; the read model misses it",
                         extra={"projection": self.projection.name, "notification_id": notification.id,
                                "topic": notification.topic, "error": type(exc).__name__})


async def parked_events(pool: asyncpg.Pool) -> tuple[bool, str]:
    """Readiness: not ready while any event is parked (an operator fixes the cause and deletes the row)."""
    rows = await pool.fetch("SELECT name, count(*) AS n FROM projection_parked GROUP BY name ORDER BY name")
    if not rows:
        return True, "no parked events"
    return False, "parked events: " + ", ".join(f"{r['name']}={r['n']}" for r in rows)
