"""预备党员考察: the assessment summary the branch assembly reads before it decides.

The registry owns the probation period (admission, extension, 转正, 取消预备资格); this follows its
`probation_changed` events and keeps only the branch's written assessment. The old `AdmissionDateCorrected` and
`Extended` events stay readable for assessments stored before the registry owned the period.
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

    class PeriodFollowed(Event):
        """The registry's probation period, as published (the one owner)."""

        TOPIC = "lianxin.learning.ProbationAssessment.PeriodFollowed"
        admitted_on: date
        extension_months: int
        state: str
        rush_admission: bool

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
        self.state = "running"
        self.rush_admission = False
        self.summary: str | None = None
        self.summary_by: str | None = None
        self.summary_at: datetime | None = None

    @property
    def ends_on(self) -> date:
        return add_months(self.admitted_on, 12 + self.extension_months)

    def follow(self, *, admitted_on: date, extension_months: int, state: str, rush_admission: bool) -> None:
        current = (self.admitted_on, self.extension_months, self.state, self.rush_admission)
        if current != (admitted_on, extension_months, state, rush_admission):
            self._followed(
                admitted_on=admitted_on,
                extension_months=extension_months,
                state=state,
                rush_admission=rush_admission,
            )

    @event(PeriodFollowed)
    def _followed(self, admitted_on: date, extension_months: int, state: str, rush_admission: bool) -> None:
        self.admitted_on = admitted_on
        self.extension_months = extension_months
        self.state = state
        self.rush_admission = rush_admission

    @event(AdmissionDateCorrected)
    def _admission_date_corrected(self, admitted_on: date, meta: dict[str, Any]) -> None:
        self.admitted_on = admitted_on

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


def quota_result(quota: dict[str, int], actual: dict[str, int]) -> dict[str, Any]:
    """Each target of the tenant's quota against what the record shows; met only when every target is. It informs
    the branch assembly and decides nothing."""
    items = {k: {"target": quota[k], "actual": actual[k], "met": actual[k] >= quota[k]} for k in quota}
    return {"items": items, "met": all(i["met"] for i in items.values())}
