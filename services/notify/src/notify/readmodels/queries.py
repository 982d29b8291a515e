"""Reads of notify's read models for the routes, under row-level security: the routes run no SQL of their own.

Each returns typed rows (frozen dataclasses, one field per column it selects), already paged, with JSON columns
decoded; the routes shape them into responses."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import asyncpg

from shared.db import tenant_transaction

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    id: UUID
    rule: str
    event_type: str
    event_id: str
    recipient: str
    channel: str
    destination: str
    status: str
    attempts: int
    last_error: str | None
    due_at: datetime
    updated_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class InboxRow:
    id: UUID
    event_type: str
    event_id: str
    subject_id: str
    title: str
    body: str  # still sealed: the route opens it
    link: str | None
    created_at: datetime
    read_at: datetime | None


@dataclass(frozen=True, slots=True)
class InboxPage:
    items: list[InboxRow]
    unread: int  # of every item the caller sees, not only this page's
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class EscalationRow:
    id: UUID
    rule: str
    item_id: str
    deadline: datetime
    steps: list[dict[str, str]]  # the ladder's steps as planned: step and instant
    taken: dict[str, Any]  # step -> when, the deliveries it made, a note
    closed_at: datetime | None


@dataclass(frozen=True, slots=True)
class SmsUsageRow:
    provider: str
    messages: int
    units: int
    delivered: int
    failed: int


@dataclass(frozen=True, slots=True)
class SmsMessageRow:
    provider: str
    message_id: str
    delivery_id: UUID
    recipient: str
    month: str
    units: int
    status: str
    receipt_code: str | None
    accepted_at: datetime
    receipt_at: datetime | None


DELIVERY_COLUMNS = (
    "id, rule, event_type, event_id, recipient, channel, destination, status, attempts, last_error, due_at, "
    "updated_at, sent_at"
)
# A role's item reaches every holder of the role (in the org, when it names one); a person's item only them.
VISIBLE = (
    "((recipient_subject IS NULL AND recipient_role = ANY($1::text[]) "
    "AND (recipient_org IS NULL OR recipient_org = ANY($2::text[]))) OR recipient_subject = $3)"
)


def _page(rows: list[asyncpg.Record], limit: int, row: type[T]) -> tuple[list[T], str | None]:
    """A page of rows fetched with one extra: the rows without their position, and the next page's cursor."""
    items = [row(**{k: v for k, v in r.items() if k != "position"}) for r in rows[:limit]]
    return items, str(rows[limit - 1]["position"]) if len(rows) > limit else None


async def deliveries(
    pool: asyncpg.Pool,
    tenant: str,
    *,
    status: str | None,
    event_id: str | None,
    before: int | None,
    limit: int,
) -> tuple[list[DeliveryRow], str | None]:
    """The tenant's deliveries, newest first, by status and event; and the cursor of the next page."""
    async with tenant_transaction(pool, tenant) as conn:
        rows = await conn.fetch(
            f"SELECT {DELIVERY_COLUMNS}, position FROM deliveries WHERE ($1::text IS NULL OR status = $1) "
            f"AND ($2::text IS NULL OR event_id = $2) AND ($3::bigint IS NULL OR position < $3) "
            f"ORDER BY position DESC LIMIT $4",
            status,
            event_id,
            before,
            limit + 1,
        )
    return _page(rows, limit, DeliveryRow)


async def delivery(pool: asyncpg.Pool, tenant: str, delivery_id: UUID) -> DeliveryRow | None:
    async with tenant_transaction(pool, tenant) as conn:
        row = await conn.fetchrow(f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = $1", delivery_id)
    return DeliveryRow(**row) if row is not None else None


async def inbox(
    pool: asyncpg.Pool,
    tenant: str,
    *,
    roles: list[str],
    orgs: list[str],
    subject: str,
    before: int | None,
    unread_only: bool,
    limit: int,
) -> InboxPage:
    """The items the caller sees (bodies still sealed), newest first; how many are unread; the next cursor."""
    async with tenant_transaction(pool, tenant) as conn:
        rows = await conn.fetch(
            f"SELECT id, event_type, event_id, subject_id, title, body, link, created_at, read_at, position "
            f"FROM inbox_items WHERE {VISIBLE} AND ($4::bigint IS NULL OR position < $4) "
            f"AND (NOT $5 OR read_at IS NULL) ORDER BY position DESC LIMIT $6",
            roles,
            orgs,
            subject,
            before,
            unread_only,
            limit + 1,
        )
        unread = await conn.fetchval(
            f"SELECT count(*) FROM inbox_items WHERE {VISIBLE} AND read_at IS NULL", roles, orgs, subject
        )
    items, next_cursor = _page(rows, limit, InboxRow)
    return InboxPage(items, unread, next_cursor)


async def escalations(pool: asyncpg.Pool, tenant: str, *, open_only: bool, limit: int) -> list[EscalationRow]:
    async with tenant_transaction(pool, tenant) as conn:
        rows = await conn.fetch(
            "SELECT id, rule, item_id, deadline, steps, taken, closed_at FROM escalations "
            "WHERE (NOT $1 OR closed_at IS NULL) ORDER BY opened_at DESC LIMIT $2",
            open_only,
            limit,
        )
    return [
        EscalationRow(**{**r, "steps": json.loads(r["steps"]), "taken": json.loads(r["taken"])}) for r in rows
    ]


async def sms_usage(pool: asyncpg.Pool, tenant: str, month: str) -> list[SmsUsageRow]:
    """SMS sent and billed units in the month, per provider."""
    async with tenant_transaction(pool, tenant) as conn:
        rows = await conn.fetch(
            "SELECT provider, messages, units, delivered, failed FROM sms_usage WHERE month = $1 ORDER BY provider",
            month,
        )
    return [SmsUsageRow(**r) for r in rows]


async def sms_messages(
    pool: asyncpg.Pool, tenant: str, *, delivery_id: UUID | None, limit: int
) -> list[SmsMessageRow]:
    async with tenant_transaction(pool, tenant) as conn:
        rows = await conn.fetch(
            "SELECT provider, message_id, delivery_id, recipient, month, units, status, receipt_code, accepted_at,"
            " receipt_at FROM sms_messages WHERE ($1::uuid IS NULL OR delivery_id = $1)"
            " ORDER BY accepted_at DESC LIMIT $2",
            delivery_id,
            limit,
        )
    return [SmsMessageRow(**r) for r in rows]
