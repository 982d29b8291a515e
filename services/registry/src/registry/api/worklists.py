"""Work lists in the national system's words: 待办 (todo), 未办结 (pending), 即将办理 (upcoming), 超时 (overdue)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Path
from pydantic import BaseModel

from registry.api.common import Readers, RuntimeDep, in_scope
from registry.readmodels import worklists
from shared.auth import Principal

router = APIRouter(tags=["contact status"])

WORKLISTS = Literal["todo", "pending", "upcoming", "overdue"]
CONTACT_TITLES = {
    "at_risk": "失联预警：请联系并记录",
    "lost_contact": "失联党员：待组织研究",
    "self_lapse_review": "自行脱党审查：待支部研究",
}


class WorkItem(BaseModel):
    kind: str
    subject_id: UUID
    title: str
    due: str | None = None


@router.get(
    "/v1/worklists/{worklist}",
    response_model=list[WorkItem],
    summary="待办 (todo), 未办结 (pending), 即将办理 (upcoming), 超时 (overdue)",
)
async def worklist(
    worklist: Annotated[WORKLISTS, Path()], user: Readers, runtime: RuntimeDep
) -> list[WorkItem]:
    if worklist == "todo":
        return _todo(user, await worklists.todo(runtime.pool, user.tenant))
    if worklist == "pending":
        return _pending(user, await worklists.pending(runtime.pool, user.tenant))
    now = runtime.clock.now()
    today = now.date()
    upcoming = worklist == "upcoming"
    rows = await worklists.dated(
        runtime.pool,
        user.tenant,
        today=today,
        soon=today + timedelta(days=30) if upcoming else None,
        stale_before=None if upcoming else now - timedelta(days=30),
    )
    return _dated(user, rows)


def _todo(user: Principal, rows: worklists.Todo) -> list[WorkItem]:
    items = [
        WorkItem(kind="inflow_to_register", subject_id=r["id"], title="流入登记待办理")
        for r in rows.inflows
        if r["host_org_id"] is None or in_scope(user, r["host_org_id"])
    ]
    for r in rows.contact:
        if not in_scope(user, r["organisation_id"]):
            continue
        member = r["member_id"]
        items.append(
            WorkItem(kind=f"contact_{r['state']}", subject_id=member, title=CONTACT_TITLES[r["state"]])
        )
        # Decisions the software proposes and people take (DOMAIN.md section 0).
        if r["state"] == "at_risk" and r["cause"] is None:
            items.append(
                WorkItem(kind="contact_cause_to_choose", subject_id=member, title="失联预警：请选择原因")
            )
        if r["lost_contact_proposed"] and r["state"] == "at_risk":
            items.append(
                WorkItem(kind="lost_contact_to_decide", subject_id=member, title="失联认定：待支部决定")
            )
    return items


def _pending(user: Principal, rows: worklists.Pending) -> list[WorkItem]:
    return [
        WorkItem(kind="outflow_awaiting_host", subject_id=r["id"], title="流出登记：待流入地接收")
        for r in rows.outflows
        if in_scope(user, r["home_org_id"])
    ] + [
        WorkItem(kind="transfer_pending", subject_id=r["id"], title="组织关系转接中", due=r["hold_case_id"])
        for r in rows.transfers
        if in_scope(user, r["organisation_id"])
    ]


def _dated(user: Principal, rows: worklists.Dated) -> list[WorkItem]:
    return (
        [
            WorkItem(
                kind="certificate_review",
                subject_id=r["id"],
                title="活动证年审",
                due=r["certificate_review_due"].isoformat(),
            )
            for r in rows.reviews
            if in_scope(user, r["home_org_id"])
        ]
        + [
            WorkItem(
                kind="deferral_ends",
                subject_id=r["id"],
                title="暂缓转移到期：须转接组织关系",
                due=r["until"].isoformat(),
            )
            for r in rows.deferrals
            if in_scope(user, r["home_org_id"])
        ]
        + [
            WorkItem(
                kind="contact_at_risk_unresolved",
                subject_id=r["member_id"],
                title="失联预警超过30天未处理",
                due=r["flagged_at"].date().isoformat(),
            )
            for r in rows.stale_at_risk
            if in_scope(user, r["organisation_id"])
        ]
    )
