"""What learning publishes: a pure function from one of its stored events to the integration event it carries.

Each stored event holds everything its contract needs (a sign-in carries the meeting's organisation and type), so
nothing is reloaded to publish it."""

from __future__ import annotations

from typing import Any

from learning.contracts import (
    MeetingAttended,
    MeetingScheduled,
    QuizCompleted,
    StudyCheckedIn,
    ThoughtReportDue,
    ThoughtReportSubmitted,
)
from learning.domain import Meeting, StudyCheckIn, ThoughtReport, ThoughtReportDuty
from learning.domain.quizzes import Quiz
from shared.envelope import IntegrationEvent


def outbound(domain_event: Any) -> tuple[str, IntegrationEvent] | None:
    """Meeting notices, and contact signals for the registry published under the member's own tenant."""
    if isinstance(domain_event, Meeting.Announced):
        return domain_event.tenant_id, MeetingScheduled(
            meeting_id=domain_event.originator_id,
            organisation_id=domain_event.organisation_id,
            meeting_type=domain_event.meeting_type.value,
            mode=domain_event.mode.value,
            starts_at=domain_event.starts_at,
        )
    if isinstance(domain_event, Meeting.SignedIn):
        meeting = domain_event.meeting
        return domain_event.home_tenant, MeetingAttended(
            member_id=domain_event.member_id,
            tenant=domain_event.home_tenant,
            organisation_id=meeting["organisation_id"],
            occurred_at=domain_event.at,
            meeting_id=domain_event.originator_id,
            meeting_type=meeting["meeting_type"],
        )
    if isinstance(domain_event, StudyCheckIn.CheckedIn):
        return domain_event.tenant_id, StudyCheckedIn(
            member_id=domain_event.member_id,
            tenant=domain_event.tenant_id,
            organisation_id=domain_event.organisation_id,
            occurred_at=domain_event.at,
        )
    if isinstance(domain_event, Quiz.Completed):
        return domain_event.tenant_id, QuizCompleted(
            member_id=domain_event.member_id,
            tenant=domain_event.tenant_id,
            organisation_id=domain_event.organisation_id,
            quiz_id=domain_event.originator_id,
            score=domain_event.score,
            question_count=domain_event.question_count,
            passed=domain_event.passed,
            occurred_at=domain_event.at,
        )
    if isinstance(domain_event, ThoughtReportDuty.Announced):
        return domain_event.tenant_id, ThoughtReportDue(
            member_id=domain_event.member_id,
            organisation_id=domain_event.organisation_id,
            quarter=domain_event.quarter,
            due_on=domain_event.due_on,
        )
    if isinstance(domain_event, ThoughtReport.Submitted):
        return domain_event.tenant_id, ThoughtReportSubmitted(
            member_id=domain_event.member_id,
            tenant=domain_event.tenant_id,
            organisation_id=domain_event.organisation_id,
            occurred_at=domain_event.at,
            report_id=domain_event.originator_id,
            quarter=domain_event.quarter,
        )
    return None
