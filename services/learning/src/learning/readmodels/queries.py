"""Typed reads of learning's read models within one tenant: what the routes call instead of writing SQL.

Each function opens its own tenant transaction (row-level security compares rows to the tenant) and returns
plain typed rows; shaping them into a response is the route's business. A member's own history and probation
facts, which include what another tenant shared, are in `readmodels.history`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from uuid import UUID

import asyncpg

from shared.db import tenant_transaction

Pool = asyncpg.Pool


@dataclass(frozen=True, slots=True)
class HeldMeeting:
    organisation_id: UUID
    meeting_type: str
    starts_at: datetime


@dataclass(frozen=True, slots=True)
class CadenceFacts:
    branches: list[UUID]  # branches and general branches in sight, by id
    held: list[HeldMeeting]  # meetings held in the period, every branch's


async def cadence_facts(
    pool: Pool, tenant: str, orgs: list[str] | None, start: datetime, end: datetime
) -> CadenceFacts:
    async with tenant_transaction(pool, tenant) as conn:
        branches = await conn.fetch(
            "SELECT id FROM branches WHERE kind IN ('branch', 'general_branch') AND "
            "($1::uuid[] IS NULL OR id = ANY($1::uuid[])) ORDER BY id",
            orgs,
        )
        held = await conn.fetch(
            "SELECT organisation_id, meeting_type, starts_at FROM meetings WHERE held AND starts_at >= $1 "
            "AND starts_at < $2",
            start,
            end,
        )
    return CadenceFacts([r["id"] for r in branches], [HeldMeeting(**r) for r in held])


@dataclass(frozen=True, slots=True)
class MeetingRow:
    id: UUID
    organisation_id: UUID
    meeting_type: str
    title: str
    mode: str
    starts_at: datetime
    ends_at: datetime
    place: str | None
    held: bool


async def meetings(
    pool: Pool,
    tenant: str,
    *,
    orgs: list[str] | None,
    organisation_id: UUID | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> list[MeetingRow]:
    """Newest first."""
    async with tenant_transaction(pool, tenant) as conn:
        rows = await conn.fetch(
            "SELECT id, organisation_id, meeting_type, title, mode, starts_at, ends_at, place, held FROM meetings "
            "WHERE ($1::uuid[] IS NULL OR organisation_id = ANY($1::uuid[])) AND ($2::uuid IS NULL OR "
            "organisation_id = $2) AND ($3::timestamptz IS NULL OR starts_at >= $3) AND "
            "($4::timestamptz IS NULL OR starts_at < $4) ORDER BY starts_at DESC LIMIT $5",
            orgs,
            organisation_id,
            since,
            until,
            limit,
        )
    return [MeetingRow(**r) for r in rows]


async def member_categories(pool: Pool, tenant: str, organisation_id: UUID) -> dict[str, str]:
    """Member id (as text) → category, for the branch's participants (members and hosted mobile members)."""
    async with tenant_transaction(pool, tenant) as conn:
        rows = await conn.fetch(
            "SELECT member_id, category FROM participants WHERE tenant_id = $1 AND organisation_id = $2",
            tenant,
            organisation_id,
        )
    return {str(r["member_id"]): r["category"] for r in rows}


@dataclass(frozen=True, slots=True)
class Mark:
    member_id: UUID
    status: str
    method: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class Attendance:
    marks: list[Mark]  # present and excused
    absent: list[UUID]  # the branch's participants with no mark


async def attendance(pool: Pool, tenant: str, meeting_id: UUID, organisation_id: UUID) -> Attendance:
    async with tenant_transaction(pool, tenant) as conn:
        rows = await conn.fetch(
            "SELECT member_id, status, method, at FROM attendance WHERE tenant_id = $1 AND meeting_id = $2",
            tenant,
            meeting_id,
        )
        expected = await conn.fetch(
            "SELECT member_id, relation FROM participants WHERE tenant_id = $1 AND organisation_id = $2",
            tenant,
            organisation_id,
        )
    seen = {r["member_id"] for r in rows}
    return Attendance(
        [Mark(**r) for r in rows], [r["member_id"] for r in expected if r["member_id"] not in seen]
    )


@dataclass(frozen=True, slots=True)
class CourseRow:
    id: UUID
    kind: str
    title: str
    organisation_ids: list[UUID]
    published_at: datetime


async def courses(pool: Pool, tenant: str, *, scope: list[UUID] | None, limit: int) -> list[CourseRow]:
    """Newest first; with a scope, only the courses assigned to one of its branches or to the whole tenant."""
    async with tenant_transaction(pool, tenant) as conn:
        rows = await conn.fetch(
            "SELECT id, kind, title, organisation_ids, published_at FROM courses WHERE $1::uuid[] IS NULL "
            "OR cardinality(organisation_ids) = 0 OR organisation_ids && $1::uuid[] ORDER BY published_at DESC "
            "LIMIT $2",
            scope,
            limit,
        )
    return [CourseRow(**r) for r in rows]


@dataclass(frozen=True, slots=True)
class CheckInRow:
    id: UUID
    local_date: date
    at: datetime
    has_evidence: bool


async def check_ins(pool: Pool, tenant: str, member_id: UUID, limit: int) -> list[CheckInRow]:
    """A member's check-ins, the latest day first."""
    async with tenant_transaction(pool, tenant) as conn:
        rows = await conn.fetch(
            "SELECT id, local_date, at, has_evidence FROM check_ins WHERE tenant_id = $1 AND member_id = $2 "
            "ORDER BY local_date DESC LIMIT $3",
            tenant,
            member_id,
            limit,
        )
    return [CheckInRow(**r) for r in rows]


@dataclass(frozen=True, slots=True)
class QuizRow:
    id: UUID
    kind: str
    title: str
    opens_at: datetime
    closes_at: datetime
    question_count: int


async def quizzes(pool: Pool, tenant: str, *, scope: list[UUID] | None, limit: int) -> list[QuizRow]:
    """The latest to open first; with a scope, only the quizzes for one of its branches or the whole tenant."""
    async with tenant_transaction(pool, tenant) as conn:
        rows = await conn.fetch(
            "SELECT id, kind, title, opens_at, closes_at, question_count FROM quizzes WHERE $1::uuid[] IS NULL "
            "OR cardinality(organisation_ids) = 0 OR organisation_ids && $1::uuid[] ORDER BY opens_at DESC "
            "LIMIT $2",
            scope,
            limit,
        )
    return [QuizRow(**r) for r in rows]


@dataclass(frozen=True, slots=True)
class QuizScore:
    member_id: UUID
    answered: int
    score: int
    first_correct: int


async def quiz_scores(
    pool: Pool, tenant: str, quiz_id: UUID, *, only: UUID | None, orgs: list[str] | None
) -> list[QuizScore]:
    """Per member, by member id; `only` one member, `orgs` the members answering in those branches."""
    async with tenant_transaction(pool, tenant) as conn:
        rows = await conn.fetch(
            "SELECT member_id, count(*) AS answered, count(*) FILTER (WHERE correct) AS score, "
            "count(*) FILTER (WHERE first_correct) AS first_correct FROM quiz_answers WHERE quiz_id = $1 "
            "AND ($2::uuid IS NULL OR member_id = $2) AND ($3::uuid[] IS NULL OR organisation_id = ANY($3::uuid[])) "
            "GROUP BY member_id ORDER BY member_id",
            quiz_id,
            only,
            orgs,
        )
    return [QuizScore(**r) for r in rows]


@dataclass(frozen=True, slots=True)
class ReportRow:
    id: UUID
    member_id: UUID
    organisation_id: UUID
    quarter: str
    title: str
    submitted_at: datetime
    acknowledged_at: datetime | None


async def thought_reports(
    pool: Pool,
    tenant: str,
    *,
    only: UUID | None,
    orgs: list[str] | None,
    quarter: str | None,
    limit: int,
) -> list[ReportRow]:
    """The latest submitted first; `only` one member's, `orgs` those of these branches."""
    async with tenant_transaction(pool, tenant) as conn:
        rows = await conn.fetch(
            "SELECT id, member_id, organisation_id, quarter, title, submitted_at, acknowledged_at FROM "
            "thought_reports WHERE tenant_id = $1 AND ($2::uuid IS NULL OR member_id = $2) AND "
            "($3::uuid[] IS NULL OR organisation_id = ANY($3::uuid[])) AND ($4::text IS NULL OR quarter = $4) "
            "ORDER BY submitted_at DESC LIMIT $5",
            tenant,
            only,
            orgs,
            quarter,
            limit,
        )
    return [ReportRow(**r) for r in rows]


@dataclass(frozen=True, slots=True)
class ReportDue:
    member_id: UUID
    organisation_id: UUID
    submitted: int  # reports submitted for the quarter


async def reports_due(pool: Pool, tenant: str, quarter: str, orgs: list[str] | None) -> list[ReportDue]:
    """Every probationary member of the branches in sight, with the reports they submitted for the quarter."""
    async with tenant_transaction(pool, tenant) as conn:
        rows = await conn.fetch(
            "SELECT p.member_id, p.organisation_id, count(r.id) AS submitted FROM participants p "
            "LEFT JOIN thought_reports r ON r.member_id = p.member_id AND r.quarter = $2 "
            "WHERE p.tenant_id = $1 AND p.relation = 'member' AND p.category = 'probationary' "
            "AND ($3::uuid[] IS NULL OR p.organisation_id = ANY($3::uuid[])) "
            "GROUP BY p.member_id, p.organisation_id ORDER BY p.member_id",
            tenant,
            quarter,
            orgs,
        )
    return [ReportDue(**r) for r in rows]


@dataclass(frozen=True, slots=True)
class PointRow:
    rule: str
    action_id: str
    requested: int
    points: int
    local_date: date
    cause: str
    at: datetime


async def point_entries(pool: Pool, tenant: str, member_id: UUID, start: date, end: date) -> list[PointRow]:
    """A member's ledger between two local days (both included), in the order earned."""
    async with tenant_transaction(pool, tenant) as conn:
        rows = await conn.fetch(
            "SELECT rule, action_id, requested, points, local_date, cause, at FROM point_entries WHERE "
            "tenant_id = $1 AND member_id = $2 AND local_date BETWEEN $3 AND $4 ORDER BY at",
            tenant,
            member_id,
            start,
            end,
        )
    return [PointRow(**r) for r in rows]


async def point_totals(
    pool: Pool, tenant: str, by: Literal["branch", "member"], start: date, end: date, orgs: list[str] | None
) -> list[tuple[UUID, int]]:
    """(branch or member id, points) between two local days, by id."""
    column = "organisation_id" if by == "branch" else "member_id"
    async with tenant_transaction(pool, tenant) as conn:
        rows = await conn.fetch(
            f"SELECT {column} AS key, sum(points) AS total FROM point_entries WHERE tenant_id = $1 AND "
            f"local_date BETWEEN $2 AND $3 AND ($4::uuid[] IS NULL OR organisation_id = ANY($4::uuid[])) "
            f"GROUP BY 1 ORDER BY 1",
            tenant,
            start,
            end,
            orgs,
        )
    return [(r["key"], r["total"]) for r in rows]


async def ranking(pool: Pool, tenant: str, start: date, end: date, limit: int) -> list[tuple[UUID, int]]:
    """(member id, points), the most points first (ties by member id)."""
    async with tenant_transaction(pool, tenant) as conn:
        rows = await conn.fetch(
            "SELECT member_id, sum(points) AS total FROM point_entries WHERE tenant_id = $1 AND local_date "
            "BETWEEN $2 AND $3 GROUP BY member_id ORDER BY total DESC, member_id LIMIT $4",
            tenant,
            start,
            end,
            limit,
        )
    return [(r["member_id"], r["total"]) for r in rows]


@dataclass(frozen=True, slots=True)
class BranchParticipation:
    organisation_id: UUID
    members: int
    active: int  # members with a check-in, a quiz answer or a meeting attended in the period


async def participation(
    pool: Pool, tenant: str, start: datetime, end: datetime, orgs: list[str] | None
) -> list[BranchParticipation]:
    async with tenant_transaction(pool, tenant) as conn:
        rows = await conn.fetch(
            "SELECT p.organisation_id, count(*) AS members, count(*) FILTER (WHERE "
            " EXISTS (SELECT 1 FROM check_ins c WHERE c.tenant_id = $1 AND c.member_id = p.member_id AND c.at >= $2 "
            "  AND c.at < $3) OR EXISTS (SELECT 1 FROM quiz_answers q WHERE q.tenant_id = $1 AND "
            "  q.member_id = p.member_id AND q.at >= $2 AND q.at < $3) OR EXISTS (SELECT 1 FROM attendance a WHERE "
            "  a.tenant_id = $1 AND a.member_id = p.member_id AND a.status = 'present' AND a.at >= $2 AND a.at < $3)"
            ") AS active FROM participants p WHERE p.tenant_id = $1 AND "
            "($4::uuid[] IS NULL OR p.organisation_id = ANY($4::uuid[])) GROUP BY 1 ORDER BY 1",
            tenant,
            start,
            end,
            orgs,
        )
    return [BranchParticipation(**r) for r in rows]
