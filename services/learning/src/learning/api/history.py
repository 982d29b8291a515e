"""A member's learning and attendance history, with what another tenant shared after a transfer or a mobile
registration."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, Field

from learning.api.common import Day, Learning, Readers, Timestamp, require_member_scope
from learning.readmodels.history import member_history as history_of
from shared.runtime import RuntimeDep


class AttendedOut(BaseModel):
    meeting_id: UUID
    member_id: UUID = Field(description="the member's id in the tenant where the meeting was")
    tenant: str
    organisation_id: UUID
    meeting_type: str
    starts_at: Timestamp
    status: str
    method: str | None


class CheckInOut(BaseModel):
    tenant: str
    local_date: Day


class ReportedOut(BaseModel):
    tenant: str
    quarter: str
    submitted_at: Timestamp
    acknowledged: bool


class QuizTakenOut(BaseModel):
    tenant: str
    quiz_id: UUID
    answered: int
    correct: int


class CourseCompletedOut(BaseModel):
    tenant: str
    course_id: UUID
    completed_at: Timestamp


class HistoryOut(BaseModel):
    member_id: UUID
    shared_from: list[UUID] = Field(description="the member's ids in the tenants that shared their history")
    attendance: list[AttendedOut]
    check_ins: list[CheckInOut]
    thought_reports: list[ReportedOut]
    quizzes: list[QuizTakenOut]
    courses_completed: list[CourseCompletedOut]
    points: dict[str, int] = Field(description="points by tenant")


history = APIRouter(prefix="/v1/members", tags=["history"])


@history.get(
    "/{member_id}/history",
    response_model=HistoryOut,
    summary="A member's learning and attendance history; includes what another tenant shared after a "
    "transfer or a mobile registration, and nothing else of that tenant",
)
async def member_history(
    member_id: UUID, user: Readers, runtime: RuntimeDep, learning: Learning
) -> dict[str, Any]:
    await require_member_scope(user, learning, member_id)
    found = await history_of(runtime.pool, user.tenant, member_id)
    return {
        "member_id": str(member_id),
        "shared_from": [str(s) for s in found.shared_from],
        "attendance": [
            {
                "meeting_id": str(r.meeting_id),
                "member_id": str(r.member_id),
                "tenant": r.meeting_tenant,
                "organisation_id": str(r.organisation_id),
                "meeting_type": r.meeting_type,
                "starts_at": r.starts_at.isoformat(),
                "status": r.status,
                "method": r.method,
            }
            for r in found.attendance
        ],
        "check_ins": [
            {"tenant": r.tenant_id, "local_date": r.local_date.isoformat()} for r in found.check_ins
        ],
        "thought_reports": [
            {
                "tenant": r.tenant_id,
                "quarter": r.quarter,
                "submitted_at": r.submitted_at.isoformat(),
                "acknowledged": r.acknowledged_at is not None,
            }
            for r in found.thought_reports
        ],
        "quizzes": [
            {"tenant": r.tenant_id, "quiz_id": str(r.quiz_id), "answered": r.answered, "correct": r.correct}
            for r in found.quizzes
        ],
        "courses_completed": [
            {"tenant": r.tenant_id, "course_id": str(r.course_id), "completed_at": r.completed_at.isoformat()}
            for r in found.courses_completed
        ],
        "points": found.points,
    }
