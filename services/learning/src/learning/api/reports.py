"""Thought reports (思想汇报) and the probation assessment summary for the branch assembly."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from learning.api.common import (
    Anyone,
    IdempotencyKey,
    Learning,
    Members,
    Secretaries,
    Strict,
    Timestamp,
    is_self_or_manager,
    member_id_of,
    require_org,
    visible_orgs,
)
from learning.domain import ThoughtReport, quarter_of, report_status
from learning.readmodels import queries
from shared.errors import Forbidden
from shared.idempotency import idempotent_create
from shared.runtime import RuntimeDep
from shared.threads import run_sync


class ReportIn(Strict):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=50_000)


class AcknowledgeIn(Strict):
    comment: str = Field(default="", max_length=2000)


class ReportHead(BaseModel):
    """What a thought report's every answer starts with, in this order."""

    id: UUID
    member_id: UUID
    organisation_id: UUID
    quarter: str
    title: str
    submitted_at: Timestamp


class ReportOut(ReportHead):
    acknowledged_at: Timestamp | None
    acknowledged_by: str | None
    comment: str | None


class ReportWithBodyOut(ReportOut):
    body: str


class ReportRowOut(ReportHead):
    acknowledged: bool


class DueMemberOut(BaseModel):
    member_id: UUID
    organisation_id: UUID
    status: Literal["submitted", "due", "overdue"]


class DueOut(BaseModel):
    quarter: str
    members: list[DueMemberOut]


def report_out(r: ThoughtReport, *, with_body: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(r.id),
        "member_id": str(r.member_id),
        "organisation_id": str(r.organisation_id),
        "quarter": r.quarter,
        "title": r.title,
        "submitted_at": r.submitted_at.isoformat(),
        "acknowledged_at": r.acknowledged_at.isoformat() if r.acknowledged_at else None,
        "acknowledged_by": r.acknowledged_by,
        "comment": r.comment,
    }
    if with_body:
        body["body"] = r.body
    return body


reports = APIRouter(prefix="/v1/thought-reports", tags=["thought reports"])


@reports.post(
    "",
    response_model=ReportWithBodyOut,
    status_code=201,
    summary="A probationary member or an 入党积极分子 (token subject member:<development record id>) submits "
    "a thought report for this quarter",
)
async def submit(
    body: ReportIn,
    user: Members,
    runtime: RuntimeDep,
    learning: Learning,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    member_id = member_id_of(user)

    async def create(report_id: UUID) -> dict[str, Any]:
        report = await run_sync(
            learning.submit_thought_report,
            report_id=report_id,
            tenant_id=user.tenant,
            member_id=member_id,
            title=body.title,
            body=body.body,
        )
        return report_out(report, with_body=True)

    return await idempotent_create(
        runtime.pool,
        tenant=user.tenant,
        key=idempotency_key,
        route=f"POST /v1/thought-reports {member_id}",
        payload=body.model_dump(mode="json"),
        create=create,
    )


@reports.get(
    "",
    response_model=list[ReportRowOut],
    summary="Thought reports of the secretary's branches (a member: their own)",
)
async def list_reports(
    user: Anyone,
    runtime: RuntimeDep,
    quarter: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    manager = user.has_any("branch_secretary", "committee", "tenant_admin", "auditor")
    only = None if manager else member_id_of(user)
    orgs = visible_orgs(user) if manager else None
    rows = await queries.thought_reports(
        runtime.pool, user.tenant, only=only, orgs=orgs, quarter=quarter, limit=limit
    )
    return [
        {
            "id": str(r.id),
            "member_id": str(r.member_id),
            "organisation_id": str(r.organisation_id),
            "quarter": r.quarter,
            "title": r.title,
            "submitted_at": r.submitted_at.isoformat(),
            "acknowledged": r.acknowledged_at is not None,
        }
        for r in rows
    ]


@reports.get(
    "/due",
    response_model=DueOut,
    summary="Each probationary member's report for a quarter: submitted, due or overdue",
)
async def due(
    user: Secretaries,
    runtime: RuntimeDep,
    learning: Learning,
    quarter: Annotated[str | None, Query(pattern=r"^\d{4}Q[1-4]$")] = None,
) -> dict[str, Any]:
    options = await run_sync(learning.options, user.tenant)
    today = options.local_date(learning.now())
    quarter = quarter or quarter_of(today)
    rows = await queries.reports_due(runtime.pool, user.tenant, quarter, visible_orgs(user))
    return {
        "quarter": quarter,
        "members": [
            {
                "member_id": str(r.member_id),
                "organisation_id": str(r.organisation_id),
                "status": report_status(r.submitted, quarter, today),
            }
            for r in rows
        ],
    }


@reports.get(
    "/{report_id}",
    response_model=ReportWithBodyOut,
    summary="One report with its text: the author and the branch",
)
async def get_report(report_id: UUID, user: Anyone, learning: Learning) -> dict[str, Any]:
    report = await run_sync(learning.get_thought_report, user.tenant, report_id)
    if not is_self_or_manager(user, report.member_id):
        raise Forbidden("a thought report is read by its author and the branch")
    if user.has_any("branch_secretary") and not user.has_any("committee", "tenant_admin", "auditor"):
        require_org(user, report.organisation_id)
    return report_out(report, with_body=True)


@reports.post(
    "/{report_id}/acknowledgement",
    response_model=ReportOut,
    summary="The branch acknowledges a report, with an optional comment",
)
async def acknowledge(
    report_id: UUID, body: AcknowledgeIn, user: Secretaries, learning: Learning
) -> dict[str, Any]:
    report = await run_sync(learning.get_thought_report, user.tenant, report_id)
    require_org(user, report.organisation_id)
    report = await run_sync(
        learning.acknowledge_thought_report, user.tenant, report_id, user.subject, body.comment
    )
    return report_out(report, with_body=False)
