"""思想汇报: submitted online by probationary members, acknowledged by the branch; due once a quarter (practice)."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from learning.domain.calendar import quarter_bounds
from learning.domain.errors import AlreadyAcknowledged

DUTY_NAMESPACE = UUID("e1a3c5e7-0f2b-4d6f-9b1d-5a7c9e0b2d40")


class ThoughtReport(Aggregate):
    TOPIC = "lianxin.learning.ThoughtReport"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.learning.ThoughtReport.Created"

    class Submitted(Created):
        TOPIC = "lianxin.learning.ThoughtReport.Submitted"
        tenant_id: str
        member_id: UUID
        organisation_id: UUID
        quarter: str
        title: str
        body: str
        at: datetime

    class Acknowledged(Event):
        TOPIC = "lianxin.learning.ThoughtReport.Acknowledged"
        by: str
        comment: str
        at: datetime

    @event(Submitted)
    def __init__(
        self,
        *,
        id: UUID,
        tenant_id: str,
        member_id: UUID,
        organisation_id: UUID,
        quarter: str,
        title: str,
        body: str,
        at: datetime,
    ) -> None:
        self.tenant_id = tenant_id
        self.member_id = member_id
        self.organisation_id = organisation_id
        self.quarter = quarter
        self.title = title
        self.body = body
        self.submitted_at = at
        self.acknowledged_by: str | None = None
        self.comment: str | None = None
        self.acknowledged_at: datetime | None = None

    def acknowledge(self, by: str, comment: str, at: datetime) -> None:
        if self.acknowledged_at is not None:
            raise AlreadyAcknowledged("the report was acknowledged already")
        self._acknowledged(by=by, comment=comment, at=at)

    @event(Acknowledged)
    def _acknowledged(self, by: str, comment: str, at: datetime) -> None:
        self.acknowledged_by = by
        self.comment = comment
        self.acknowledged_at = at


class ThoughtReportDuty(Aggregate):
    """A probationary member's report is due this quarter (practice, not a central rule): announced, not enforced."""

    TOPIC = "lianxin.learning.ThoughtReportDuty"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.learning.ThoughtReportDuty.Created"

    class Announced(Created):
        TOPIC = "lianxin.learning.ThoughtReportDuty.Announced"
        tenant_id: str
        member_id: UUID
        organisation_id: UUID
        quarter: str
        due_on: date

    @staticmethod
    def create_id(member_id: UUID, quarter: str) -> UUID:
        return uuid5(DUTY_NAMESPACE, f"{member_id}|{quarter}")

    @event(Announced)
    def __init__(
        self, *, tenant_id: str, member_id: UUID, organisation_id: UUID, quarter: str, due_on: date
    ) -> None:
        self.tenant_id = tenant_id
        self.member_id = member_id
        self.quarter = quarter
        self.due_on = due_on


def report_status(submitted: int, quarter: str, today: date) -> str:
    """A quarter's report: submitted once there is one; else due, and overdue from the next quarter's first day."""
    if submitted:
        return "submitted"
    return "overdue" if today >= quarter_bounds(quarter)[1] else "due"
