"""Typed reads of the transfer read models, for the routes: they run no SQL of their own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from uuid import UUID

import asyncpg

from shared.db import system_transaction, tenant_transaction

# The letters that are not yet received: after their expiry they are void unless the case moved on.
NOT_RECEIVED = ("letter_issued", "committee_approved")


@dataclass(frozen=True)
class CaseRow:
    id: UUID
    side: Literal["sender", "receiver"]
    state: str
    member_id: UUID
    sending_tenant: str
    sending_org_id: UUID
    receiving_tenant: str | None
    receiving_org_id: UUID | None
    receiving_org_name: str
    letter_no: str | None
    expires_on: date | None
    receipt_due_on: date | None
    waiting_for: str | None
    updated_at: datetime


@dataclass(frozen=True)
class LetterRow:
    """What anyone may learn by a letter's code: no personal data but a masked name."""

    code: str
    case_id: UUID
    tenant: str
    letter_no: str
    kid: str
    masked_name: str | None
    from_org: str | None
    to_org: str | None
    issued_on: date
    expires_on: date
    status: str


async def cases(
    pool: asyncpg.Pool, tenant: str, *, side: str | None = None, state: str | None = None, limit: int = 500
) -> list[CaseRow]:
    """The tenant's cases on either side (or the one asked), newest change first."""
    async with tenant_transaction(pool, tenant) as conn:
        rows = await conn.fetch(
            "SELECT id, state, member_id, sending_tenant, sending_org_id, receiving_tenant, receiving_org_id, "
            "receiving_org_name, letter_no, expires_on, receipt_due_on, waiting_for, updated_at, "
            "CASE WHEN sending_tenant = $1 THEN 'sender' ELSE 'receiver' END AS side FROM transfer_cases "
            "WHERE ($2::text IS NULL OR (CASE WHEN sending_tenant = $1 THEN 'sender' ELSE 'receiver' END) = $2) "
            "AND ($3::text IS NULL OR state = $3) ORDER BY updated_at DESC LIMIT $4",
            tenant,
            side,
            state,
            limit,
        )
    return [CaseRow(**dict(r)) for r in rows]


async def member_case_ids(pool: asyncpg.Pool, tenant: str, member_id: UUID, *, limit: int = 20) -> list[UUID]:
    """The member's own transfers out of the tenant, newest change first."""
    async with tenant_transaction(pool, tenant) as conn:
        rows = await conn.fetch(
            "SELECT id FROM transfer_cases WHERE sending_tenant = $1 AND member_id = $2 "
            "ORDER BY updated_at DESC LIMIT $3",
            tenant,
            member_id,
            limit,
        )
    return [r["id"] for r in rows]


async def states_of(pool: asyncpg.Pool, tenant: str, case_ids: list[UUID]) -> dict[str, int]:
    """How many of these cases are in each state (a batch's progress)."""
    if not case_ids:
        return {}
    async with tenant_transaction(pool, tenant) as conn:
        rows = await conn.fetch(
            "SELECT state, count(*) FROM transfer_cases WHERE id = ANY($1::uuid[]) GROUP BY state", case_ids
        )
    return {r["state"]: r["count"] for r in rows}


async def letter_by_code(pool: asyncpg.Pool, code: str, today: date) -> tuple[LetterRow | None, str]:
    """The public facts of the letter with this code and its status today ('unknown' when there is none): a
    valid letter past its expiry is 'expired' unless its case was received meanwhile."""
    async with system_transaction(pool) as conn:
        row = await conn.fetchrow("SELECT * FROM letters WHERE code = $1", code.upper())
        if row is None:
            return None, "unknown"
        letter = LetterRow(**dict(row))
        status = letter.status
        if status == "valid" and letter.expires_on < today:
            received = await conn.fetchval(
                "SELECT state <> ALL($2::text[]) FROM transfer_cases WHERE id = $1",
                letter.case_id,
                list(NOT_RECEIVED),
            )
            status = "valid" if received else "expired"
    return letter, status
