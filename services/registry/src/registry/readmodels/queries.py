"""Typed reads of the registry's read models that the routes call: each runs in the caller's tenant transaction,
so row-level security admits only that tenant's rows. Names come back sealed; the route opens what it shows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

import asyncpg

from shared.db import tenant_transaction

Row = Mapping[str, Any]


async def organisations_page(
    pool: asyncpg.Pool, tenant: str, *, after_code: str | None, limit: int
) -> list[Row]:
    """Up to `limit` organisations after `after_code`, in code order."""
    async with tenant_transaction(pool, tenant) as conn:
        rows: list[Row] = await conn.fetch(
            "SELECT id, code, name, kind, parent_id, closed FROM organisations "
            "WHERE ($1::text IS NULL OR code > $1) ORDER BY code LIMIT $2",
            after_code,
            limit,
        )
    return rows


async def open_tree(pool: asyncpg.Pool, tenant: str) -> list[Row]:
    """A tenant's open nodes above the party groups, in code order: what another tenant's secretary picks a
    transfer's receiving branch from. Only ids, names, kinds and parents; no members, no closed nodes."""
    async with tenant_transaction(pool, tenant) as conn:
        rows: list[Row] = await conn.fetch(
            "SELECT id, name, kind, parent_id FROM organisations WHERE NOT closed AND kind <> 'group' ORDER BY code"
        )
    return rows


async def role_holders(pool: asyncpg.Pool, tenant: str, organisation_id: UUID) -> list[Row] | None:
    """Who holds which role on the node; None when the tenant has no such node."""
    async with tenant_transaction(pool, tenant) as conn:
        if not await conn.fetchval("SELECT 1 FROM organisations WHERE id = $1", organisation_id):
            return None
        rows: list[Row] = await conn.fetch(
            "SELECT subject, role, active FROM role_assignments WHERE organisation_id = $1 ORDER BY role, subject",
            organisation_id,
        )
    return rows


@dataclass(frozen=True)
class RollPage:
    """Which members a page of the roll shows: up to `limit` after `after` in id order; `organisations` None means
    every organisation (else the caller's scope)."""

    roll: str = "on_roll"
    organisation_id: UUID | None = None
    category: str | None = None
    standing: str | None = None
    mobile: bool | None = None
    contact: str | None = None
    organisations: Sequence[str] | None = None
    after: UUID | None = None
    limit: int = 100

    def statement(self) -> tuple[str, list[Any]]:
        """The statement with only the conditions given. One statement with every condition written as `($n IS
        NULL OR column = $n)` is prepared once and may be planned generically, and a generic plan cannot use an
        index for a condition that may be absent; the scope was compared as text besides. A secretary's page then
        walked the tenant's whole roll in id order to find the branch's members (at 100,000 members, 80 ms for a
        branch of 30). Each shape here is a statement of its own, planned with the indexes its conditions can use
        (`members_by_org` for a branch or a scope)."""
        args: list[Any] = [self.roll]
        conditions = ["roll = $1"]

        def condition(template: str, value: Any) -> None:
            args.append(value)
            conditions.append(template.format(f"${len(args)}"))

        if self.organisation_id is not None:
            condition("organisation_id = {}", self.organisation_id)
        if self.category is not None:
            condition("category = {}", self.category)
        if self.standing is not None:
            condition("standing = {}", self.standing)
        if self.after is not None:
            condition("id > {}", self.after)
        if self.organisations is not None:
            condition("organisation_id = ANY({}::uuid[])", _uuids(self.organisations))
        if self.mobile is not None:
            condition(
                "{} = EXISTS (SELECT 1 FROM mobile_registrations r WHERE r.member_id = members.id "
                "AND r.state IN ('outflow_registered', 'inflow_registered'))",
                self.mobile,
            )
        if self.contact is not None:
            condition(
                "EXISTS (SELECT 1 FROM contact_status c WHERE c.member_id = members.id AND c.state = {})",
                self.contact,
            )
        args.append(self.limit)
        where = " AND ".join(conditions)
        return f"SELECT {MEMBER_COLUMNS} FROM members WHERE {where} ORDER BY id LIMIT ${len(args)}", args


async def members_page(pool: asyncpg.Pool, tenant: str, page: RollPage) -> list[Row]:
    sql, args = page.statement()
    async with tenant_transaction(pool, tenant) as conn:
        rows: list[Row] = await conn.fetch(sql, *args)
    return rows


def _uuids(texts: Sequence[str]) -> list[UUID]:
    """The ids among `texts` (one that is not an id matches no organisation, as in a comparison as text)."""
    ids = []
    for text in texts:
        try:
            ids.append(UUID(str(text)))
        except ValueError:
            continue
    return ids


MEMBER_COLUMNS = (
    "id, name_sealed, organisation_id, category, standing, roll, hold_case_id, national_id_masked, phone_masked, "
    "registered_on"
)


async def member_names(
    pool: asyncpg.Pool, tenant: str, ids: Sequence[UUID], *, organisations: Sequence[str] | None
) -> list[Row]:
    """The id and sealed name of each of these members the tenant has, whatever their roll, in id order;
    `organisations` None means every organisation, else only the members of those named."""
    async with tenant_transaction(pool, tenant) as conn:
        rows: list[Row] = await conn.fetch(
            "SELECT id, name_sealed FROM members WHERE id = ANY($1::uuid[]) "
            "AND ($2::text[] IS NULL OR organisation_id::text = ANY($2::text[])) ORDER BY id",
            list(ids),
            None if organisations is None else list(organisations),
        )
    return rows


async def roll_with_codes(pool: asyncpg.Pool, tenant: str) -> list[Row]:
    """Every member on the roll with the code of their organisation, in code then id order."""
    async with tenant_transaction(pool, tenant) as conn:
        rows: list[Row] = await conn.fetch(
            "SELECT m.*, o.code FROM members m JOIN organisations o ON o.id = m.organisation_id "
            "WHERE m.roll = 'on_roll' ORDER BY o.code, m.id"
        )
    return rows


async def mobile_registrations(pool: asyncpg.Pool, tenant: str, *, side: str, state: str | None) -> list[Row]:
    """The tenant's registrations as the home (`side` "home") or the host ("host"), newest first, at most 500."""
    column = "tenant_id" if side == "home" else "host_tenant"
    async with tenant_transaction(pool, tenant) as conn:
        rows: list[Row] = await conn.fetch(
            f"SELECT * FROM mobile_registrations WHERE {column} = $1 AND ($2::text IS NULL OR state = $2) "
            "ORDER BY left_on DESC, id LIMIT 500",
            tenant,
            state,
        )
    return rows


async def mobile_registration(pool: asyncpg.Pool, tenant: str, registration_id: UUID) -> Row | None:
    async with tenant_transaction(pool, tenant) as conn:
        row: Row | None = await conn.fetchrow(
            "SELECT * FROM mobile_registrations WHERE id = $1", registration_id
        )
    return row


async def contact_cases(pool: asyncpg.Pool, tenant: str, *, state: str | None) -> list[Row]:
    """Members on the roll whose contact is not normal (in `state` if given), longest silent first, at most 500."""
    async with tenant_transaction(pool, tenant) as conn:
        rows: list[Row] = await conn.fetch(
            "SELECT c.*, m.name_sealed FROM contact_status c JOIN members m ON m.id = c.member_id "
            "WHERE c.state <> 'normal' AND ($1::text IS NULL OR c.state = $1) AND m.roll = 'on_roll' "
            "ORDER BY c.last_contact_at LIMIT 500",
            state,
        )
    return rows


async def dues_ledgers(pool: asyncpg.Pool, tenant: str) -> list[Row]:
    """Each member on the roll with the month their ledger starts and the months paid (at most 5000)."""
    async with tenant_transaction(pool, tenant) as conn:
        rows: list[Row] = await conn.fetch(
            "SELECT m.id, m.organisation_id, m.name_sealed, m.registered_on, l.starts, "
            "coalesce((SELECT array_agg(d.month) FROM dues_months d WHERE d.member_id = m.id), '{}') AS paid "
            "FROM members m LEFT JOIN dues_ledgers l ON l.member_id = m.id WHERE m.roll = 'on_roll' "
            "ORDER BY m.id LIMIT 5000"
        )
    return rows


async def dues_year(
    pool: asyncpg.Pool, tenant: str, organisation_id: UUID, year: int
) -> tuple[list[Row], list[Row]] | None:
    """The branch's paid months of the year and its members on the roll with their yearly amount; None when the
    tenant has no such organisation."""
    async with tenant_transaction(pool, tenant) as conn:
        if await conn.fetchval("SELECT 1 FROM organisations WHERE id = $1", organisation_id) is None:
            return None
        paid: list[Row] = await conn.fetch(
            "SELECT member_id, month, amount FROM dues_months WHERE organisation_id = $1 AND month LIKE $2 "
            "AND amount IS NOT NULL",
            organisation_id,
            f"{year:04d}-%",
        )
        members: list[Row] = await conn.fetch(
            "SELECT m.id, m.name_sealed, a.monthly_amount FROM members m LEFT JOIN dues_amounts a "
            "ON a.member_id = m.id AND a.year = $2 WHERE m.organisation_id = $1 AND m.roll = 'on_roll' "
            "ORDER BY m.id",
            organisation_id,
            year,
        )
    return paid, members


async def development_records(pool: asyncpg.Pool, tenant: str, stages: Sequence[str]) -> list[Row]:
    """The tenant's development records in these stages, longest in the stage first (at most 1000)."""
    async with tenant_transaction(pool, tenant) as conn:
        rows: list[Row] = await conn.fetch(
            "SELECT * FROM development_records WHERE tenant_id = $1 AND stage = ANY($2::text[]) "
            "ORDER BY stage_since, id LIMIT 1000",
            tenant,
            list(stages),
        )
    return rows


async def members_of_branches(pool: asyncpg.Pool, tenant: str, organisation_ids: Sequence[UUID]) -> list[Row]:
    """member_id and organisation_id of each member on the roll of these branches."""
    async with tenant_transaction(pool, tenant) as conn:
        rows: list[Row] = await conn.fetch(
            "SELECT id AS member_id, organisation_id FROM members WHERE tenant_id = $1 AND "
            "roll = 'on_roll' AND organisation_id = ANY($2::uuid[])",
            tenant,
            list(organisation_ids),
        )
    return rows


async def mobile_members(pool: asyncpg.Pool, tenant: str, kinds: Sequence[str]) -> list[Row]:
    """member_id and home organisation_id of each open mobile registration of these kinds."""
    async with tenant_transaction(pool, tenant) as conn:
        rows: list[Row] = await conn.fetch(
            "SELECT member_id, home_org_id AS organisation_id FROM mobile_registrations "
            "WHERE tenant_id = $1 AND kind = ANY($2::text[]) AND state IN "
            "('outflow_registered', 'inflow_registered')",
            tenant,
            list(kinds),
        )
    return rows


async def screening_campaigns(pool: asyncpg.Pool, tenant: str) -> list[Row]:
    """The tenant's screening campaigns, newest first."""
    async with tenant_transaction(pool, tenant) as conn:
        rows: list[Row] = await conn.fetch(
            "SELECT * FROM screening_campaigns WHERE tenant_id = $1 ORDER BY opened_on DESC, id", tenant
        )
    return rows


async def open_screenings_of(pool: asyncpg.Pool, tenant: str, member_id: UUID) -> list[Row]:
    """The open campaigns a member is in, with their outcome so far, soonest due first."""
    async with tenant_transaction(pool, tenant) as conn:
        rows: list[Row] = await conn.fetch(
            "SELECT c.id, c.title, c.due_on, m.outcome FROM screening_members m JOIN screening_campaigns c "
            "ON c.id = m.campaign_id WHERE m.tenant_id = $1 AND m.member_id = $2 AND c.closed_on IS NULL "
            "ORDER BY c.due_on, c.id",
            tenant,
            member_id,
        )
    return rows


async def mobility_declarations(
    pool: asyncpg.Pool,
    tenant: str,
    *,
    member_id: UUID | None = None,
    state: str | None = None,
    declaration_id: UUID | None = None,
) -> list[Row]:
    """The tenant's mobility declarations, newest first (at most 500), narrowed by each filter given."""
    async with tenant_transaction(pool, tenant) as conn:
        rows: list[Row] = await conn.fetch(
            "SELECT * FROM mobility_declarations WHERE tenant_id = $1 AND ($2::uuid IS NULL OR member_id = $2) "
            "AND ($3::text IS NULL OR state = $3) AND ($4::uuid IS NULL OR id = $4) "
            "ORDER BY declared_at DESC LIMIT 500",
            tenant,
            member_id,
            state,
            declaration_id,
        )
    return rows


async def open_registration_of(pool: asyncpg.Pool, tenant: str, member_id: UUID) -> Row | None:
    """The member's open mobile registration, the latest if ever more than one."""
    async with tenant_transaction(pool, tenant) as conn:
        row: Row | None = await conn.fetchrow(
            "SELECT * FROM mobile_registrations WHERE tenant_id = $1 AND member_id = $2 "
            "AND state IN ('outflow_registered', 'inflow_registered') ORDER BY left_on DESC LIMIT 1",
            tenant,
            member_id,
        )
    return row


async def branch_and_contact(
    pool: asyncpg.Pool, tenant: str, organisation_id: UUID, member_id: UUID
) -> tuple[Row | None, Row | None]:
    """The organisation's name, and the member's contact state and last contact."""
    async with tenant_transaction(pool, tenant) as conn:
        org: Row | None = await conn.fetchrow("SELECT name FROM organisations WHERE id = $1", organisation_id)
        contact: Row | None = await conn.fetchrow(
            "SELECT state, last_contact_at FROM contact_status WHERE member_id = $1", member_id
        )
    return org, contact


async def home_registration(pool: asyncpg.Pool, tenant: str, registration_id: UUID) -> Row | None:
    """A mobile registration of which this tenant is the home."""
    async with tenant_transaction(pool, tenant) as conn:
        row: Row | None = await conn.fetchrow(
            "SELECT * FROM mobile_registrations WHERE id = $1 AND tenant_id = $2", registration_id, tenant
        )
    return row


async def roll_ids(pool: asyncpg.Pool, tenant: str, organisation_id: UUID) -> list[UUID]:
    """Ids of the organisation's members on the roll, in the order they came onto it."""
    async with tenant_transaction(pool, tenant) as conn:
        rows = await conn.fetch(
            "SELECT id FROM members WHERE tenant_id = $1 AND organisation_id = $2 "
            "AND roll = 'on_roll' ORDER BY registered_on, id",
            tenant,
            organisation_id,
        )
    return [r["id"] for r in rows]


async def roll_at(pool: asyncpg.Pool, tenant: str, reference_date: date) -> list[UUID]:
    """The members the 党员基本情况 count covers (ADR 0004): on this tenant's roll, active, registered on or before
    the reference date; the roll as it stands today (ask on 1 January for 31 December)."""
    async with tenant_transaction(pool, tenant) as conn:
        rows = await conn.fetch(
            "SELECT id FROM members WHERE roll = 'on_roll' AND standing = 'active' AND registered_on <= $1 "
            "ORDER BY id",
            reference_date,
        )
    return [r["id"] for r in rows]
