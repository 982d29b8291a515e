"""Integration events learning publishes (contact signals, no personal data) and its copies of those it reads."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from shared.envelope import IntegrationEvent


class ContactSignal(IntegrationEvent):
    """Base of the signals the registry uses for a member's last contact.

    `tenant` is the member's own (home) tenant, where the registry keeps the member; `organisation_id` is where
    the activity happened, which for a mobile member is the host branch, possibly in another tenant.
    """

    member_id: UUID
    tenant: str
    organisation_id: UUID
    occurred_at: datetime


class MeetingAttended(ContactSignal):
    """A member signed in to a meeting (in person or online): organisational life took place."""

    TYPE: ClassVar[str] = "cn.lianxin.learning.meeting_attended.v1"
    meeting_id: UUID
    meeting_type: str


class StudyCheckedIn(ContactSignal):
    """A member checked in their daily study."""

    TYPE: ClassVar[str] = "cn.lianxin.learning.study_checked_in.v1"


class ThoughtReportSubmitted(ContactSignal):
    """A member submitted a thought report (思想汇报); its text stays in the learning service."""

    TYPE: ClassVar[str] = "cn.lianxin.learning.thought_report_submitted.v1"
    report_id: UUID
    quarter: str


class QuizCompleted(IntegrationEvent):
    """A member answered every question of a quiz. `passed`: at least 60% of the questions right, rounded up
    (learning.domain.quizzes.pass_mark)."""

    TYPE: ClassVar[str] = "cn.lianxin.learning.quiz_completed.v1"
    member_id: UUID
    tenant: str
    organisation_id: UUID
    quiz_id: UUID
    score: int
    question_count: int
    passed: bool
    occurred_at: datetime


class ThoughtReportDue(IntegrationEvent):
    """A probationary member's thought report is due this quarter (practice: once a quarter); a reminder, not a rule."""

    TYPE: ClassVar[str] = "cn.lianxin.learning.thought_report_due.v1"
    member_id: UUID
    organisation_id: UUID
    quarter: str
    due_on: date


class MeetingScheduled(IntegrationEvent):
    """A branch announced a meeting: the notice for its members (title and agenda stay in the learning service)."""

    TYPE: ClassVar[str] = "cn.lianxin.learning.meeting_scheduled.v1"
    meeting_id: UUID
    organisation_id: UUID
    meeting_type: str
    mode: str
    starts_at: datetime


PUBLISHED: tuple[type[IntegrationEvent], ...] = (
    MeetingScheduled,
    ThoughtReportDue,
    MeetingAttended,
    StudyCheckedIn,
    ThoughtReportSubmitted,
    QuizCompleted,
)


class Consumed(BaseModel):
    """Learning's own copy of an upstream contract: unknown fields are ignored, so upstream may add some."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    TYPE: ClassVar[str]


class OrganisationFounded(Consumed):
    TYPE: ClassVar[str] = "cn.lianxin.registry.organisation_founded.v1"
    organisation_id: UUID
    parent_id: UUID | None
    kind: str


class MemberRegistered(Consumed):
    TYPE: ClassVar[str] = "cn.lianxin.registry.member_registered.v1"
    member_id: UUID
    organisation_id: UUID
    category: Literal["full", "probationary"]
    registered_on: date


class InflowRegistered(Consumed):
    """流入登记 of a mobile member at a host branch (the registry is adding it; fields as announced)."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.inflow_registered.v1"
    member_id: UUID
    home_tenant: str
    home_org_id: UUID
    host_tenant: str
    host_org_id: UUID


class MemberEnrolled(Consumed):
    """The receiving tenant enrolled a transferred member (ADR 0001); the old member id names the history."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.member_enrolled.v1"
    member_id: UUID
    new_member_id: UUID
    receiving_tenant: str
    receiving_org_id: UUID | None = None


class MobilityEnded(Consumed):
    """The mobile member returned home, or the registration became a formal transfer."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.mobility_ended.v1"
    member_id: UUID
    outcome: str
    ended_on: date


class DecisionRecorded(Consumed):
    """A decision the branch took and the registry recorded; learning follows 转正 (regularisation)."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.decision_recorded.v1"
    member_id: UUID
    kind: str
    decided_on: date


class ProbationChanged(Consumed):
    """The registry's probation period (the one owner): learning's assessment follows it, across transfers too."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.probation_changed.v1"
    member_id: UUID
    organisation_id: UUID
    admitted_on: date
    extension_months: int
    ends_on: date
    state: str
    rush_admission: bool


class DevelopmentStageChanged(Consumed):
    """发展党员: the record's stage; an 入党积极分子 or 发展对象 writes thought reports under the record's id."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.development_stage_changed.v1"
    record_id: UUID
    organisation_id: UUID
    stage: str
    since: date


CONSUMED: dict[str, type[Consumed]] = {
    c.TYPE: c
    for c in (
        OrganisationFounded,
        MemberRegistered,
        ProbationChanged,
        InflowRegistered,
        MemberEnrolled,
        MobilityEnded,
        DecisionRecorded,
        DevelopmentStageChanged,
    )
}
