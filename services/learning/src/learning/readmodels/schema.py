"""The learning read models' schema in PostgreSQL under row-level security, per tenant.

A second, read-only policy on the history tables lets a tenant that holds a history share read one member's
rows, and only inside a transaction that asks for it (`app.history_reader`, see `history_transaction`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import asyncpg

from shared.db import Connection, tenant_policy, tenant_transaction

REPORT_DUE = "thought-report-due"
# The next quarter's duty fires a day into it: inside the new quarter in every time zone.
DUTY_DELAY = timedelta(days=1)
HISTORY_TABLES = (
    "attendance",
    "check_ins",
    "quiz_answers",
    "point_entries",
    "thought_reports",
    "study_progress",
)


def history_policy(table: str) -> str:
    return (
        f"DROP POLICY IF EXISTS history_share ON {table};"
        f"CREATE POLICY history_share ON {table} FOR SELECT USING ("
        f" coalesce(current_setting('app.history_reader', true), '') <> ''"
        f" AND member_id IN (SELECT s.member_id FROM history_shares s"
        f"  WHERE s.tenant_id = current_setting('app.history_reader', true)));"
    )


MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE branches (tenant_id text NOT NULL, id uuid PRIMARY KEY, kind text NOT NULL, parent_id uuid);
    CREATE TABLE participants (
        tenant_id text NOT NULL, member_id uuid NOT NULL, organisation_id uuid NOT NULL, home_tenant text NOT NULL,
        relation text NOT NULL, category text NOT NULL, since date NOT NULL,
        PRIMARY KEY (tenant_id, member_id));
    CREATE INDEX participants_by_org ON participants (tenant_id, organisation_id);
    CREATE TABLE meetings (
        tenant_id text NOT NULL, id uuid PRIMARY KEY, organisation_id uuid NOT NULL, meeting_type text NOT NULL,
        title text NOT NULL, mode text NOT NULL, starts_at timestamptz NOT NULL, ends_at timestamptz NOT NULL,
        place text, announced_at timestamptz NOT NULL, held boolean NOT NULL DEFAULT false);
    CREATE INDEX meetings_by_org ON meetings (tenant_id, organisation_id, starts_at);
    CREATE TABLE attendance (
        tenant_id text NOT NULL, meeting_id uuid NOT NULL, member_id uuid NOT NULL, meeting_tenant text NOT NULL,
        organisation_id uuid NOT NULL, home_org_id uuid NOT NULL, meeting_type text NOT NULL,
        starts_at timestamptz NOT NULL, status text NOT NULL, method text, at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, meeting_id, member_id));
    CREATE INDEX attendance_by_member ON attendance (member_id);
    CREATE TABLE courses (
        tenant_id text NOT NULL, id uuid PRIMARY KEY, kind text NOT NULL, title text NOT NULL,
        organisation_ids uuid[] NOT NULL, published_at timestamptz NOT NULL);
    CREATE TABLE study_progress (
        tenant_id text NOT NULL, id uuid PRIMARY KEY, course_id uuid NOT NULL, member_id uuid NOT NULL, organisation_id uuid NOT NULL,
        percent int NOT NULL, completed_at timestamptz, updated_at timestamptz NOT NULL);
    CREATE TABLE check_ins (
        tenant_id text NOT NULL, id uuid PRIMARY KEY, member_id uuid NOT NULL, organisation_id uuid NOT NULL,
        local_date date NOT NULL, at timestamptz NOT NULL, has_evidence boolean NOT NULL);
    CREATE INDEX check_ins_by_member ON check_ins (member_id, local_date);
    CREATE TABLE quizzes (
        tenant_id text NOT NULL, id uuid PRIMARY KEY, kind text NOT NULL, title text NOT NULL,
        opens_at timestamptz NOT NULL, closes_at timestamptz NOT NULL, question_count int NOT NULL,
        organisation_ids uuid[] NOT NULL);
    CREATE TABLE quiz_answers (
        tenant_id text NOT NULL, quiz_id uuid NOT NULL, member_id uuid NOT NULL, question_id text NOT NULL,
        organisation_id uuid NOT NULL, correct boolean NOT NULL, first_correct boolean NOT NULL,
        at timestamptz NOT NULL, PRIMARY KEY (quiz_id, member_id, question_id));
    CREATE TABLE point_entries (
        tenant_id text NOT NULL, id uuid PRIMARY KEY, member_id uuid NOT NULL, organisation_id uuid,
        rule text NOT NULL, action_id text NOT NULL, requested int NOT NULL, points int NOT NULL,
        local_date date NOT NULL, cause text NOT NULL, at timestamptz NOT NULL);
    CREATE INDEX point_entries_by_member ON point_entries (tenant_id, member_id, local_date);
    CREATE TABLE thought_reports (
        tenant_id text NOT NULL, id uuid PRIMARY KEY, member_id uuid NOT NULL, organisation_id uuid NOT NULL,
        quarter text NOT NULL, title text NOT NULL, submitted_at timestamptz NOT NULL,
        acknowledged_at timestamptz, acknowledged_by text);
    CREATE TABLE probations (
        tenant_id text NOT NULL, id uuid PRIMARY KEY, member_id uuid NOT NULL UNIQUE, organisation_id uuid NOT NULL, admitted_on date NOT NULL,
        ends_on date NOT NULL, extension_months int NOT NULL DEFAULT 0, summary text, summary_by text,
        summary_at timestamptz);
    CREATE TABLE history_shares (
        tenant_id text NOT NULL, member_id uuid NOT NULL, source_tenant text NOT NULL,
        grantee_member_id uuid NOT NULL, reason text NOT NULL, granted_at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, member_id));
    """
    + "".join(
        tenant_policy(t)
        for t in (
            "branches",
            "participants",
            "meetings",
            "attendance",
            "courses",
            "study_progress",
            "check_ins",
            "quizzes",
            "quiz_answers",
            "point_entries",
            "thought_reports",
            "probations",
            "history_shares",
        )
    )
    + "".join(history_policy(t) for t in HISTORY_TABLES),
    "ALTER TABLE probations ADD COLUMN regularised_on date; ALTER TABLE history_shares ADD COLUMN id uuid UNIQUE;",
    "ALTER TABLE probations ADD COLUMN state text NOT NULL DEFAULT 'running', "
    "ADD COLUMN rush_admission boolean NOT NULL DEFAULT false;",
)


@asynccontextmanager
async def history_transaction(pool: asyncpg.Pool, tenant: str) -> AsyncIterator[Connection]:
    """The tenant's own rows plus the rows of members whose history was shared with it; read-only use."""
    async with tenant_transaction(pool, tenant) as conn:
        await conn.execute("SELECT set_config('app.history_reader', $1, true)", tenant)
        yield conn
