"""Read-model projections: a service's own events into PostgreSQL tables, position in the same transaction."""

from __future__ import annotations

import logging
from typing import Any, Protocol

import asyncpg

from shared.db import Connection, system_transaction
from shared.eventstore import ServiceApplication
from shared.logtail import LogTail
from shared.telemetry import PROJECTED

logger = logging.getLogger("lianxin.projection")


class Projection(Protocol):
    name: str

    async def apply(self, conn: Connection, event: Any, notification_id: int) -> None: ...


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
            async with system_transaction(self.pool) as conn:
                # Row lock: a second instance of the service waits here and skips what this one applied.
                await conn.execute("INSERT INTO projection_position VALUES ($1, 0) ON CONFLICT DO NOTHING",
                                   self.projection.name)
                applied = await conn.fetchval(
                    "SELECT position FROM projection_position WHERE name = $1 FOR UPDATE", self.projection.name)
                for notification in (n for n in batch if n.id > applied):
                    event = self.app.mapper.to_domain_event(notification)
                    await self.projection.apply(conn, event, notification.id)
                # Never backwards: a slower instance finishing an old batch must not hand events out again.
                await conn.execute(
                    "INSERT INTO projection_position (name, position) VALUES ($1, $2) "
                    "ON CONFLICT (name) DO UPDATE SET position = GREATEST(projection_position.position, "
                    "EXCLUDED.position)",
                    self.projection.name, batch[-1].id)
            self.position = batch[-1].id
            PROJECTED.labels(self.service, self.projection.name).inc(len(batch))
