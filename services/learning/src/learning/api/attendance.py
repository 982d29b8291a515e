"""Attendance at a meeting: members sign in (never anonymously), the branch records excused absences (请假), and
lists who was present, excused or absent."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, Field

from learning.api.common import Learning, Members, Readers, Secretaries, Strict, Timestamp, member_id_of
from learning.api.meetings import meeting_for_manager
from learning.domain import Meeting, SignInMethod
from learning.domain.meetings import CODE_ATTEMPTS, CODE_ROTATES_AFTER
from learning.readmodels import queries
from shared.meta import event_meta
from shared.runtime import RuntimeDep
from shared.threads import run_sync


class SignInIn(Strict):
    method: Literal["in_person", "online"]
    location: str | None = Field(
        default=None, max_length=200, description="only if the member chooses to share where they are"
    )
    code: str | None = Field(
        default=None,
        pattern=r"^[0-9]{6}$",
        description="in person: the attendance code the secretary shows in the room (ignored online)",
    )


class AttendanceCodeOut(BaseModel):
    meeting_id: UUID
    code: str | None = Field(description="six digits; none for an online meeting or before one is issued")
    issued_at: Timestamp | None
    attempts: int = Field(description="wrong codes a member may enter before in-person sign-in is refused")
    rotates_at: Timestamp | None = Field(
        description="when the rotation (`POST .../attendance-code/rotation`) issues the next code"
    )


class ExcuseIn(Strict):
    member_id: UUID
    reason: str = Field(min_length=1, max_length=500)


class SignedInOut(BaseModel):
    meeting_id: UUID
    member_id: UUID
    status: Literal["present"]
    method: Literal["in_person", "online"]


class ExcusedOut(BaseModel):
    meeting_id: UUID
    member_id: UUID
    status: Literal["excused"]


class MarkOut(BaseModel):
    member_id: UUID
    status: str
    method: str | None
    at: Timestamp


class AttendanceOut(BaseModel):
    meeting_id: UUID
    attendance: list[MarkOut]
    absent: list[UUID] = Field(description="the branch's members (and hosted mobile members) with no mark")


meeting_attendance = APIRouter(prefix="/v1/meetings", tags=["meetings"])


@meeting_attendance.post(
    "/{meeting_id}/sign-in",
    status_code=201,
    response_model=SignedInOut,
    summary="Sign in, in person or online; never anonymous, location only if the member shares it",
)
async def sign_in(meeting_id: UUID, body: SignInIn, user: Members, learning: Learning) -> dict[str, Any]:
    member_id = member_id_of(user)
    await run_sync(
        learning.sign_in,
        user.tenant,
        meeting_id,
        member_id,
        SignInMethod(body.method),
        body.location,
        body.code if body.method == "in_person" else None,
    )
    return {
        "meeting_id": str(meeting_id),
        "member_id": str(member_id),
        "status": "present",
        "method": body.method,
    }


def code_out(meeting: Meeting) -> dict[str, Any]:
    issued = meeting.code_issued_at
    return {
        "meeting_id": str(meeting.id),
        "code": meeting.attendance_code,
        "issued_at": issued.isoformat() if issued else None,
        "attempts": CODE_ATTEMPTS,
        "rotates_at": (issued + CODE_ROTATES_AFTER).isoformat() if issued else None,
    }


@meeting_attendance.get(
    "/{meeting_id}/attendance-code",
    response_model=AttendanceCodeOut,
    summary="The code to show in the room for in-person sign-in (the meeting's secretaries and committee only)",
)
async def attendance_code(meeting_id: UUID, user: Secretaries, learning: Learning) -> dict[str, Any]:
    return code_out(await meeting_for_manager(user, meeting_id, learning))


@meeting_attendance.post(
    "/{meeting_id}/attendance-code",
    response_model=AttendanceCodeOut,
    summary="Issue a new attendance code; the previous one stops working",
)
async def new_attendance_code(meeting_id: UUID, user: Secretaries, learning: Learning) -> dict[str, Any]:
    await meeting_for_manager(user, meeting_id, learning)
    meeting = await run_sync(
        learning.issue_attendance_code, user.tenant, meeting_id, dict(event_meta(user.subject))
    )
    return code_out(meeting)


@meeting_attendance.post(
    "/{meeting_id}/attendance-code/rotation",
    response_model=AttendanceCodeOut,
    summary="While the projector shows it: a new code every 5 minutes, the previous one still accepted",
)
async def rotate_attendance_code(meeting_id: UUID, user: Secretaries, learning: Learning) -> dict[str, Any]:
    await meeting_for_manager(user, meeting_id, learning)
    meeting = await run_sync(
        learning.rotate_attendance_code, user.tenant, meeting_id, dict(event_meta(user.subject))
    )
    return code_out(meeting)


@meeting_attendance.post(
    "/{meeting_id}/excused-absences",
    status_code=201,
    response_model=ExcusedOut,
    summary="Record an excused absence (请假)",
)
async def excuse(meeting_id: UUID, body: ExcuseIn, user: Secretaries, learning: Learning) -> dict[str, Any]:
    await meeting_for_manager(user, meeting_id, learning)
    await run_sync(
        learning.excuse_absence,
        user.tenant,
        meeting_id,
        body.member_id,
        body.reason,
        dict(event_meta(user.subject)),
    )
    return {"meeting_id": str(meeting_id), "member_id": str(body.member_id), "status": "excused"}


@meeting_attendance.get(
    "/{meeting_id}/attendance",
    response_model=AttendanceOut,
    summary="Present, excused and absent members of the branch (mobile members hosted here included)",
)
async def attendance(
    meeting_id: UUID, user: Readers, runtime: RuntimeDep, learning: Learning
) -> dict[str, Any]:
    meeting = await meeting_for_manager(user, meeting_id, learning)
    seen = await queries.attendance(runtime.pool, user.tenant, meeting_id, meeting.organisation_id)
    return {
        "meeting_id": str(meeting_id),
        "attendance": [
            {"member_id": str(r.member_id), "status": r.status, "method": r.method, "at": r.at.isoformat()}
            for r in seen.marks
        ],
        "absent": [str(m) for m in seen.absent],
    }
