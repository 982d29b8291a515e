"""预备党员考察: probation dates and the assessment summary the branch assembly reads before it decides.

The decision (转正, extension, cancellation) is the registry's to record; this keeps the assessment.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from learning.domain.calendar import add_months
from learning.domain.errors import InvalidSchedule

PROBATION_NAMESPACE = UUID("c4e6a8b0-2d4f-4a6c-8e0a-3b5d7f9a1c30")


class ProbationAssessment(Aggregate):
    TOPIC = "lianxin.learning.ProbationAssessment"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.learning.ProbationAssessment.Created"

    class Opened(Created):
        """Probation runs one year from the branch assembly (支部大会) that admitted the member."""

        TOPIC = "lianxin.learning.ProbationAssessment.Opened"
        tenant_id: str
        member_id: UUID
        organisation_id: UUID
        admitted_on: date

    class AdmissionDateCorrected(Event):
        TOPIC = "lianxin.learning.ProbationAssessment.AdmissionDateCorrected"
        admitted_on: date
        meta: dict[str, Any]

    class Extended(Event):
        TOPIC = "lianxin.learning.ProbationAssessment.Extended"
        months: int
        basis: str
        meta: dict[str, Any]

    class SummaryWritten(Event):
        TOPIC = "lianxin.learning.ProbationAssessment.SummaryWritten"
        text: str
        by: str
        at: datetime

    @staticmethod
    def create_id(member_id: UUID) -> UUID:
        return uuid5(PROBATION_NAMESPACE, str(member_id))

    @event(Opened)
    def __init__(self, *, tenant_id: str, member_id: UUID, organisation_id: UUID, admitted_on: date) -> None:
        self.tenant_id = tenant_id
        self.member_id = member_id
        self.organisation_id = organisation_id
        self.admitted_on = admitted_on
        self.extension_months = 0
        self.summary: str | None = None
        self.summary_by: str | None = None
        self.summary_at: datetime | None = None

    @property
    def ends_on(self) -> date:
        return add_months(self.admitted_on, 12 + self.extension_months)

    def correct_admission_date(self, admitted_on: date, meta: dict[str, Any]) -> None:
        if admitted_on != self.admitted_on:
            self._admission_date_corrected(admitted_on=admitted_on, meta=meta)

    @event(AdmissionDateCorrected)
    def _admission_date_corrected(self, admitted_on: date, meta: dict[str, Any]) -> None:
        self.admitted_on = admitted_on

    def extend(self, months: int, basis: str, meta: dict[str, Any]) -> None:
        """Mirrors the branch's decision: probation is extended once, by 6 to 12 months."""
        if self.extension_months:
            raise InvalidSchedule("probation can be extended once", field="months")
        if not 6 <= months <= 12:
            raise InvalidSchedule("an extension is 6 to 12 months", field="months")
        if not basis.strip():
            raise InvalidSchedule("an extension names the meeting that decided it", field="basis")
        self._extended(months=months, basis=basis, meta=meta)

    @event(Extended)
    def _extended(self, months: int, basis: str, meta: dict[str, Any]) -> None:
        self.extension_months = months

    def write_summary(self, text: str, by: str, at: datetime) -> None:
        if not text.strip():
            raise InvalidSchedule("the summary has text", field="text")
        self._summary_written(text=text, by=by, at=at)

    @event(SummaryWritten)
    def _summary_written(self, text: str, by: str, at: datetime) -> None:
        self.summary = text
        self.summary_by = by
        self.summary_at = at
