"""Notify's read models and deadlines, projected from its own events, under row-level security.

The schedule projection turns delivery and reminder events into deadline rows (shared.scheduler): a row per
attempt due at its backoff time, a row per reminder occurrence; closing an item cancels its rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from notify.domain import Delivery, InboxItem, Reminder
from shared.db import Connection, tenant_policy
from shared.fieldcrypt import FieldCipher
from shared.scheduler import cancel_for, schedule
from shared.sealed import seal_column

ATTEMPT = "delivery-attempt"
ERASED = "—"  # title and body of an item whose named member was erased (their events read back None there)
REMINDER = "reminder"

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE inbox_items (
        tenant_id text NOT NULL,
        id uuid PRIMARY KEY,
        recipient_role text NOT NULL,
        recipient_org text,
        event_type text NOT NULL,
        event_id text NOT NULL,
        subject_id text NOT NULL,
        title text NOT NULL,
        body text NOT NULL,
        link text,
        created_at timestamptz NOT NULL,
        read_at timestamptz,
        position bigint NOT NULL
    );
    CREATE INDEX inbox_by_recipient ON inbox_items (tenant_id, recipient_role, position);
    """
    + tenant_policy("inbox_items"),
    """
    ALTER TABLE inbox_items ADD COLUMN recipient_subject text;
    CREATE INDEX inbox_by_subject ON inbox_items (tenant_id, recipient_subject, position)
        WHERE recipient_subject IS NOT NULL;
    CREATE TABLE deliveries (
        tenant_id text NOT NULL,
        id uuid PRIMARY KEY,
        rule text NOT NULL,
        event_type text NOT NULL,
        event_id text NOT NULL,
        recipient text NOT NULL,
        channel text NOT NULL,
        destination text NOT NULL,
        status text NOT NULL,
        attempts int NOT NULL DEFAULT 0,
        last_error text,
        due_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        sent_at timestamptz,
        reminder_id text,
        position bigint NOT NULL
    );
    CREATE INDEX deliveries_by_status ON deliveries (tenant_id, status, position);
    CREATE TABLE reminders (
        tenant_id text NOT NULL,
        id uuid PRIMARY KEY,
        kind text NOT NULL,
        item_id text NOT NULL,
        due_at timestamptz NOT NULL,
        occurrences int NOT NULL DEFAULT 0,
        next_at timestamptz,
        closed_at timestamptz
    );
    """
    + tenant_policy("deliveries")
    + tenant_policy("reminders"),
)


BODY = "inbox_items.body"  # an inbox body names people: sealed at rest, opened when the inbox is read
INSERT_ITEM = (
    "INSERT INTO inbox_items (tenant_id, id, recipient_role, recipient_org, recipient_subject, "
    "event_type, event_id, subject_id, title, body, link, created_at, position, named_member) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (id) DO NOTHING"
)


class InboxProjection:
    name = "notify-inbox"

    def __init__(self, cipher: FieldCipher) -> None:
        self.cipher = cipher

    async def apply(self, conn: Connection, event: Any, notification_id: int) -> None:
        await self.apply_many(conn, [(event, notification_id)])

    async def apply_many(self, conn: Connection, events: Sequence[tuple[Any, int]]) -> None:
        """A batch's items in one `executemany` (one round trip, not one per item); a read waits for the items
        before it."""
        delivered: list[tuple[Any, ...]] = []
        for event, notification_id in events:
            if isinstance(event, InboxItem.Delivered):
                delivered.append(self._row(event, notification_id))
            elif isinstance(event, InboxItem.Read):
                await self._insert(conn, delivered)
                delivered = []
                await conn.execute(
                    "UPDATE inbox_items SET read_at = $2 WHERE id = $1", event.originator_id, event.at
                )
        await self._insert(conn, delivered)

    async def _insert(self, conn: Connection, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            await conn.executemany(INSERT_ITEM, rows)

    def _row(self, event: Any, notification_id: int) -> tuple[Any, ...]:
        return (
            event.tenant_id,
            event.originator_id,
            event.recipient_role,
            event.recipient_org,
            getattr(event, "recipient_subject", None),
            event.event_type,
            event.event_id,
            event.subject_id,
            event.title or ERASED,
            seal_column(self.cipher, event.body or ERASED, BODY),
            event.link,
            event.timestamp,
            notification_id,
            getattr(event, "named_member", None),
        )


def _attempt(conn: Connection, tenant: str, delivery_id: Any, attempt: int, due_at: Any) -> Any:
    return schedule(
        conn,
        tenant_id=tenant,
        id=f"delivery:{delivery_id}:{attempt}",
        kind=ATTEMPT,
        subject_id=str(delivery_id),
        due_at=due_at,
        payload={"delivery_id": str(delivery_id), "attempt": attempt},
    )


class ScheduleProjection:
    name = "notify-schedule"

    async def apply(self, conn: Connection, event: Any, notification_id: int) -> None:
        if isinstance(event, Delivery.Event):
            await self._delivery(conn, event, notification_id)
        elif isinstance(event, Reminder.Event):
            await self._reminder(conn, event)

    async def _delivery(self, conn: Connection, event: Any, position: int) -> None:
        delivery_id = event.originator_id
        if isinstance(event, Delivery.Requested):
            await conn.execute(
                "INSERT INTO deliveries (tenant_id, id, rule, event_type, event_id, recipient, channel, destination,"
                " status, due_at, updated_at, reminder_id, position) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $10, $11, $12) ON CONFLICT (id) DO NOTHING",
                event.tenant_id,
                delivery_id,
                event.rule,
                event.event_type,
                event.event_id,
                event.recipient,
                event.channel,
                event.destination,
                event.due_at,
                event.timestamp,
                event.reminder_id,
                position,
            )
            await _attempt(conn, event.tenant_id, delivery_id, 1, event.due_at)
            return
        tenant = await conn.fetchval("SELECT tenant_id FROM deliveries WHERE id = $1", delivery_id)
        if isinstance(event, Delivery.AttemptFailed):
            await conn.execute(
                "UPDATE deliveries SET attempts = $2, last_error = $3, updated_at = $4, "
                "due_at = $5 WHERE id = $1",
                delivery_id,
                event.attempt,
                event.reason,
                event.at,
                event.next_attempt_at,
            )
            await _attempt(conn, tenant, delivery_id, event.attempt + 1, event.next_attempt_at)
        elif isinstance(event, Delivery.Sent):
            await conn.execute(
                "UPDATE deliveries SET status = 'sent', attempts = $2, sent_at = $3, "
                "updated_at = $3, last_error = NULL WHERE id = $1",
                delivery_id,
                event.attempt,
                event.at,
            )
        elif isinstance(event, Delivery.DeadLettered):
            await conn.execute(
                "UPDATE deliveries SET status = 'dead', attempts = $2, last_error = $3, "
                "updated_at = $4 WHERE id = $1",
                delivery_id,
                event.attempt,
                event.reason,
                event.at,
            )
        elif isinstance(event, Delivery.Replayed):
            attempts = await conn.fetchval(
                "UPDATE deliveries SET status = 'pending', due_at = $2, updated_at = $2, position = $3 "
                "WHERE id = $1 RETURNING attempts",
                delivery_id,
                event.at,
                position,
            )
            await _attempt(conn, tenant, delivery_id, (attempts or 0) + 1, event.at)
        elif isinstance(event, Delivery.Withdrawn):
            await conn.execute(
                "UPDATE deliveries SET status = 'withdrawn', last_error = $2, updated_at = $3 WHERE id = $1",
                delivery_id,
                event.reason,
                event.at,
            )
            await cancel_for(conn, str(delivery_id), event.at, [ATTEMPT])

    async def _reminder(self, conn: Connection, event: Any) -> None:
        reminder = event.originator_id
        if isinstance(event, Reminder.Announced):
            await conn.execute(
                "INSERT INTO reminders (tenant_id, id, kind, item_id, due_at, next_at) "
                "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
                event.tenant_id,
                reminder,
                event.kind,
                event.item_id,
                event.due_at,
                event.planned[0] if event.planned else None,
            )
            if event.planned:
                await self._occurrence(conn, event.tenant_id, reminder, 1, event.planned[0])
            return
        row = await conn.fetchrow("SELECT tenant_id, occurrences FROM reminders WHERE id = $1", reminder)
        tenant, occurrences = row["tenant_id"], row["occurrences"]
        if isinstance(event, Reminder.Rescheduled):
            upcoming = event.planned[0] if event.planned else None
            await conn.execute(
                "UPDATE reminders SET due_at = $2, next_at = $3 WHERE id = $1",
                reminder,
                event.due_at,
                upcoming,
            )
            if upcoming is not None:
                await self._occurrence(conn, tenant, reminder, occurrences + 1, upcoming)
        elif isinstance(event, Reminder.Reminded):
            await conn.execute(
                "UPDATE reminders SET occurrences = $2, next_at = $3 WHERE id = $1",
                reminder,
                event.occurrence,
                event.next_at,
            )
            if event.next_at is not None:
                await self._occurrence(conn, tenant, reminder, event.occurrence + 1, event.next_at)
        elif isinstance(event, Reminder.Closed):
            await conn.execute(
                "UPDATE reminders SET closed_at = $2, next_at = NULL WHERE id = $1", reminder, event.at
            )
            await cancel_for(conn, str(reminder), event.at, [REMINDER])

    async def _occurrence(
        self, conn: Connection, tenant: str, reminder: Any, occurrence: int, due_at: Any
    ) -> None:
        await schedule(
            conn,
            tenant_id=tenant,
            id=f"reminder:{reminder}:{occurrence}",
            kind=REMINDER,
            subject_id=str(reminder),
            due_at=due_at,
            payload={"reminder_id": str(reminder), "occurrence": occurrence},
        )


# Applied after the mobile migrations (versions are positions in MIGRATIONS + MOBILE_MIGRATIONS + these).
ERASURE_MIGRATIONS: tuple[str, ...] = (
    """
    ALTER TABLE inbox_items ADD COLUMN named_member uuid;
    CREATE INDEX inbox_by_named_member ON inbox_items (named_member) WHERE named_member IS NOT NULL;
    """,
)


async def clear_named(conn: Connection, member_id: Any) -> None:
    """After an erasure: no inbox item keeps the member's rendered name (a rebuild from the log finds None)."""
    await conn.execute(
        "UPDATE inbox_items SET title = $2, body = $2 WHERE named_member = $1", member_id, ERASED
    )
