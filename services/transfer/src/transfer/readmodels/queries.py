"""Typed reads of the transfer read models, for the routes: they run no SQL of their own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal
from uuid import UUID

import asyncpg

from shared.db import system_transaction, tenant_transaction

# The letters that are not yet received: after their expiry they are void unless the case moved on.
NOT_RECEIVED = ("letter_issued", "committee_approved")


@dataclass(frozen=True)
class CaseRow:
    id: UUID
    side: Literal["sender", "receiver", "both"]  # both: a transfer between two branches the reader both sees
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


# The work lists' states, per side: 待办 waits for the tenant's own step, 未办结 for another's.
Worklist = Literal["todo", "pending", "upcoming", "overdue"]
WORKLIST_STATES: dict[str, dict[str, tuple[str, ...]]] = {
    "todo": {"sender": ("draft", "branch_approved"), "receiver": ("letter_issued", "received", "checked_in")},
    "pending": {
        "sender": ("committee_approved", "letter_issued", "received", "checked_in", "receipt_returned"),
        "receiver": ("receipt_returned",),
    },
}
# A branch secretary's lists: the committee's steps (its approval, accepting the letter, the receipt) wait for
# the committee, so they are 未办结 for the branch, not 待办.
BRANCH_WORKLIST_STATES: dict[str, dict[str, tuple[str, ...]]] = {
    "todo": {"sender": ("draft",), "receiver": ("received",)},
    "pending": {
        "sender": ("branch_approved", *WORKLIST_STATES["pending"]["sender"]),
        "receiver": ("letter_issued", "checked_in", *WORKLIST_STATES["pending"]["receiver"]),
    },
}
# A page of cases holds at most this many (the routes' documented maximum).
MAX_PAGE = 500

# A case is the tenant's business as the sender through its sending branch, as the receiver through its receiving
# one ($2: the organisations asked for, NULL for all). A transfer between two branches of one tenant is both.
_AS_SENDER = "(sending_tenant = $1 AND ($2::text[] IS NULL OR sending_org_id::text = ANY($2::text[])))"
_AS_RECEIVER = "(receiving_tenant = $1 AND ($2::text[] IS NULL OR receiving_org_id::text = ANY($2::text[])))"
_SIDE = f"CASE WHEN {_AS_SENDER} AND {_AS_RECEIVER} THEN 'both' WHEN {_AS_SENDER} THEN 'sender' ELSE 'receiver' END"
# The date that chases a case: the letter's expiry (报到), then the receipt's due date (回执).
_DUE = "CASE state WHEN 'letter_issued' THEN expires_on WHEN 'checked_in' THEN receipt_due_on END"


async def _page(
    pool: asyncpg.Pool,
    tenant: str,
    condition: str,
    *params: object,
    organisations: Sequence[str] | None,
    before: UUID | None,
    limit: int,
) -> list[CaseRow]:
    """The tenant's cases meeting `condition` (its parameters from $5 on), in the organisations named (None: all),
    newest change first: up to `limit` of them, those after the case `before` in that order when given."""
    async with tenant_transaction(pool, tenant) as conn:
        rows = await conn.fetch(
            "SELECT id, state, member_id, sending_tenant, sending_org_id, receiving_tenant, receiving_org_id, "
            "receiving_org_name, letter_no, expires_on, receipt_due_on, waiting_for, updated_at, "
            f"{_SIDE} AS side FROM transfer_cases WHERE (sending_tenant = $1 OR receiving_tenant = $1) "
            f"AND ({_AS_SENDER} OR {_AS_RECEIVER}) "
            "AND ($3::uuid IS NULL OR (updated_at, id) < (SELECT b.updated_at, b.id FROM transfer_cases b "
            f"WHERE b.id = $3)) AND ({condition}) ORDER BY updated_at DESC, id DESC LIMIT $4",
            tenant,
            None if organisations is None else list(organisations),
            before,
            limit,
            *params,
        )
    return [CaseRow(**dict(r)) for r in rows]


async def cases(
    pool: asyncpg.Pool,
    tenant: str,
    *,
    side: str | None = None,
    state: str | None = None,
    organisations: Sequence[str] | None = None,
    before: UUID | None = None,
    limit: int = MAX_PAGE,
) -> list[CaseRow]:
    """The tenant's cases on either side (or the one asked), newest change first, a page at a time."""
    return await _page(
        pool,
        tenant,
        f"($5::text IS NULL OR ($5 = 'sender' AND {_AS_SENDER}) OR ($5 = 'receiver' AND {_AS_RECEIVER})) "
        "AND ($6::text IS NULL OR state = $6)",
        side,
        state,
        organisations=organisations,
        before=before,
        limit=limit,
    )


async def worklist(
    pool: asyncpg.Pool,
    tenant: str,
    which: Worklist,
    *,
    today: date,
    days: int = 7,
    organisations: Sequence[str] | None = None,
    before: UUID | None = None,
    limit: int = MAX_PAGE,
) -> list[CaseRow]:
    """One work list of the tenant's cases, newest change first, a page at a time: 待办 and 未办结 by the states of
    each side (a branch secretary's, `organisations` given, leave the committee's steps to 未办结); 即将办理 those
    whose date falls within `days` of today, 超时 those whose date has passed."""
    if which in WORKLIST_STATES:
        states = (WORKLIST_STATES if organisations is None else BRANCH_WORKLIST_STATES)[which]
        condition = (
            f"({_AS_SENDER} AND state = ANY($5::text[])) OR ({_AS_RECEIVER} AND state = ANY($6::text[]))"
        )
        params: tuple[object, ...] = (list(states["sender"]), list(states["receiver"]))
    elif which == "upcoming":
        condition = f"state IN ('letter_issued', 'checked_in') AND {_DUE} BETWEEN $5::date AND $6::date"
        params = (today, today + timedelta(days=days))
    else:
        condition = f"state IN ('letter_issued', 'checked_in') AND {_DUE} < $5::date"
        params = (today,)
    return await _page(
        pool, tenant, condition, *params, organisations=organisations, before=before, limit=limit
    )


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
