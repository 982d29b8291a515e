"""The inbox read model, projected from notify's own events, under row-level security."""

from __future__ import annotations

from typing import Any

from shared.db import Connection, tenant_policy

from notify.domain import InboxItem

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
)


class InboxProjection:
    name = "notify-inbox"

    async def apply(self, conn: Connection, event: Any, notification_id: int) -> None:
        if isinstance(event, InboxItem.Delivered):
            await conn.execute(
                "INSERT INTO inbox_items (tenant_id, id, recipient_role, recipient_org, event_type, event_id, "
                "subject_id, title, body, link, created_at, position) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (id) DO NOTHING",
                event.tenant_id, event.originator_id, event.recipient_role, event.recipient_org, event.event_type,
                event.event_id, event.subject_id, event.title, event.body, event.link, event.timestamp,
                notification_id)
        elif isinstance(event, InboxItem.Read):
            await conn.execute("UPDATE inbox_items SET read_at = $2 WHERE id = $1", event.originator_id, event.at)
