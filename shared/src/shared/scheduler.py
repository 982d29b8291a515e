"""Deadlines as rows derived from events, fired by a scheduler that survives restarts.

Rows are written by a service's projection (in the transaction that records its read-model position), so a
deadline exists exactly when the events say it should. The scheduler takes due rows with
`FOR UPDATE SKIP LOCKED` (several instances never fire one row together), runs the handler, and marks the row
fired in the same transaction. A crash after the handler's effect but before the commit fires it again, so
handlers issue idempotent commands (the aggregate ignores a deadline it has already applied).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from shared.clock import Clock
from shared.db import Connection, system_transaction
from shared.telemetry import DEADLINES_FIRED

logger = logging.getLogger("lianxin.scheduler")


@dataclass(frozen=True)
class Deadline:
    id: str
    tenant_id: str
    kind: str
    subject_id: str
    due_at: datetime
    payload: dict[str, Any]


DeadlineHandler = Callable[[Deadline], Awaitable[None]]


async def schedule(
    conn: Connection,
    *,
    tenant_id: str,
    id: str,
    kind: str,
    subject_id: str,
    due_at: datetime,
    payload: dict[str, Any] | None = None,
) -> None:
    """Create or move a deadline; one that has fired or was cancelled stays as it is."""
    await conn.execute(
        "INSERT INTO deadlines (tenant_id, id, kind, subject_id, due_at, payload) "
        "VALUES ($1, $2, $3, $4, $5, $6::jsonb) ON CONFLICT (id) DO UPDATE "
        "SET due_at = EXCLUDED.due_at, payload = EXCLUDED.payload "
        "WHERE deadlines.fired_at IS NULL AND deadlines.cancelled_at IS NULL",
        tenant_id,
        id,
        kind,
        subject_id,
        due_at,
        json.dumps(payload or {}, default=str),
    )


async def cancel(conn: Connection, id: str, at: datetime) -> None:
    await conn.execute("UPDATE deadlines SET cancelled_at = $2 WHERE id = $1 AND fired_at IS NULL", id, at)


async def cancel_for(conn: Connection, subject_id: str, at: datetime, kinds: list[str] | None = None) -> None:
    """Cancel every open deadline of a subject (of the given kinds): the item it chased has closed."""
    await conn.execute(
        "UPDATE deadlines SET cancelled_at = $2 WHERE subject_id = $1 AND fired_at IS NULL "
        "AND cancelled_at IS NULL AND ($3::text[] IS NULL OR kind = ANY($3::text[]))",
        subject_id,
        at,
        kinds,
    )


class DeadlineScheduler:
    def __init__(
        self,
        *,
        service: str,
        pool: asyncpg.Pool,
        clock: Clock,
        handlers: Mapping[str, DeadlineHandler],
        poll_seconds: float = 1.0,
        batch: int = 50,
    ) -> None:
        self.service = service
        self.pool = pool
        self.clock = clock
        self.handlers = handlers
        self.poll_seconds = poll_seconds
        self.batch = batch

    async def run(self) -> None:
        while True:
            fired = await self.fire_due()
            if fired < self.batch:
                await asyncio.sleep(self.poll_seconds)

    async def fire_due(self) -> int:
        """Fire what is due now; returns how many rows it took."""
        now = self.clock.now()
        async with system_transaction(self.pool) as conn:
            rows = await conn.fetch(
                "SELECT tenant_id, id, kind, subject_id, due_at, payload FROM deadlines "
                "WHERE fired_at IS NULL AND cancelled_at IS NULL AND due_at <= $1 AND kind = ANY($2::text[]) "
                "ORDER BY due_at LIMIT $3 FOR UPDATE SKIP LOCKED",
                now,
                list(self.handlers),
                self.batch,
            )
            for row in rows:
                deadline = Deadline(
                    row["id"],
                    row["tenant_id"],
                    row["kind"],
                    row["subject_id"],
                    row["due_at"],
                    json.loads(row["payload"]),
                )
                try:
                    await self.handlers[deadline.kind](deadline)
                except Exception as exc:
                    # Stays due: the next pass retries it. The error is kept on the row for operators.
                    logger.exception("deadline handler failed", extra={"deadline": deadline.id})
                    await conn.execute(
                        "UPDATE deadlines SET attempts = attempts + 1, last_error = $2 WHERE id = $1",
                        deadline.id,
                        repr(exc)[:500],
                    )
                    continue
                await conn.execute(
                    "UPDATE deadlines SET fired_at = $2, attempts = attempts + 1 WHERE id = $1",
                    deadline.id,
                    now,
                )
                DEADLINES_FIRED.labels(self.service, deadline.kind).inc()
        return len(rows)
