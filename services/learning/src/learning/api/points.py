"""Tenant options, the points ledger and totals, opt-in rankings, participation rates, and member history."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Body, Query

from learning.api.common import Admins, Anyone, Learning, Readers, require_member_scope, run, visible_orgs
from learning.domain.errors import MemberNotKnown, RankingsOff
from learning.readmodels import history_transaction
from shared.db import tenant_transaction
from shared.meta import event_meta
from shared.runtime import RuntimeDep

options = APIRouter(prefix="/v1/options", tags=["options"])
points = APIRouter(prefix="/v1/points", tags=["points"])
participation = APIRouter(prefix="/v1/participation", tags=["points"])
history = APIRouter(prefix="/v1/members", tags=["history"])

From = Annotated[date | None, Query(alias="from", description="first local day, default 30 days ago")]
To = Annotated[date | None, Query(description="last local day, default today")]


@options.get("", summary="The options in force: time zone, allowed hours, point rules, rankings, cadences")
async def get_options(user: Anyone, learning: Learning) -> dict[str, Any]:
    return (await run(learning.options, user.tenant)).as_dict()


@options.patch("", summary="Change some options (tenant admin or committee); unknown names are refused")
async def change_options(
    user: Admins, learning: Learning, changes: Annotated[dict[str, Any], Body(examples=[{"rankings": True}])]
) -> dict[str, Any]:
    changed = await run(lambda: learning.change_options(user.tenant, changes, dict(event_meta(user.subject))))
    return changed.as_dict()


async def _period(learning: Any, tenant: str, from_: date | None, to: date | None) -> tuple[date, date]:
    today = (await run(learning.options, tenant)).local_date(learning.now())
    return from_ or today - timedelta(days=30), to or today


@points.get("/members/{member_id}", summary="A member's ledger: every entry with its cause, and the total")
async def member_ledger(
    member_id: UUID, user: Anyone, runtime: RuntimeDep, learning: Learning, from_: From = None, to: To = None
) -> dict[str, Any]:
    await require_member_scope(user, learning, member_id)
    start, end = await _period(learning, user.tenant, from_, to)
    async with tenant_transaction(runtime.pool, user.tenant) as conn:
        rows = await conn.fetch(
            "SELECT rule, action_id, requested, points, local_date, cause, at FROM point_entries WHERE "
            "tenant_id = $1 AND member_id = $2 AND local_date BETWEEN $3 AND $4 ORDER BY at",
            user.tenant,
            member_id,
            start,
            end,
        )
    return {
        "member_id": str(member_id),
        "from": start.isoformat(),
        "to": end.isoformat(),
        "total": sum(r["points"] for r in rows),
        "entries": [
            {
                "rule": r["rule"],
                "action_id": r["action_id"],
                "requested": r["requested"],
                "points": r["points"],
                "local_date": r["local_date"].isoformat(),
                "cause": r["cause"],
                "capped": r["points"] < r["requested"],
                "at": r["at"].isoformat(),
            }
            for r in rows
        ],
    }


@points.get("/totals", summary="Totals by branch or by member over a period (for the branch, not a ranking)")
async def totals(
    user: Readers,
    runtime: RuntimeDep,
    learning: Learning,
    by: Literal["branch", "member"] = "branch",
    from_: From = None,
    to: To = None,
) -> dict[str, Any]:
    start, end = await _period(learning, user.tenant, from_, to)
    column = "organisation_id" if by == "branch" else "member_id"
    async with tenant_transaction(runtime.pool, user.tenant) as conn:
        rows = await conn.fetch(
            f"SELECT {column} AS key, sum(points) AS total FROM point_entries WHERE tenant_id = $1 AND "
            f"local_date BETWEEN $2 AND $3 AND ($4::uuid[] IS NULL OR organisation_id = ANY($4::uuid[])) "
            f"GROUP BY 1 ORDER BY 1",
            user.tenant,
            start,
            end,
            visible_orgs(user),
        )
    return {
        "by": by,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "totals": [{by + "_id": str(r["key"]), "points": r["total"]} for r in rows],
    }


@points.get("/rankings", summary="Members ranked by points: only where the tenant has turned rankings on")
async def rankings(
    user: Anyone,
    runtime: RuntimeDep,
    learning: Learning,
    from_: From = None,
    to: To = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    if not (await run(learning.options, user.tenant)).rankings:
        raise RankingsOff("rankings are off in this tenant; branch participation rates are always available")
    start, end = await _period(learning, user.tenant, from_, to)
    async with tenant_transaction(runtime.pool, user.tenant) as conn:
        rows = await conn.fetch(
            "SELECT member_id, sum(points) AS total FROM point_entries WHERE tenant_id = $1 AND local_date "
            "BETWEEN $2 AND $3 GROUP BY member_id ORDER BY total DESC, member_id LIMIT $4",
            user.tenant,
            start,
            end,
            limit,
        )
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "ranking": [
            {"rank": i + 1, "member_id": str(r["member_id"]), "points": r["total"]}
            for i, r in enumerate(rows)
        ],
    }


@participation.get(
    "", summary="Per branch: share of its members with any study, quiz or meeting in the period"
)
async def participation_rates(
    user: Readers, runtime: RuntimeDep, learning: Learning, from_: From = None, to: To = None
) -> dict[str, Any]:
    opts = await run(learning.options, user.tenant)
    start, end = await _period(learning, user.tenant, from_, to)
    t0 = datetime.combine(start, time(), opts.zone)
    t1 = datetime.combine(end + timedelta(days=1), time(), opts.zone)
    async with tenant_transaction(runtime.pool, user.tenant) as conn:
        rows = await conn.fetch(
            "SELECT p.organisation_id, count(*) AS members, count(*) FILTER (WHERE "
            " EXISTS (SELECT 1 FROM check_ins c WHERE c.tenant_id = $1 AND c.member_id = p.member_id AND c.at >= $2 "
            "  AND c.at < $3) OR EXISTS (SELECT 1 FROM quiz_answers q WHERE q.tenant_id = $1 AND "
            "  q.member_id = p.member_id AND q.at >= $2 AND q.at < $3) OR EXISTS (SELECT 1 FROM attendance a WHERE "
            "  a.tenant_id = $1 AND a.member_id = p.member_id AND a.status = 'present' AND a.at >= $2 AND a.at < $3)"
            ") AS active FROM participants p WHERE p.tenant_id = $1 AND "
            "($4::uuid[] IS NULL OR p.organisation_id = ANY($4::uuid[])) GROUP BY 1 ORDER BY 1",
            user.tenant,
            t0,
            t1,
            visible_orgs(user),
        )
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "branches": [
            {
                "organisation_id": str(r["organisation_id"]),
                "members": r["members"],
                "active": r["active"],
                "rate": round(r["active"] / r["members"], 3) if r["members"] else 0.0,
            }
            for r in rows
        ],
    }


@history.get(
    "/{member_id}/history",
    summary="A member's learning and attendance history; includes what another tenant shared after a "
    "transfer or a mobile registration, and nothing else of that tenant",
)
async def member_history(
    member_id: UUID, user: Readers, runtime: RuntimeDep, learning: Learning
) -> dict[str, Any]:
    await require_member_scope(user, learning, member_id)
    async with history_transaction(runtime.pool, user.tenant) as conn:
        own = await conn.fetchval(
            "SELECT count(*) FROM participants WHERE tenant_id = $1 AND member_id = $2",
            user.tenant,
            member_id,
        )
        shared = [
            r["member_id"]
            for r in await conn.fetch(
                "SELECT member_id FROM history_shares WHERE tenant_id = $1 AND grantee_member_id = $2",
                user.tenant,
                member_id,
            )
        ]
        if not own and not shared:
            raise MemberNotKnown(f"member {member_id} not found")
        ids = [member_id, *shared]
        attendance = await conn.fetch(
            "SELECT DISTINCT ON (meeting_id, member_id) meeting_id, member_id, meeting_tenant, organisation_id, "
            "meeting_type, starts_at, status, method FROM attendance WHERE member_id = ANY($1::uuid[]) "
            "ORDER BY meeting_id, member_id, (tenant_id = meeting_tenant) DESC",
            ids,
        )
        check_ins = await conn.fetch(
            "SELECT tenant_id, member_id, local_date FROM check_ins WHERE "
            "member_id = ANY($1::uuid[]) ORDER BY local_date",
            ids,
        )
        reports = await conn.fetch(
            "SELECT tenant_id, member_id, quarter, submitted_at, acknowledged_at FROM "
            "thought_reports WHERE member_id = ANY($1::uuid[]) ORDER BY submitted_at",
            ids,
        )
        answers = await conn.fetch(
            "SELECT tenant_id, quiz_id, count(*) AS answered, count(*) FILTER (WHERE correct) "
            "AS correct FROM quiz_answers WHERE member_id = ANY($1::uuid[]) GROUP BY 1, 2",
            ids,
        )
        completed = await conn.fetch(
            "SELECT tenant_id, course_id, completed_at FROM study_progress WHERE "
            "member_id = ANY($1::uuid[]) AND completed_at IS NOT NULL",
            ids,
        )
        totals = await conn.fetch(
            "SELECT tenant_id, sum(points) AS points FROM point_entries WHERE "
            "member_id = ANY($1::uuid[]) GROUP BY 1",
            ids,
        )
    return {
        "member_id": str(member_id),
        "shared_from": [str(s) for s in shared],
        "attendance": [
            {
                "meeting_id": str(r["meeting_id"]),
                "member_id": str(r["member_id"]),
                "tenant": r["meeting_tenant"],
                "organisation_id": str(r["organisation_id"]),
                "meeting_type": r["meeting_type"],
                "starts_at": r["starts_at"].isoformat(),
                "status": r["status"],
                "method": r["method"],
            }
            for r in attendance
        ],
        "check_ins": [
            {"tenant": r["tenant_id"], "local_date": r["local_date"].isoformat()} for r in check_ins
        ],
        "thought_reports": [
            {
                "tenant": r["tenant_id"],
                "quarter": r["quarter"],
                "submitted_at": r["submitted_at"].isoformat(),
                "acknowledged": r["acknowledged_at"] is not None,
            }
            for r in reports
        ],
        "quizzes": [
            {
                "tenant": r["tenant_id"],
                "quiz_id": str(r["quiz_id"]),
                "answered": r["answered"],
                "correct": r["correct"],
            }
            for r in answers
        ],
        "courses_completed": [
            {
                "tenant": r["tenant_id"],
                "course_id": str(r["course_id"]),
                "completed_at": r["completed_at"].isoformat(),
            }
            for r in completed
        ],
        "points": {r["tenant_id"]: r["points"] for r in totals},
    }
