"""组织生活会 and 民主评议: the speaking order, members' self-assessments, grades and the printed 登记表."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, Field

from learning.api.common import Learning, Members, Readers, Secretaries, Strict, member_id_of
from learning.api.meetings import GradeName, MeetingOut, TextIn, meeting_for_manager, meeting_out
from learning.domain import Grade, MeetingType
from learning.domain.errors import MeetingStateError
from learning.printed import appraisal_form_pdf
from learning.readmodels import queries
from shared.meta import event_meta
from shared.runtime import RuntimeDep
from shared.threads import run_sync


class SpeakingOrderIn(Strict):
    member_ids: list[UUID] = Field(min_length=1, max_length=500)


class SelfAssessedOut(BaseModel):
    meeting_id: UUID
    member_id: UUID


class GradesIn(Strict):
    grades: dict[UUID, GradeName]


appraisal = APIRouter(prefix="/v1/meetings", tags=["meetings"])


@appraisal.put(
    "/{meeting_id}/speaking-order",
    response_model=MeetingOut,
    summary="组织生活会/民主评议: the order members speak in",
)
async def speaking_order(
    meeting_id: UUID, body: SpeakingOrderIn, user: Secretaries, learning: Learning
) -> dict[str, Any]:
    await meeting_for_manager(user, meeting_id, learning)
    meeting = await run_sync(
        learning.set_speaking_order, user.tenant, meeting_id, body.member_ids, dict(event_meta(user.subject))
    )
    return meeting_out(meeting, full=True)


@appraisal.post(
    "/{meeting_id}/self-assessments",
    status_code=201,
    response_model=SelfAssessedOut,
    summary="A member's self-assessment (自评)",
)
async def self_assessment(
    meeting_id: UUID, body: TextIn, user: Members, learning: Learning
) -> dict[str, Any]:
    member_id = member_id_of(user)
    await run_sync(learning.submit_self_assessment, user.tenant, meeting_id, member_id, body.text)
    return {"meeting_id": str(meeting_id), "member_id": str(member_id)}


@appraisal.put(
    "/{meeting_id}/grades",
    response_model=MeetingOut,
    summary="民主评议 grades; 优秀 for at most a third of those graded",
)
async def grades(meeting_id: UUID, body: GradesIn, user: Secretaries, learning: Learning) -> dict[str, Any]:
    await meeting_for_manager(user, meeting_id, learning)
    graded = {member: Grade(g) for member, g in body.grades.items()}
    meeting = await run_sync(
        learning.record_grades, user.tenant, meeting_id, graded, dict(event_meta(user.subject))
    )
    return meeting_out(meeting, full=True)


@appraisal.get(
    "/{meeting_id}/appraisal-form.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "A4 PDF, the CJK font embedded"}},
    summary="民主评议党员登记表: one page per member in the appraisal, with the self-assessment and grade",
)
async def appraisal_form(
    meeting_id: UUID, user: Readers, runtime: RuntimeDep, learning: Learning
) -> Response:
    meeting = await meeting_for_manager(user, meeting_id, learning)
    if meeting.meeting_type not in (MeetingType.DemocraticAppraisal, MeetingType.OrgLifeMeeting):
        raise MeetingStateError("the 登记表 belongs to 民主评议 and 组织生活会")
    categories = await queries.member_categories(runtime.pool, user.tenant, meeting.organisation_id)
    ids = list(
        dict.fromkeys(
            [
                *map(str, meeting.speaking_order),
                *meeting.self_assessments,
                *meeting.grades,
                *sorted(categories),
            ]
        )
    )
    members = [
        {
            "member_id": m,
            "self_assessment": meeting.self_assessments.get(m),
            "grade": meeting.grades[m].value if m in meeting.grades else None,
            "category": {"full": "正式党员", "probationary": "预备党员"}.get(categories.get(m, ""), ""),
        }
        for m in ids
    ]
    data = {"title": meeting.title, "starts_at": meeting.starts_at, "place": meeting.place}
    pdf = await run_sync(appraisal_form_pdf, data, members)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="appraisal-{meeting_id}.pdf"'},
    )
