"""The probation assessment: the branch's written assessment and the summary for the branch assembly.

The dates are the registry's (it owns the period: admission, extension, 转正, 取消预备资格); this reads them from its
events. The quota is the tenant's; its met/not-met result informs the assembly and decides nothing."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from uuid import UUID

from fastapi import APIRouter
from pydantic import Field

from learning.api.common import Anyone, Learning, Secretaries, Strict, is_self_or_manager, require_org, run
from learning.application import LearningApplication
from learning.domain import Options, ProbationAssessment, quarter_bounds, quarters_between
from learning.domain.errors import MemberNotKnown
from learning.readmodels import history_transaction
from shared.auth import Principal
from shared.db import Connection
from shared.errors import Forbidden
from shared.runtime import RuntimeDep


class AssessmentIn(Strict):
    text: str = Field(min_length=1, max_length=20_000)


probation = APIRouter(prefix="/v1/probation", tags=["probation"])


async def _probation_for(
    user: Principal, member_id: UUID, learning: LearningApplication
) -> ProbationAssessment:
    assessment: ProbationAssessment = await run(learning.get_probation, user.tenant, member_id)
    if not is_self_or_manager(user, member_id):
        raise Forbidden("a probation assessment is read by the member and the branch")
    if user.has_any("branch_secretary") and not user.has_any("committee", "tenant_admin", "auditor"):
        require_org(user, assessment.organisation_id)
    return assessment


@probation.put("/{member_id}/assessment", summary="The branch's written assessment for the branch assembly")
async def assessment(
    member_id: UUID, body: AssessmentIn, user: Secretaries, learning: Learning
) -> dict[str, Any]:
    await _probation_for(user, member_id, learning)
    a = await run(learning.write_probation_summary, user.tenant, member_id, body.text, user.subject)
    return {"member_id": str(member_id), "assessment": a.summary}


@probation.get(
    "/{member_id}/summary",
    summary="Dates, thought reports by quarter, attendance, study and the assessment, for the assembly",
)
async def summary(member_id: UUID, user: Anyone, runtime: RuntimeDep, learning: Learning) -> dict[str, Any]:
    a = await _probation_for(user, member_id, learning)
    options: Options = await run(learning.options, user.tenant)
    today = options.local_date(learning.now())
    start = datetime.combine(a.admitted_on, time(), options.zone)
    end = datetime.combine(a.ends_on, time(), options.zone)
    async with history_transaction(runtime.pool, user.tenant) as conn:
        # A member who arrived by transfer brings the record kept at the sender (shared history).
        shared = await conn.fetch(
            "SELECT member_id FROM history_shares WHERE tenant_id = $1 AND grantee_member_id = $2",
            user.tenant,
            member_id,
        )
        ids = [member_id, *(r["member_id"] for r in shared)]
        facts = await _probation_facts(conn, user.tenant, member_id, ids, a.organisation_id, start, end)
    quarters = quarters_between(a.admitted_on, min(today, a.ends_on))
    by_quarter = facts.pop("reports_by_quarter")
    return {
        "member_id": str(member_id),
        "organisation_id": str(a.organisation_id),
        "admitted_on": a.admitted_on.isoformat(),
        "ends_on": a.ends_on.isoformat(),
        "extension_months": a.extension_months,
        "state": a.state,
        "rush_admission": a.rush_admission,
        "days_left": (a.ends_on - today).days,
        "thought_reports": [
            {
                "quarter": q,
                "submitted": by_quarter.get(q, 0),
                "status": "submitted"
                if by_quarter.get(q)
                else ("overdue" if today >= quarter_bounds(q)[1] else "due"),
            }
            for q in quarters
        ],
        **facts,
        "quota": quota_result(options.probation_quota, by_quarter, facts),
        "assessment": {
            "text": a.summary,
            "by": a.summary_by,
            "at": a.summary_at.isoformat() if a.summary_at else None,
        },
        "decision": "recorded in the registry by the branch assembly (转正 / 延长预备期 / 取消预备党员资格); "
        "the quota informs it and decides nothing",
    }


def quota_result(quota: dict[str, int], by_quarter: dict[str, int], facts: dict[str, Any]) -> dict[str, Any]:
    """Each target of the tenant's quota against what the record shows; met only when every target is."""
    actual = {
        "thought_reports": sum(by_quarter.values()),
        "meetings_attended": facts["attendance"]["present"] + facts["attendance"]["elsewhere"],
        "study_check_ins": facts["study"]["check_ins"],
    }
    items = {k: {"target": quota[k], "actual": actual[k], "met": actual[k] >= quota[k]} for k in quota}
    return {"items": items, "met": all(i["met"] for i in items.values())}


async def _probation_facts(
    conn: Connection,
    tenant: str,
    member_id: UUID,
    ids: list[UUID],
    branch: UUID,
    start: datetime,
    end: datetime,
) -> dict[str, Any]:
    reports = await conn.fetch(
        "SELECT quarter, count(*) AS n FROM thought_reports WHERE member_id = ANY($1::uuid[]) GROUP BY quarter",
        ids,
    )
    held = await conn.fetchval(
        "SELECT count(*) FROM meetings WHERE tenant_id = $1 AND organisation_id = $2 AND "
        "held AND starts_at >= $3 AND starts_at < $4",
        tenant,
        branch,
        start,
        end,
    )
    marks = await conn.fetch(
        "SELECT status, organisation_id = $2 AS at_home, count(DISTINCT meeting_id) AS n FROM attendance "
        "WHERE member_id = ANY($1::uuid[]) AND starts_at >= $3 AND starts_at < $4 GROUP BY 1, 2",
        ids,
        branch,
        start,
        end,
    )
    home = {r["status"]: r["n"] for r in marks if r["at_home"]}
    study = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM check_ins WHERE member_id = ANY($1::uuid[]) AND at >= $2 AND at < $3) "
        "AS check_ins, (SELECT count(*) FROM study_progress WHERE member_id = ANY($1::uuid[]) AND "
        "completed_at IS NOT NULL) AS courses_completed, (SELECT count(*) FROM quiz_answers WHERE "
        "member_id = ANY($1::uuid[])) AS quiz_answers, (SELECT count(*) FROM quiz_answers WHERE "
        "member_id = ANY($1::uuid[]) AND correct) AS quiz_correct, (SELECT coalesce(sum(points), 0) FROM "
        "point_entries WHERE member_id = ANY($1::uuid[])) AS points",
        ids,
        start,
        end,
    )
    regularised_on = await conn.fetchval(
        "SELECT regularised_on FROM probations WHERE tenant_id = $1 AND member_id = $2", tenant, member_id
    )
    if study is None:
        raise MemberNotKnown(f"member {member_id} not found")
    present, excused = home.get("present", 0), home.get("excused", 0)
    return {
        "reports_by_quarter": {r["quarter"]: r["n"] for r in reports},
        "regularised_on": regularised_on.isoformat() if regularised_on else None,
        "attendance": {
            "branch_meetings_held": held,
            "present": present,
            "excused": excused,
            "absent": max(0, held - present - excused),
            "elsewhere": sum(r["n"] for r in marks if not r["at_home"] and r["status"] == "present"),
        },
        "study": dict(study),
    }
