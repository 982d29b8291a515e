"""Courses and micro-lessons, progress, and daily study check-ins."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from learning.api.common import (
    Anyone,
    Day,
    IdempotencyKey,
    Learning,
    Members,
    Secretaries,
    Strict,
    Timestamp,
    content_scope,
    member_id_of,
    require_member_scope,
    require_org,
    require_visible,
)
from learning.domain import Course, CourseKind
from learning.domain.errors import CourseNotFound
from learning.readmodels import queries
from shared.errors import Forbidden
from shared.idempotency import idempotent_create
from shared.meta import event_meta
from shared.runtime import RuntimeDep
from shared.threads import run_sync

Ref = Annotated[str, Field(min_length=1, max_length=2000)]


class CourseIn(Strict):
    kind: Literal["course", "micro_lesson"]
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(default="", max_length=100_000)
    links: list[Ref] = Field(default_factory=list, max_length=50, description="video or audio links")
    attachments: list[Ref] = Field(
        default_factory=list,
        max_length=50,
        description="references (URL or document id), never the file itself",
    )
    organisation_ids: list[UUID] = Field(default_factory=list, description="empty: the whole tenant")


class AssignIn(Strict):
    organisation_ids: list[UUID] = Field(min_length=1)


class ProgressIn(Strict):
    percent: int = Field(ge=0, le=100)


class CheckInIn(Strict):
    material: str = Field(min_length=1, max_length=500, description="what was read")
    evidence: str | None = Field(default=None, max_length=2000, description="optional: a note or a link")


class CourseOut(BaseModel):
    id: UUID
    kind: Literal["course", "micro_lesson"]
    title: str
    body: str
    links: list[str]
    attachments: list[str]
    organisation_ids: list[UUID] = Field(description="empty: the whole tenant")


class CourseRowOut(BaseModel):
    id: UUID
    kind: Literal["course", "micro_lesson"]
    title: str
    organisation_ids: list[UUID]
    published_at: Timestamp


class ProgressOut(BaseModel):
    course_id: UUID
    member_id: UUID
    percent: int
    completed: bool


class CheckedInOut(BaseModel):
    id: UUID
    member_id: UUID
    local_date: Day
    at: Timestamp


class CheckInRowOut(BaseModel):
    id: UUID
    local_date: Day
    at: Timestamp
    has_evidence: bool


def course_out(c: Course) -> dict[str, Any]:
    return {
        "id": str(c.id),
        "kind": c.kind.value,
        "title": c.title,
        "body": c.body,
        "links": c.links,
        "attachments": c.attachments,
        "organisation_ids": [str(o) for o in c.organisation_ids],
    }


courses = APIRouter(prefix="/v1/courses", tags=["study"])
check_ins = APIRouter(prefix="/v1/check-ins", tags=["study"])


@courses.post(
    "",
    response_model=CourseOut,
    status_code=201,
    summary="Publish a course or micro-lesson, optionally assigned to organisations",
)
async def publish(
    body: CourseIn,
    user: Secretaries,
    runtime: RuntimeDep,
    learning: Learning,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    for org in body.organisation_ids:
        require_org(user, org)
    if not body.organisation_ids and not user.has_any("committee", "tenant_admin"):
        raise Forbidden("a tenant-wide course is published by the committee", field="organisation_ids")

    async def create(course_id: UUID) -> dict[str, Any]:
        course = await run_sync(
            learning.publish_course,
            course_id=course_id,
            tenant_id=user.tenant,
            kind=CourseKind(body.kind),
            title=body.title,
            body=body.body,
            links=body.links,
            attachments=body.attachments,
            organisation_ids=body.organisation_ids,
            meta=dict(event_meta(user.subject)),
        )
        return course_out(course)

    return await idempotent_create(
        runtime.pool,
        tenant=user.tenant,
        key=idempotency_key,
        route="POST /v1/courses",
        payload=body.model_dump(mode="json"),
        create=create,
    )


@courses.get(
    "",
    response_model=list[CourseRowOut],
    summary="Courses: those of the whole tenant and of the branches the caller belongs to or holds",
)
async def list_courses(
    user: Anyone, runtime: RuntimeDep, learning: Learning, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[dict[str, Any]]:
    scope = await content_scope(user, learning)
    rows = await queries.courses(runtime.pool, user.tenant, scope=scope, limit=limit)
    return [
        {
            "id": str(r.id),
            "kind": r.kind,
            "title": r.title,
            "organisation_ids": [str(o) for o in r.organisation_ids],
            "published_at": r.published_at.isoformat(),
        }
        for r in rows
    ]


@courses.get(
    "/{course_id}",
    response_model=CourseOut,
    summary="One course with its text, links and attachment references",
)
async def get_course(course_id: UUID, user: Anyone, learning: Learning) -> dict[str, Any]:
    course = await run_sync(learning.get_course, user.tenant, course_id)
    await require_visible(
        user, learning, course.organisation_ids, CourseNotFound(f"course {course_id} not found")
    )
    return course_out(course)


@courses.post(
    "/{course_id}/assignments", response_model=CourseOut, summary="Assign the course to more organisations"
)
async def assign(course_id: UUID, body: AssignIn, user: Secretaries, learning: Learning) -> dict[str, Any]:
    for org in body.organisation_ids:
        require_org(user, org)
    course = await run_sync(
        learning.assign_course, user.tenant, course_id, body.organisation_ids, dict(event_meta(user.subject))
    )
    return course_out(course)


@courses.put(
    "/{course_id}/progress",
    response_model=ProgressOut,
    summary="The member's own progress; completion earns points once",
)
async def progress(course_id: UUID, body: ProgressIn, user: Members, learning: Learning) -> dict[str, Any]:
    member_id = member_id_of(user)
    state = await run_sync(learning.record_progress, user.tenant, course_id, member_id, body.percent)
    return {
        "course_id": str(course_id),
        "member_id": str(member_id),
        "percent": state.percent,
        "completed": state.completed,
    }


@check_ins.post(
    "",
    response_model=CheckedInOut,
    status_code=201,
    summary="Daily study check-in, once a day, inside the tenant's allowed hours",
)
async def check_in(body: CheckInIn, user: Members, learning: Learning) -> dict[str, Any]:
    done = await run_sync(learning.check_in, user.tenant, member_id_of(user), body.material, body.evidence)
    return {
        "id": str(done.id),
        "member_id": str(done.member_id),
        "local_date": done.local_date.isoformat(),
        "at": done.at.isoformat(),
    }


@check_ins.get(
    "", response_model=list[CheckInRowOut], summary="Check-ins of a member (a member sees their own)"
)
async def list_check_ins(
    member_id: UUID,
    user: Anyone,
    runtime: RuntimeDep,
    learning: Learning,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    await require_member_scope(user, learning, member_id)
    rows = await queries.check_ins(runtime.pool, user.tenant, member_id, limit)
    return [
        {
            "id": str(r.id),
            "local_date": r.local_date.isoformat(),
            "at": r.at.isoformat(),
            "has_evidence": r.has_evidence,
        }
        for r in rows
    ]
