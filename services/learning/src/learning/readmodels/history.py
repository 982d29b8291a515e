"""Typed reads of one member's record across tenants: their own rows and what another tenant shared with this one
after a transfer or a mobile registration (`history_transaction`), and nothing else of that tenant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from learning.domain.errors import MemberNotKnown
from learning.readmodels.queries import Pool
from learning.readmodels.schema import history_transaction
from shared.db import Connection


async def _shared_with(conn: Connection, tenant: str, member_id: UUID) -> list[UUID]:
    """The member's ids in the tenants that shared their history with this one (a transfer brings a new id)."""
    rows = await conn.fetch(
        "SELECT member_id FROM history_shares WHERE tenant_id = $1 AND grantee_member_id = $2",
        tenant,
        member_id,
    )
    return [r["member_id"] for r in rows]


@dataclass(frozen=True, slots=True)
class AttendedMeeting:
    meeting_id: UUID
    member_id: UUID
    meeting_tenant: str
    organisation_id: UUID
    meeting_type: str
    starts_at: datetime
    status: str
    method: str | None


@dataclass(frozen=True, slots=True)
class CheckedIn:
    tenant_id: str
    member_id: UUID
    local_date: date


@dataclass(frozen=True, slots=True)
class Reported:
    tenant_id: str
    member_id: UUID
    quarter: str
    submitted_at: datetime
    acknowledged_at: datetime | None


@dataclass(frozen=True, slots=True)
class Answered:
    tenant_id: str
    quiz_id: UUID
    answered: int
    correct: int


@dataclass(frozen=True, slots=True)
class Completed:
    tenant_id: str
    course_id: UUID
    completed_at: datetime


@dataclass(frozen=True, slots=True)
class MemberHistory:
    shared_from: list[UUID]
    attendance: list[AttendedMeeting]
    check_ins: list[CheckedIn]
    thought_reports: list[Reported]
    quizzes: list[Answered]
    courses_completed: list[Completed]
    points: dict[str, int]  # by tenant


async def member_history(pool: Pool, tenant: str, member_id: UUID) -> MemberHistory:
    """Raises MemberNotKnown for a member neither of this tenant nor shared with it."""
    async with history_transaction(pool, tenant) as conn:
        own = await conn.fetchval(
            "SELECT count(*) FROM participants WHERE tenant_id = $1 AND member_id = $2",
            tenant,
            member_id,
        )
        shared = await _shared_with(conn, tenant, member_id)
        if not own and not shared:
            raise MemberNotKnown(f"member {member_id} not found")
        ids = [member_id, *shared]
        attendance = await conn.fetch(
            "SELECT DISTINCT ON (meeting_id, member_id) meeting_id, member_id, meeting_tenant, organisation_id, "
            "meeting_type, starts_at, status, method FROM attendance WHERE member_id = ANY($1::uuid[]) "
            "ORDER BY meeting_id, member_id, (tenant_id = meeting_tenant) DESC",
            ids,
        )
        check_ins = await conn.fetch(
            "SELECT tenant_id, member_id, local_date FROM check_ins WHERE "
            "member_id = ANY($1::uuid[]) ORDER BY local_date",
            ids,
        )
        reports = await conn.fetch(
            "SELECT tenant_id, member_id, quarter, submitted_at, acknowledged_at FROM "
            "thought_reports WHERE member_id = ANY($1::uuid[]) ORDER BY submitted_at",
            ids,
        )
        answers = await conn.fetch(
            "SELECT tenant_id, quiz_id, count(*) AS answered, count(*) FILTER (WHERE correct) "
            "AS correct FROM quiz_answers WHERE member_id = ANY($1::uuid[]) GROUP BY 1, 2",
            ids,
        )
        completed = await conn.fetch(
            "SELECT tenant_id, course_id, completed_at FROM study_progress WHERE "
            "member_id = ANY($1::uuid[]) AND completed_at IS NOT NULL",
            ids,
        )
        totals = await conn.fetch(
            "SELECT tenant_id, sum(points) AS points FROM point_entries WHERE "
            "member_id = ANY($1::uuid[]) GROUP BY 1",
            ids,
        )
    return MemberHistory(
        shared_from=shared,
        attendance=[AttendedMeeting(**r) for r in attendance],
        check_ins=[CheckedIn(**r) for r in check_ins],
        thought_reports=[Reported(**r) for r in reports],
        quizzes=[Answered(**r) for r in answers],
        courses_completed=[Completed(**r) for r in completed],
        points={r["tenant_id"]: r["points"] for r in totals},
    )


@dataclass(frozen=True, slots=True)
class ProbationFacts:
    reports_by_quarter: dict[str, int]
    regularised_on: date | None
    branch_meetings_held: int
    present: int  # at the member's branch
    excused: int
    elsewhere: int  # present at another branch's meetings (as a mobile member)
    study: dict[str, Any]  # check_ins, courses_completed, quiz_answers, quiz_correct, points


async def probation_facts(
    pool: Pool, tenant: str, member_id: UUID, branch: UUID, start: datetime, end: datetime
) -> ProbationFacts:
    """What the record shows over a probation period; a member who arrived by transfer brings the record kept
    at the sender (shared history)."""
    async with history_transaction(pool, tenant) as conn:
        ids = [member_id, *await _shared_with(conn, tenant, member_id)]
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
    home = {r["status"]: r["n"] for r in marks if r["at_home"]}
    return ProbationFacts(
        reports_by_quarter={r["quarter"]: r["n"] for r in reports},
        regularised_on=regularised_on,
        branch_meetings_held=held,
        present=home.get("present", 0),
        excused=home.get("excused", 0),
        elsewhere=sum(r["n"] for r in marks if not r["at_home"] and r["status"] == "present"),
        study=dict(study),
    )
