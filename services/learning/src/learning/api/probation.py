"""The probation assessment: the branch's written assessment and the summary for the branch assembly.

The dates are the registry's (it owns the period: admission, extension, 转正, 取消预备资格); this reads them from its
events. The quota is the tenant's; its met/not-met result informs the assembly and decides nothing."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, Field

from learning.api.common import (
    Anyone,
    Day,
    Learning,
    Secretaries,
    Strict,
    Timestamp,
    is_self_or_manager,
    require_org,
)
from learning.application import LearningApplication
from learning.domain import Options, ProbationAssessment, quarters_between, quota_result, report_status
from learning.readmodels.history import probation_facts
from shared.auth import Principal
from shared.errors import Forbidden
from shared.runtime import RuntimeDep
from shared.threads import run_sync


class AssessmentIn(Strict):
    text: str = Field(min_length=1, max_length=20_000)


class AssessmentOut(BaseModel):
    member_id: UUID
    assessment: str | None


class QuarterReportOut(BaseModel):
    quarter: str
    submitted: int
    status: Literal["submitted", "due", "overdue"]


class AttendanceFactsOut(BaseModel):
    branch_meetings_held: int
    present: int
    excused: int
    absent: int
    elsewhere: int = Field(description="present at other branches' meetings, as a mobile member")


class StudyFactsOut(BaseModel):
    check_ins: int
    courses_completed: int
    quiz_answers: int
    quiz_correct: int
    points: int


class QuotaItemOut(BaseModel):
    target: int
    actual: int
    met: bool


class QuotaOut(BaseModel):
    items: dict[str, QuotaItemOut]
    met: bool = Field(description="every target is met; informs the assembly and decides nothing")


class WrittenAssessmentOut(BaseModel):
    text: str | None
    by: str | None
    at: Timestamp | None


class SummaryOut(BaseModel):
    member_id: UUID
    organisation_id: UUID
    admitted_on: Day
    ends_on: Day
    extension_months: int
    state: str
    rush_admission: bool
    days_left: int
    thought_reports: list[QuarterReportOut]
    regularised_on: Day | None
    attendance: AttendanceFactsOut
    study: StudyFactsOut
    quota: QuotaOut
    assessment: WrittenAssessmentOut
    decision: str


probation = APIRouter(prefix="/v1/probation", tags=["probation"])


async def _probation_for(
    user: Principal, member_id: UUID, learning: LearningApplication
) -> ProbationAssessment:
    assessment: ProbationAssessment = await run_sync(learning.get_probation, user.tenant, member_id)
    if not is_self_or_manager(user, member_id):
        raise Forbidden("a probation assessment is read by the member and the branch")
    if user.has_any("branch_secretary") and not user.has_any("committee", "tenant_admin", "auditor"):
        require_org(user, assessment.organisation_id)
    return assessment


@probation.put(
    "/{member_id}/assessment",
    response_model=AssessmentOut,
    summary="The branch's written assessment for the branch assembly",
)
async def assessment(
    member_id: UUID, body: AssessmentIn, user: Secretaries, learning: Learning
) -> dict[str, Any]:
    await _probation_for(user, member_id, learning)
    a = await run_sync(learning.write_probation_summary, user.tenant, member_id, body.text, user.subject)
    return {"member_id": str(member_id), "assessment": a.summary}


@probation.get(
    "/{member_id}/summary",
    response_model=SummaryOut,
    summary="Dates, thought reports by quarter, attendance, study and the assessment, for the assembly",
)
async def summary(member_id: UUID, user: Anyone, runtime: RuntimeDep, learning: Learning) -> dict[str, Any]:
    a = await _probation_for(user, member_id, learning)
    options: Options = await run_sync(learning.options, user.tenant)
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
                "status": report_status(by_quarter.get(q, 0), q, today),
            }
            for q in quarters
        ],
        **record,
        "quota": quota_result(
            options.probation_quota,
            {
                "thought_reports": sum(by_quarter.values()),
                "meetings_attended": facts.present + facts.elsewhere,
                "study_check_ins": facts.study["check_ins"],
            },
        ),
        "assessment": {
            "text": a.summary,
            "by": a.summary_by,
            "at": a.summary_at.isoformat() if a.summary_at else None,
        },
        "decision": "recorded in the registry by the branch assembly (转正 / 延长预备期 / 取消预备党员资格); "
        "the quota informs it and decides nothing",
    }
