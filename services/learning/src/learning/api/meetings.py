"""Meetings: announce, list, read, opinions before and minutes after (attendance: `attendance.py`; appraisal:
`appraisal.py`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, Field

from learning.api.common import (
    Anyone,
    IdempotencyKey,
    Learning,
    Members,
    Secretaries,
    Strict,
    Timestamp,
    member_id_of,
    require_org,
    require_visible,
    visible_orgs,
)
from learning.application import LearningApplication
from learning.domain import Meeting, MeetingMode, MeetingType
from learning.domain.errors import MeetingNotFound
from learning.readmodels import queries
from shared.auth import Principal
from shared.idempotency import idempotent_create
from shared.meta import event_meta
from shared.runtime import RuntimeDep
from shared.threads import run_sync

MeetingTypeName = Literal[
    "branch_assembly",
    "branch_committee",
    "group_meeting",
    "party_lecture",
    "themed_party_day",
    "org_life_meeting",
    "democratic_appraisal",
    "heart_to_heart_talk",
]
ModeName = Literal["in_person", "online", "hybrid"]
GradeName = Literal["excellent", "qualified", "basically_qualified", "unqualified"]


class MeetingIn(Strict):
    organisation_id: UUID
    meeting_type: MeetingTypeName
    title: str = Field(min_length=1, max_length=200, examples=["十一月主题党日：学习新修订的条例"])
    mode: ModeName
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    place: str | None = Field(
        default=None, max_length=300, description="room or address; online link allowed"
    )
    agenda: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(
        default_factory=list, max_length=50
    )
    short_notice_reason: str | None = Field(default=None, max_length=500)


class TextIn(Strict):
    text: str = Field(min_length=1, max_length=20_000)


class MinutesIn(Strict):
    minutes: str = Field(min_length=1, max_length=100_000)


class OpinionOut(BaseModel):
    member_id: UUID
    text: str
    at: Timestamp


class MeetingHead(BaseModel):
    """What a meeting's every answer starts with, in this order."""

    id: UUID
    organisation_id: UUID
    meeting_type: MeetingTypeName
    title: str
    mode: ModeName
    starts_at: Timestamp
    ends_at: Timestamp
    place: str | None


class MeetingOut(MeetingHead):
    agenda: list[str]
    held: bool = Field(description="the minutes are recorded")
    minutes: str | None
    speaking_order: list[UUID]
    signed_in: int
    excused: int
    version: int
    # Branch managers only: a member reading the meeting gets none of these three keys.
    opinions: list[OpinionOut] | None = Field(default=None, description="branch managers only")
    self_assessments: dict[str, str] | None = Field(
        default=None, description="branch managers only: member id → 自评"
    )
    grades: dict[str, GradeName] | None = Field(
        default=None, description="branch managers only: member id → 民主评议 grade"
    )


class MeetingRowOut(MeetingHead):
    held: bool
    relation: Literal["home", "host"] | None = Field(
        default=None,
        description="a member's list only: their home branch, or the branch hosting them while away (流入地支部)",
    )


class OpinionsOut(BaseModel):
    meeting_id: UUID
    opinions: int = Field(description="opinions collected so far")


def meeting_out(m: Meeting, *, full: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(m.id),
        "organisation_id": str(m.organisation_id),
        "meeting_type": m.meeting_type.value,
        "title": m.title,
        "mode": m.mode.value,
        "starts_at": m.starts_at.isoformat(),
        "ends_at": m.ends_at.isoformat(),
        "place": m.place,
        "agenda": m.agenda,
        "held": m.held,
        "minutes": m.minutes,
        "speaking_order": [str(i) for i in m.speaking_order],
        "signed_in": sum(1 for s in m.attendance.values() if s == "present"),
        "excused": sum(1 for s in m.attendance.values() if s == "excused"),
        "version": m.version,
    }
    if full:  # opinions, self-assessments and grades are for the branch, not for every member
        body["opinions"] = [
            {"member_id": str(o["member_id"]), "text": o["text"], "at": o["at"].isoformat()}
            for o in m.opinions
        ]
        body["self_assessments"] = m.self_assessments
        body["grades"] = {k: g.value for k, g in m.grades.items()}
    return body


meetings = APIRouter(prefix="/v1/meetings", tags=["meetings"])


@meetings.post(
    "",
    status_code=201,
    response_model=MeetingOut,
    summary="Announce a meeting; the notice goes out the tenant's notice days ahead",
)
async def announce(
    body: MeetingIn,
    user: Secretaries,
    runtime: RuntimeDep,
    learning: Learning,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    require_org(user, body.organisation_id)

    async def create(meeting_id: UUID) -> dict[str, Any]:
        meeting = await run_sync(
            learning.announce_meeting,
            meeting_id=meeting_id,
            tenant_id=user.tenant,
            organisation_id=body.organisation_id,
            meeting_type=MeetingType(body.meeting_type),
            title=body.title,
            mode=MeetingMode(body.mode),
            starts_at=body.starts_at,
            ends_at=body.ends_at,
            place=body.place,
            agenda=body.agenda,
            short_notice_reason=body.short_notice_reason,
            meta=dict(event_meta(user.subject)),
        )
        return meeting_out(meeting, full=True)

    return await idempotent_create(
        runtime.pool,
        tenant=user.tenant,
        key=idempotency_key,
        route="POST /v1/meetings",
        payload=body.model_dump(mode="json"),
        create=create,
    )


@meetings.get(
    "",
    response_model=list[MeetingRowOut],
    response_model_exclude_unset=True,  # `relation` only in a member's list
    summary="Meetings of the tenant (a secretary's branches); a member's home branch and, while away, host branch",
)
async def list_meetings(
    user: Anyone,
    runtime: RuntimeDep,
    learning: Learning,
    organisation_id: UUID | None = None,
    from_: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    to: AwareDatetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    orgs = visible_orgs(user)
    if user.has_any("member") and orgs is not None and not user.orgs:
        branches = await run_sync(learning.member_branches, user.tenant, member_id_of(user))
        found = [
            (row, "host" if hosted else "home")
            for tenant, branch, hosted in branches
            for row in await queries.meetings(
                runtime.pool,
                tenant,
                orgs=[str(branch)],
                organisation_id=organisation_id,
                since=from_,
                until=to,
                limit=limit,
            )
        ]
        found.sort(key=lambda f: f[0].starts_at, reverse=True)
        return [{**meeting_row(r), "relation": relation} for r, relation in found[:limit]]
    rows = await queries.meetings(
        runtime.pool,
        user.tenant,
        orgs=orgs,
        organisation_id=organisation_id,
        since=from_,
        until=to,
        limit=limit,
    )
    return [meeting_row(r) for r in rows]


def meeting_row(r: queries.MeetingRow) -> dict[str, Any]:
    return {
        "id": str(r.id),
        "organisation_id": str(r.organisation_id),
        "meeting_type": r.meeting_type,
        "title": r.title,
        "mode": r.mode,
        "starts_at": r.starts_at.isoformat(),
        "ends_at": r.ends_at.isoformat(),
        "place": r.place,
        "held": r.held,
    }


@meetings.get(
    "/{meeting_id}",
    response_model=MeetingOut,
    response_model_exclude_unset=True,  # a member's view has no opinions, self-assessments or grades keys
    summary="One meeting: agenda, attendance counts, minutes; opinions for managers",
)
async def get_meeting(meeting_id: UUID, user: Anyone, learning: Learning) -> dict[str, Any]:
    meeting = await run_sync(learning.get_meeting, user.tenant, meeting_id)
    manager = user.has_any("branch_secretary", "committee", "tenant_admin", "auditor")
    await require_visible(
        user, learning, [meeting.organisation_id], MeetingNotFound(f"meeting {meeting_id} not found")
    )
    return meeting_out(meeting, full=manager)


@meetings.post(
    "/{meeting_id}/opinions",
    status_code=201,
    response_model=OpinionsOut,
    summary="A member's opinion, collected before the meeting",
)
async def collect_opinion(
    meeting_id: UUID, body: TextIn, user: Members, learning: Learning
) -> dict[str, Any]:
    meeting = await run_sync(learning.collect_opinion, user.tenant, meeting_id, member_id_of(user), body.text)
    return {"meeting_id": str(meeting.id), "opinions": len(meeting.opinions)}


@meetings.post(
    "/{meeting_id}/minutes",
    response_model=MeetingOut,
    summary="Record the minutes: the meeting counts as held; sign-in closes",
)
async def minutes(meeting_id: UUID, body: MinutesIn, user: Secretaries, learning: Learning) -> dict[str, Any]:
    await meeting_for_manager(user, meeting_id, learning)
    meeting = await run_sync(
        learning.record_minutes, user.tenant, meeting_id, body.minutes, dict(event_meta(user.subject))
    )
    return meeting_out(meeting, full=True)


async def meeting_for_manager(user: Principal, meeting_id: UUID, learning: LearningApplication) -> Meeting:
    """The meeting, for a secretary of its branch (committee and administrators: any; auditors read any)."""
    meeting: Meeting = await run_sync(learning.get_meeting, user.tenant, meeting_id)
    if not user.has_any("auditor"):
        require_org(user, meeting.organisation_id)
    return meeting
