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
from learning.readmodels.history import probation_facts
from shared.auth import Principal
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
    facts = await probation_facts(runtime.pool, user.tenant, member_id, a.organisation_id, start, end)
    quarters = quarters_between(a.admitted_on, min(today, a.ends_on))
    by_quarter = facts.reports_by_quarter
    record = {
        "regularised_on": facts.regularised_on.isoformat() if facts.regularised_on else None,
        "attendance": {
            "branch_meetings_held": facts.branch_meetings_held,
            "present": facts.present,
            "excused": facts.excused,
            "absent": max(0, facts.branch_meetings_held - facts.present - facts.excused),
            "elsewhere": facts.elsewhere,
        },
        "study": facts.study,
    }
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
        **record,
        "quota": quota_result(options.probation_quota, by_quarter, record),
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
