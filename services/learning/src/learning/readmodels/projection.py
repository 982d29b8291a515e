"""The projection of learning's own events into its read models; deadlines derived from the same events."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from learning.domain import (
    Branch,
    Course,
    HistoryShare,
    Meeting,
    MemberCategory,
    Participant,
    PointEntry,
    ProbationAssessment,
    Quiz,
    StudyCheckIn,
    StudyProgress,
    ThoughtReport,
    ThoughtReportDuty,
    add_months,
    quarter_bounds,
    quarter_of,
)
from learning.readmodels.schema import DUTY_DELAY, REPORT_DUE
from shared.db import Connection
from shared.scheduler import cancel_for, schedule


class LearningProjection:
    name = "learning-read-models"

    async def apply(self, conn: Connection, event: Any, notification_id: int) -> None:
        handler = getattr(self, f"_{type(event).__qualname__.replace('.', '_')}", None)
        if handler is not None:
            await handler(conn, event)

    async def _Branch_Known(self, conn: Connection, e: Branch.Known) -> None:
        await conn.execute(
            "INSERT INTO branches VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            e.tenant_id,
            e.originator_id,
            e.kind,
            e.parent_id,
        )

    async def _Participant_Registered(self, conn: Connection, e: Participant.Registered) -> None:
        if e.category is MemberCategory.Activist:
            return  # an 入党积极分子 writes thought reports; not a member on the branch's lists and counts
        await conn.execute(
            "INSERT INTO participants VALUES ($1, $2, $3, $1, 'member', $4, $5) ON CONFLICT DO NOTHING",
            e.tenant_id,
            e.originator_id,
            e.organisation_id,
            e.category.value,
            e.registered_on,
        )
        if e.category is MemberCategory.Probationary:
            await self._schedule_duty(
                conn, e.tenant_id, e.originator_id, quarter_of(e.registered_on), e.timestamp
            )

    async def _schedule_duty(
        self, conn: Connection, tenant: str, member_id: Any, quarter: str, due_at: datetime
    ) -> None:
        await schedule(
            conn,
            tenant_id=tenant,
            id=f"{REPORT_DUE}:{member_id}:{quarter}",
            kind=REPORT_DUE,
            subject_id=str(member_id),
            due_at=due_at,
            payload={"quarter": quarter},
        )

    async def _ThoughtReportDuty_Announced(self, conn: Connection, e: ThoughtReportDuty.Announced) -> None:
        start, _ = quarter_bounds(e.quarter)
        following = add_months(start, 3)
        await self._schedule_duty(
            conn,
            e.tenant_id,
            e.member_id,
            quarter_of(following),
            datetime.combine(following, time(), UTC) + DUTY_DELAY,
        )

    async def _Participant_Hosted(self, conn: Connection, e: Participant.Hosted) -> None:
        home = await conn.fetchrow(
            "SELECT tenant_id, category FROM participants WHERE member_id = $1 AND relation = 'member'",
            e.originator_id,
        )
        await conn.execute(
            "INSERT INTO participants VALUES ($1, $2, $3, $4, 'mobile', $5, $6) ON CONFLICT (tenant_id, member_id) "
            "DO UPDATE SET organisation_id = EXCLUDED.organisation_id",
            e.host_tenant,
            e.originator_id,
            e.host_org_id,
            home["tenant_id"],
            home["category"],
            e.since.date(),
        )

    async def _Participant_HostingEnded(self, conn: Connection, e: Participant.HostingEnded) -> None:
        await conn.execute(
            "DELETE FROM participants WHERE member_id = $1 AND relation = 'mobile' "
            "AND tenant_id = ANY($2::text[])",
            e.originator_id,
            list(e.host_tenants),
        )

    async def _Participant_Regularised(self, conn: Connection, e: Participant.Regularised) -> None:
        await cancel_for(conn, str(e.originator_id), e.timestamp, [REPORT_DUE])
        await conn.execute("UPDATE participants SET category = 'full' WHERE member_id = $1", e.originator_id)
        await conn.execute(
            "UPDATE probations SET regularised_on = $2 WHERE member_id = $1", e.originator_id, e.decided_on
        )

    async def _HistoryShare_Revoked(self, conn: Connection, e: HistoryShare.Revoked) -> None:
        await conn.execute("DELETE FROM history_shares WHERE id = $1", e.originator_id)

    async def _HistoryShare_Granted(self, conn: Connection, e: HistoryShare.Granted) -> None:
        await conn.execute(
            "INSERT INTO history_shares (tenant_id, member_id, source_tenant, grantee_member_id, reason, granted_at, "
            "id) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            e.grantee_tenant,
            e.member_id,
            e.source_tenant,
            e.grantee_member_id,
            e.reason.value,
            e.granted_at,
            e.originator_id,
        )

    async def _Meeting_Announced(self, conn: Connection, e: Meeting.Announced) -> None:
        await conn.execute(
            "INSERT INTO meetings VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
            e.tenant_id,
            e.originator_id,
            e.organisation_id,
            e.meeting_type.value,
            e.title,
            e.mode.value,
            e.starts_at,
            e.ends_at,
            e.place,
            e.announced_at,
        )

    async def _Meeting_MinutesRecorded(self, conn: Connection, e: Meeting.MinutesRecorded) -> None:
        await conn.execute("UPDATE meetings SET held = true WHERE id = $1", e.originator_id)

    async def _attendance(
        self,
        conn: Connection,
        e: Meeting.SignedIn | Meeting.AbsenceExcused,
        status: str,
        method: str | None,
        at: Any,
    ) -> None:
        # One row for the meeting's tenant and one for the member's home tenant: a mobile member's host
        # branch and home branch both count the attendance.
        m = e.meeting
        for viewer in {m["tenant_id"], e.home_tenant}:
            await conn.execute(
                "INSERT INTO attendance VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
                "ON CONFLICT (tenant_id, meeting_id, member_id) DO UPDATE SET status = EXCLUDED.status, "
                "method = EXCLUDED.method, at = EXCLUDED.at",
                viewer,
                e.originator_id,
                e.member_id,
                m["tenant_id"],
                m["organisation_id"],
                e.home_org_id,
                m["meeting_type"],
                m["starts_at"],
                status,
                method,
                at,
            )

    async def _Meeting_SignedIn(self, conn: Connection, e: Meeting.SignedIn) -> None:
        await self._attendance(conn, e, "present", e.method.value, e.at)

    async def _Meeting_AbsenceExcused(self, conn: Connection, e: Meeting.AbsenceExcused) -> None:
        await self._attendance(conn, e, "excused", None, e.timestamp)

    async def _Course_Published(self, conn: Connection, e: Course.Published) -> None:
        await conn.execute(
            "INSERT INTO courses VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            e.tenant_id,
            e.originator_id,
            e.kind.value,
            e.title,
            list(e.organisation_ids),
            e.timestamp,
        )

    async def _Course_Assigned(self, conn: Connection, e: Course.Assigned) -> None:
        await conn.execute(
            "UPDATE courses SET organisation_ids = organisation_ids || $2::uuid[] WHERE id = $1",
            e.originator_id,
            list(e.organisation_ids),
        )

    async def _StudyProgress_Started(self, conn: Connection, e: StudyProgress.Started) -> None:
        await conn.execute(
            "INSERT INTO study_progress VALUES ($1, $2, $3, $4, $5, 0, NULL, $6) ON CONFLICT DO NOTHING",
            e.tenant_id,
            e.originator_id,
            e.course_id,
            e.member_id,
            e.organisation_id,
            e.timestamp,
        )

    async def _StudyProgress_Progressed(self, conn: Connection, e: StudyProgress.Progressed) -> None:
        await conn.execute(
            "UPDATE study_progress SET percent = $2, updated_at = $3, "
            "completed_at = CASE WHEN $2 >= 100 THEN coalesce(completed_at, $3) END WHERE id = $1",
            e.originator_id,
            e.percent,
            e.at,
        )

    async def _StudyCheckIn_CheckedIn(self, conn: Connection, e: StudyCheckIn.CheckedIn) -> None:
        await conn.execute(
            "INSERT INTO check_ins VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            e.tenant_id,
            e.originator_id,
            e.member_id,
            e.organisation_id,
            e.local_date,
            e.at,
            bool(e.evidence),
        )

    async def _Quiz_Scheduled(self, conn: Connection, e: Quiz.Scheduled) -> None:
        await conn.execute(
            "INSERT INTO quizzes VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
            e.tenant_id,
            e.originator_id,
            e.kind.value,
            e.title,
            e.opens_at,
            e.closes_at,
            len(e.questions),
            list(e.organisation_ids),
        )

    async def _Quiz_Answered(self, conn: Connection, e: Quiz.Answered) -> None:
        await conn.execute(
            "INSERT INTO quiz_answers SELECT tenant_id, id, $2, $3, $4, $5, $6, $7 FROM quizzes WHERE id = $1 "
            "ON CONFLICT DO NOTHING",
            e.originator_id,
            e.member_id,
            e.question_id,
            e.organisation_id,
            e.correct,
            e.first_correct,
            e.at,
        )

    async def _PointEntry_Granted(self, conn: Connection, e: PointEntry.Granted) -> None:
        await conn.execute(
            "INSERT INTO point_entries VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING",
            e.tenant_id,
            e.originator_id,
            e.member_id,
            e.organisation_id,
            e.rule,
            e.action_id,
            e.requested,
            e.points,
            e.local_date,
            e.cause,
            e.at,
        )

    async def _ThoughtReport_Submitted(self, conn: Connection, e: ThoughtReport.Submitted) -> None:
        await conn.execute(
            "INSERT INTO thought_reports VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL) ON CONFLICT DO NOTHING",
            e.tenant_id,
            e.originator_id,
            e.member_id,
            e.organisation_id,
            e.quarter,
            e.title,
            e.at,
        )

    async def _ThoughtReport_Acknowledged(self, conn: Connection, e: ThoughtReport.Acknowledged) -> None:
        await conn.execute(
            "UPDATE thought_reports SET acknowledged_at = $2, acknowledged_by = $3 WHERE id = $1",
            e.originator_id,
            e.at,
            e.by,
        )

    async def _ProbationAssessment_Opened(self, conn: Connection, e: ProbationAssessment.Opened) -> None:
        await conn.execute(
            "INSERT INTO probations (tenant_id, id, member_id, organisation_id, admitted_on, ends_on) "
            "VALUES ($1, $2, $3, $4, $5, ($5::date + interval '12 months')::date) ON CONFLICT DO NOTHING",
            e.tenant_id,
            e.originator_id,
            e.member_id,
            e.organisation_id,
            e.admitted_on,
        )

    async def _ProbationAssessment_AdmissionDateCorrected(
        self, conn: Connection, e: ProbationAssessment.AdmissionDateCorrected
    ) -> None:
        await conn.execute(
            "UPDATE probations SET admitted_on = $2, "
            "ends_on = ($2::date + make_interval(months => 12 + extension_months))::date WHERE id = $1",
            e.originator_id,
            e.admitted_on,
        )

    async def _ProbationAssessment_Extended(self, conn: Connection, e: ProbationAssessment.Extended) -> None:
        await conn.execute(
            "UPDATE probations SET extension_months = $2, "
            "ends_on = (admitted_on + make_interval(months => 12 + $2::int))::date WHERE id = $1",
            e.originator_id,
            e.months,
        )

    async def _ProbationAssessment_PeriodFollowed(
        self, conn: Connection, e: ProbationAssessment.PeriodFollowed
    ) -> None:
        await conn.execute(
            "UPDATE probations SET admitted_on = $2, extension_months = $3, state = $4, rush_admission = $5, "
            "ends_on = ($2::date + make_interval(months => 12 + $3::int))::date WHERE id = $1",
            e.originator_id,
            e.admitted_on,
            e.extension_months,
            e.state,
            e.rush_admission,
        )

    async def _ProbationAssessment_SummaryWritten(
        self, conn: Connection, e: ProbationAssessment.SummaryWritten
    ) -> None:
        await conn.execute(
            "UPDATE probations SET summary = $2, summary_by = $3, summary_at = $4 WHERE id = $1",
            e.originator_id,
            e.text,
            e.by,
            e.at,
        )
