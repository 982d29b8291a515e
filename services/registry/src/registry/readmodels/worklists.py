"""The rows behind the work lists in the national system's words (待办, 未办结, 即将办理, 超时): each list read in
one tenant transaction, so its parts agree with each other."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

from registry.readmodels.queries import Row
from shared.db import tenant_transaction


@dataclass(frozen=True)
class Todo:
    inflows: list[Row]  # outflows to this tenant not yet registered at a host branch
    contact: list[Row]  # members whose contact is not normal


@dataclass(frozen=True)
class Pending:
    outflows: list[Row]  # outflows from this tenant awaiting the host
    transfers: list[Row]  # members on the roll held by a transfer


@dataclass(frozen=True)
class Dated:
    reviews: list[Row]  # certificate reviews due in the window
    deferrals: list[Row]  # graduate deferrals ending in the window
    stale_at_risk: list[Row]  # at-risk flags older than `stale_before` (overdue only)


async def todo(pool: asyncpg.Pool, tenant: str) -> Todo:
    async with tenant_transaction(pool, tenant) as conn:
        inflows = await conn.fetch(
            "SELECT id, destination, host_org_id FROM mobile_registrations "
            "WHERE host_tenant = $1 AND state = 'outflow_registered'",
            tenant,
        )
        contact = await conn.fetch(
            "SELECT member_id, organisation_id, state, cause, lost_contact_proposed "
            "FROM contact_status WHERE state <> 'normal'"
        )
    return Todo(inflows=inflows, contact=contact)


async def pending(pool: asyncpg.Pool, tenant: str) -> Pending:
    async with tenant_transaction(pool, tenant) as conn:
        outflows = await conn.fetch(
            "SELECT id, home_org_id FROM mobile_registrations WHERE tenant_id = $1 AND "
            "state = 'outflow_registered' AND host_tenant IS NOT NULL",
            tenant,
        )
        transfers = await conn.fetch(
            "SELECT id, organisation_id, hold_case_id FROM members WHERE hold_case_id IS NOT NULL AND roll = 'on_roll'"
        )
    return Pending(outflows=outflows, transfers=transfers)


async def dated(
    pool: asyncpg.Pool, tenant: str, *, today: date, soon: date | None, stale_before: datetime | None
) -> Dated:
    """Due between today and `soon` (upcoming), or before today when `soon` is None (overdue); at-risk flags
    raised before `stale_before` when it is given."""
    condition = "< $2" if soon is None else "BETWEEN $2 AND $3"
    args = (today,) if soon is None else (today, soon)
    async with tenant_transaction(pool, tenant) as conn:
        reviews = await conn.fetch(
            f"SELECT id, home_org_id, certificate_review_due FROM mobile_registrations WHERE tenant_id = $1 "
            f"AND certificate_state IN ('issued', 'presented') AND certificate_review_due {condition}",
            tenant,
            *args,
        )
        deferrals = await conn.fetch(
            f"SELECT id, home_org_id, until FROM mobile_registrations WHERE tenant_id = $1 "
            f"AND kind = 'graduate_deferral' AND state = 'outflow_registered' AND until {condition}",
            tenant,
            *args,
        )
        stale = []
        if stale_before is not None:
            stale = await conn.fetch(
                "SELECT member_id, organisation_id, flagged_at FROM contact_status "
                "WHERE state = 'at_risk' AND flagged_at < $1",
                stale_before,
            )
    return Dated(reviews=reviews, deferrals=deferrals, stale_at_risk=stale)
