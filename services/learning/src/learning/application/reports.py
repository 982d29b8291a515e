"""Thought reports and the probation assessment."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from learning.application.base import LearningBase
from learning.domain import (
    Participant,
    ProbationAssessment,
    ThoughtReport,
    ThoughtReportDuty,
    quarter_bounds,
    quarter_of,
)
from learning.domain.errors import MemberNotKnown, NotEligible, ThoughtReportNotFound


class ReportUseCases(LearningBase):
    def submit_thought_report(
        self, *, report_id: UUID, tenant_id: str, member_id: UUID, title: str, body: str
    ) -> ThoughtReport:
        member, branch = self.participant(tenant_id, member_id)
        if member.tenant_id != tenant_id:
            raise NotEligible("a thought report goes to the member's own branch")
        if not member.writes_thought_reports:
            raise NotEligible("thought reports are submitted by probationary members and 入党积极分子")
        now = self.now()
        report = ThoughtReport(
            id=report_id,
            tenant_id=tenant_id,
            member_id=member_id,
            organisation_id=branch,
            quarter=quarter_of(self.options(tenant_id).local_date(now)),
            title=title,
            body=body,
            at=now,
        )
        self.save(report)
        return report

    def announce_report_duty(self, member_id: UUID, quarter: str) -> ThoughtReportDuty | None:
        """Fired by the scheduler: the report is due this quarter. Idempotent; past quarters roll to this one."""
        member = self.find(Participant, member_id)
        if member is None or not member.probationary:
            return None
        options = self.options(member.tenant_id)
        quarter = max(quarter, quarter_of(options.local_date(self.now())))
        if self.find(ThoughtReportDuty, ThoughtReportDuty.create_id(member_id, quarter)) is not None:
            return None
        duty = ThoughtReportDuty(
            tenant_id=member.tenant_id,
            member_id=member_id,
            organisation_id=member.organisation_id,
            quarter=quarter,
            due_on=quarter_bounds(quarter)[1] - timedelta(days=1),
        )
        self.save(duty)
        return duty

    def get_thought_report(self, tenant_id: str, report_id: UUID) -> ThoughtReport:
        return self.load(ThoughtReport, tenant_id, report_id, ThoughtReportNotFound)

    def acknowledge_thought_report(
        self, tenant_id: str, report_id: UUID, by: str, comment: str
    ) -> ThoughtReport:
        report = self.get_thought_report(tenant_id, report_id)
        report.acknowledge(by, comment, self.now())
        self.save(report)
        return report

    def get_probation(self, tenant_id: str, member_id: UUID) -> ProbationAssessment:
        return self.load(
            ProbationAssessment, tenant_id, ProbationAssessment.create_id(member_id), MemberNotKnown
        )

    def write_probation_summary(
        self, tenant_id: str, member_id: UUID, text: str, by: str
    ) -> ProbationAssessment:
        assessment = self.get_probation(tenant_id, member_id)
        assessment.write_summary(text, by, self.now())
        self.save(assessment)
        return assessment
