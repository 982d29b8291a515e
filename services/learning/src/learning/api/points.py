"""The points ledger and totals, opt-in rankings, and participation rates."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from learning.api.common import (
    Anyone,
    Day,
    Learning,
    Readers,
    Timestamp,
    require_member_scope,
    visible_orgs,
)
from learning.domain.errors import RankingsOff
from learning.readmodels import queries
from shared.runtime import RuntimeDep
from shared.threads import run_sync

points = APIRouter(prefix="/v1/points", tags=["points"])
participation = APIRouter(prefix="/v1/participation", tags=["points"])

From = Annotated[date | None, Query(alias="from", description="first local day, default 30 days ago")]
To = Annotated[date | None, Query(description="last local day, default today")]


FirstDay = Annotated[str, Field(alias="from", json_schema_extra={"format": "date"})]


class EntryOut(BaseModel):
    rule: str
    action_id: str
    requested: int
    points: int
    local_date: Day
    cause: str
    capped: bool = Field(description="the daily cap (or the rule's hours) gave fewer points than the rule")
    at: Timestamp


class LedgerOut(BaseModel):
    member_id: UUID
    from_: FirstDay
    to: Day
    total: int
    entries: list[EntryOut]


class TotalOut(BaseModel):
    branch_id: UUID | None = Field(default=None, description="by=branch")
    member_id: UUID | None = Field(default=None, description="by=member")
    points: int


class TotalsOut(BaseModel):
    by: Literal["branch", "member"]
    from_: FirstDay
    to: Day
    totals: list[TotalOut] = Field(description="each with branch_id or member_id, as asked by `by`")


class RankOut(BaseModel):
    rank: int
    member_id: UUID
    points: int


class RankingOut(BaseModel):
    from_: FirstDay
    to: Day
    ranking: list[RankOut]


class BranchRateOut(BaseModel):
    organisation_id: UUID
    members: int
    active: int
    rate: float = Field(description="active / members, 3 decimals")


class ParticipationOut(BaseModel):
    from_: FirstDay
    to: Day
    branches: list[BranchRateOut]


async def _period(learning: Any, tenant: str, from_: date | None, to: date | None) -> tuple[date, date]:
    today = (await run_sync(learning.options, tenant)).local_date(learning.now())
    return from_ or today - timedelta(days=30), to or today


@points.get(
    "/members/{member_id}",
    response_model=LedgerOut,
    summary="A member's ledger: every entry with its cause, and the total",
)
async def member_ledger(
    member_id: UUID, user: Anyone, runtime: RuntimeDep, learning: Learning, from_: From = None, to: To = None
) -> dict[str, Any]:
    await require_member_scope(user, learning, member_id)
    start, end = await _period(learning, user.tenant, from_, to)
    rows = await queries.point_entries(runtime.pool, user.tenant, member_id, start, end)
    return {
        "member_id": str(member_id),
        "from": start.isoformat(),
        "to": end.isoformat(),
        "total": sum(r.points for r in rows),
        "entries": [
            {
                "rule": r.rule,
                "action_id": r.action_id,
                "requested": r.requested,
                "points": r.points,
                "local_date": r.local_date.isoformat(),
                "cause": r.cause,
                "capped": r.points < r.requested,
                "at": r.at.isoformat(),
            }
            for r in rows
        ],
    }


@points.get(
    "/totals",
    response_model=TotalsOut,
    response_model_exclude_unset=True,
    summary="Totals by branch or by member over a period (for the branch, not a ranking)",
)
async def totals(
    user: Readers,
    runtime: RuntimeDep,
    learning: Learning,
    by: Literal["branch", "member"] = "branch",
    from_: From = None,
    to: To = None,
) -> dict[str, Any]:
    start, end = await _period(learning, user.tenant, from_, to)
    rows = await queries.point_totals(runtime.pool, user.tenant, by, start, end, visible_orgs(user))
    return {
        "by": by,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "totals": [{by + "_id": str(key), "points": total} for key, total in rows],
    }


@points.get(
    "/rankings",
    response_model=RankingOut,
    summary="Members ranked by points: only where the tenant has turned rankings on",
)
async def rankings(
    user: Anyone,
    runtime: RuntimeDep,
    learning: Learning,
    from_: From = None,
    to: To = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    if not (await run_sync(learning.options, user.tenant)).rankings:
        raise RankingsOff("rankings are off in this tenant; branch participation rates are always available")
    start, end = await _period(learning, user.tenant, from_, to)
    rows = await queries.ranking(runtime.pool, user.tenant, start, end, limit)
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "ranking": [
            {"rank": i + 1, "member_id": str(member), "points": total}
            for i, (member, total) in enumerate(rows)
        ],
    }


@participation.get(
    "",
    response_model=ParticipationOut,
    summary="Per branch: share of its members with any study, quiz or meeting in the period",
)
async def participation_rates(
    user: Readers, runtime: RuntimeDep, learning: Learning, from_: From = None, to: To = None
) -> dict[str, Any]:
    opts = await run_sync(learning.options, user.tenant)
    start, end = await _period(learning, user.tenant, from_, to)
    t0 = datetime.combine(start, time(), opts.zone)
    t1 = datetime.combine(end + timedelta(days=1), time(), opts.zone)
    rows = await queries.participation(runtime.pool, user.tenant, t0, t1, visible_orgs(user))
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "branches": [
            {
                "organisation_id": str(r.organisation_id),
                "members": r.members,
                "active": r.active,
                "rate": round(r.active / r.members, 3) if r.members else 0.0,
            }
            for r in rows
        ],
    }
