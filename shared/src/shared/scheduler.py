"""Deadlines as rows derived from events, fired by a scheduler that survives restarts.

Rows are written by a service's projection (in the transaction that records its read-model position), so a
deadline exists exactly when the events say it should. The scheduler takes due rows with
`FOR UPDATE SKIP LOCKED` (several instances never fire one row together), runs the handler, and marks the row
fired in the same transaction. A crash after the handler's effect but before the commit fires it again, so
handlers issue idempotent commands (the aggregate ignores a deadline it has already applied).
"""

from __future__ import annotations

import asyncio
import contextlib
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


# Creates a deadline or moves it: one that has fired or was cancelled stays as it is.
_MOVE_OPEN = (
    "ON CONFLICT (id) DO UPDATE SET due_at = EXCLUDED.due_at, payload = EXCLUDED.payload "
    "WHERE deadlines.fired_at IS NULL AND deadlines.cancelled_at IS NULL"
)


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
        f"VALUES ($1, $2, $3, $4, $5, $6::jsonb) {_MOVE_OPEN}",
        tenant_id,
        id,
        kind,
        subject_id,
        due_at,
        json.dumps(payload or {}, default=str),
    )


async def schedule_all(
    conn: Connection, *, tenant_id: str, subject_id: str, due: Mapping[str, tuple[str, datetime]]
) -> None:
    """`schedule` for several deadlines of one subject, without payloads, in one statement: id -> (kind, due_at)."""
    if not due:
        return
    await conn.execute(
        "INSERT INTO deadlines (tenant_id, id, kind, subject_id, due_at, payload) "
        "SELECT $1, d.id, d.kind, $2, d.due_at, '{}'::jsonb FROM unnest($3::text[], $4::text[], $5::timestamptz[]) "
        f"AS d(id, kind, due_at) {_MOVE_OPEN}",
        tenant_id,
        subject_id,
        list(due),
        [kind for kind, _ in due.values()],
        [at for _, at in due.values()],
    )


async def cancel(conn: Connection, id: str, at: datetime) -> None:
    await conn.execute("UPDATE deadlines SET cancelled_at = $2 WHERE id = $1 AND fired_at IS NULL", id, at)


# By the partial index deadlines_open_by_subject (shared.db's migrations).
CANCEL_FOR = (
    "UPDATE deadlines SET cancelled_at = $2 WHERE subject_id = $1 AND fired_at IS NULL "
    "AND cancelled_at IS NULL AND ($3::text[] IS NULL OR kind = ANY($3::text[]))"
)


async def cancel_for(conn: Connection, subject_id: str, at: datetime, kinds: list[str] | None = None) -> None:
    """Cancel every open deadline of a subject (of the given kinds): the item it chased has closed."""
    await conn.execute(CANCEL_FOR, subject_id, at, kinds)


DEADLINES_CHANNEL = "lianxin_deadlines"


class DeadlineScheduler:
    """Fires due deadlines, then sleeps until the next one is due (at most `idle_seconds`).

    It does not poll: a new or moved deadline wakes it through LISTEN (a trigger NOTIFYs at commit), and so does
    a test clock that moves. Rows that stay due because their handler failed are retried every `retry_seconds`.
    """

    def __init__(
        self,
        *,
        service: str,
        pool: asyncpg.Pool,
        clock: Clock,
        handlers: Mapping[str, DeadlineHandler],
        listen_url: str | None = None,
        idle_seconds: float = 30.0,
        retry_seconds: float = 1.0,
        batch: int = 50,
    ) -> None:
        self.service = service
        self.pool = pool
        self.clock = clock
        self.handlers = handlers
        self.listen_url = listen_url
        self.idle_seconds = idle_seconds
        self.retry_seconds = retry_seconds
        self.batch = batch
        self._wake = asyncio.Event()
        self._planned_wake = float("inf")  # clock time (epoch seconds) of the next planned wake-up

    async def run(self) -> None:
        loop = asyncio.get_running_loop()

        def wake(*_: Any) -> None:
            loop.call_soon_threadsafe(self._wake.set)

        def on_notify(_conn: Any, _pid: int, _channel: str, payload: object) -> None:
            # The payload is when the soonest new or moved deadline is due: one due after the planned wake-up
            # (a registration's deadlines, months ahead) changes nothing. No payload, or one we cannot read: wake.
            with contextlib.suppress(ValueError):
                if float(str(payload)) >= self._planned_wake:
                    return
            self._wake.set()

        on_advance = getattr(self.clock, "on_advance", None)
        if on_advance is not None:
            on_advance(wake)
        listener = await asyncpg.connect(self.listen_url, timeout=5) if self.listen_url else None
        try:
            if listener is not None:
                await listener.add_listener(DEADLINES_CHANNEL, on_notify)
                listener.add_termination_listener(wake)
            while True:
                self._wake.clear()
                # Until the next wake-up is planned, every NOTIFY wakes: a deadline committed after this pass read
                # the table must not wait for the idle timeout (a NOTIFY is ignored when due after _planned_wake).
                self._planned_wake = float("inf")
                fired = await self.fire_due()
                if fired >= self.batch:
                    continue
                if listener is not None and listener.is_closed():
                    raise ConnectionError("LISTEN connection for deadlines closed")
                sleep = await self._sleep_seconds()
                self._planned_wake = self.clock.now().timestamp() + sleep
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=sleep)
        finally:
            if listener is not None:
                await listener.close()

    async def _sleep_seconds(self) -> float:
        async with system_transaction(self.pool) as conn:
            next_due = await conn.fetchval(
                "SELECT min(due_at) FROM deadlines WHERE fired_at IS NULL AND cancelled_at IS NULL "
                "AND kind = ANY($1::text[])",
                list(self.handlers),
            )
        if next_due is None:
            return self.idle_seconds
        until = (next_due - self.clock.now()).total_seconds()
        # Already due after a pass: its handler failed (or another instance holds it); retry, do not spin.
        return self.retry_seconds if until <= 0 else min(until, self.idle_seconds)

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
