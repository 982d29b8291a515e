"""Contact status (DOMAIN.md d): last contact derived from events; at-risk, lost-contact and self-lapse cases
raised by timers for people to decide. Nothing here suspends or expels anyone."""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from registry.domain.dues import BEIJING
from registry.domain.probation import calendar_months_on
from shared.errors import Invalid

CONTACT_NAMESPACE = UUID("7b2e4c91-3d5a-4f68-8e1b-0c9d2a6f4e57")
SETTINGS_NAMESPACE = UUID("2d8f6a13-9c4b-4e7d-b5a2-6f1e3c0b9d78")
# What counts as organisational life for the self-lapse rule (党章 art. 9): attending, nothing else. Dues have
# their own clock (the ledger) and so has assigned work; any contact resets at-risk.
ORG_LIFE = {"meeting_attended"}
SYSTEM = "system"  # who acted when a timer or an upstream event did, not a person
# Contact by or with the member that meets the six-monthly contact of members abroad or deferred (dues may be
# paid by proxy, so a payment is not one).
MEMBER_CONTACT = {
    "meeting_attended",
    "report_to_home",
    "phone",
    "visit",
    "message",
    "other",
    "search_reached",
    "study_checked_in",
    "thought_report_submitted",
}

SETTINGS_DEFAULTS: dict[str, int] = {"at_risk_days": 90, "lost_contact_days": 180, "self_lapse_days": 182}


class ContactState(enum.Enum):
    Normal = "normal"
    AtRisk = "at_risk"
    LostContact = "lost_contact"
    SelfLapseReview = "self_lapse_review"


class CauseCode(enum.Enum):
    """失联原因 (DOMAIN.md section 2)."""

    MigrantWorkOrBusiness = "migrant_work_or_business"  # 外出务工经商
    EmployerRestructured = "employer_restructured"  # 单位改制破产
    GraduateWhereaboutsUnknown = "graduate_whereabouts_unknown"  # 毕业后去向不明
    EmployerChanged = "employer_changed"  # 工作单位改变
    Abroad = "abroad"  # 出国(境)
    ResidenceChanged = "residence_changed"  # 居住地改变
    Other = "other"  # 其他


class SelfLapseGround(enum.Enum):
    """Which of 党章 art. 9's three clocks ran for six months."""

    OrgLife = "org_life"
    Dues = "dues"
    AssignedWork = "assigned_work"


class TenantSettings(Aggregate):
    """Per-tenant thresholds, every default from DOMAIN.md section 0; changing one is an event."""

    TOPIC = "lianxin.registry.TenantSettings"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.registry.TenantSettings.Created"

    class Started(Created):
        TOPIC = "lianxin.registry.TenantSettings.Started"
        tenant_id: str

    class Changed(Event):
        TOPIC = "lianxin.registry.TenantSettings.Changed"
        values: dict[str, int]
        meta: dict[str, Any]

    @staticmethod
    def create_id(tenant_id: str) -> UUID:
        return uuid5(SETTINGS_NAMESPACE, tenant_id)

    @event(Started)
    def __init__(self, *, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.values = dict(SETTINGS_DEFAULTS)

    def change(self, values: dict[str, int], meta: dict[str, Any]) -> None:
        unknown = set(values) - set(SETTINGS_DEFAULTS)
        if unknown:
            raise Invalid(f"unknown settings: {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
        merged = {**self.values, **values}
        if not 30 <= merged["at_risk_days"] < merged["lost_contact_days"] <= 730:
            raise Invalid(
                "at_risk_days must be at least 30 and below lost_contact_days (at most 730)",
                field="at_risk_days",
            )
        if values and merged != self.values:
            self._changed(values=values, meta=meta)

    @event(Changed)
    def _changed(self, values: dict[str, int], meta: dict[str, Any]) -> None:
        self.values.update(values)


class ContactStatus(Aggregate):
    TOPIC = "lianxin.registry.ContactStatus"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.registry.ContactStatus.Created"

    class Opened(Created):
        TOPIC = "lianxin.registry.ContactStatus.Opened"
        tenant_id: str
        member_id: UUID
        organisation_id: UUID
        since: datetime
        # The dues clock the ledger gives at registration (an `Opened` stored before carries none: a
        # `DuesClockMoved` followed it in the same save).
        dues_lapse_at: datetime | None = None

    class ContactRecorded(Event):
        TOPIC = "lianxin.registry.ContactStatus.ContactRecorded"
        kind: str
        at: datetime
        source: str

    class FlaggedAtRisk(Event):
        TOPIC = "lianxin.registry.ContactStatus.FlaggedAtRisk"
        tenant_id: str
        member_id: UUID
        organisation_id: UUID
        cause: CauseCode
        silent_days: int

    class SearchRecorded(Event):
        TOPIC = "lianxin.registry.ContactStatus.SearchRecorded"
        method: str
        succeeded: bool
        note: str
        by: str
        at: datetime

    class LostContactProposed(Event):
        """The timer found 180 days of silence and a failed search: it proposes; the branch classifies."""

        TOPIC = "lianxin.registry.ContactStatus.LostContactProposed"
        tenant_id: str
        member_id: UUID
        organisation_id: UUID
        silent_days: int

    class LostContactCaseOpened(Event):
        """失联: the branch classified the member as lost contact (before v2, the timer did)."""

        TOPIC = "lianxin.registry.ContactStatus.LostContactCaseOpened"
        class_version = 2
        tenant_id: str
        member_id: UUID
        organisation_id: UUID
        silent_days: int
        by: str
        basis: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["by"], state["basis"] = SYSTEM, "opened by the timer (before classification was a decision)"

    class SelfLapseReviewOpened(Event):
        TOPIC = "lianxin.registry.ContactStatus.SelfLapseReviewOpened"
        class_version = 2
        tenant_id: str
        member_id: UUID
        organisation_id: UUID
        months_without_org_life: int
        ground: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["ground"] = SelfLapseGround.OrgLife.value

    class BackToNormal(Event):
        TOPIC = "lianxin.registry.ContactStatus.BackToNormal"
        class_version = 2
        tenant_id: str
        member_id: UUID
        organisation_id: UUID
        reason: str
        by: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["by"] = "unrecorded"  # closed before closings named who closed them

    class CauseChosen(Event):
        """A person chose the at-risk cause code; the timer only proposed one."""

        TOPIC = "lianxin.registry.ContactStatus.CauseChosen"
        cause: CauseCode
        by: str

    class DuesClockMoved(Event):
        """The ledger changed: six consecutive unpaid months will have ended at `lapse_at` if nothing more is paid."""

        TOPIC = "lianxin.registry.ContactStatus.DuesClockMoved"
        lapse_at: datetime
        by: str

    class ContactCycleOpened(Event):
        """A member abroad or deferred must be in contact at least every six months: the next one is due."""

        TOPIC = "lianxin.registry.ContactStatus.ContactCycleOpened"
        tenant_id: str
        member_id: UUID
        organisation_id: UUID
        item_id: str
        due_on: date

    class ContactCycleClosed(Event):
        """The cycle's contact came (`met`), or the member no longer needs one (`ended`)."""

        TOPIC = "lianxin.registry.ContactStatus.ContactCycleClosed"
        tenant_id: str
        member_id: UUID
        organisation_id: UUID
        item_id: str
        outcome: str
        at: datetime

    class WorkAssigned(Event):
        TOPIC = "lianxin.registry.ContactStatus.WorkAssigned"
        assignment_id: str
        title: str
        assigned_at: datetime
        by: str

    class WorkCompleted(Event):
        TOPIC = "lianxin.registry.ContactStatus.WorkCompleted"
        assignment_id: str
        completed_at: datetime
        by: str

    @staticmethod
    def create_id(member_id: UUID) -> UUID:
        return uuid5(CONTACT_NAMESPACE, str(member_id))

    @event(Opened)
    def __init__(  # not keyword-only: the library takes every keyword-only argument as required
        self,
        tenant_id: str,
        member_id: UUID,
        organisation_id: UUID,
        since: datetime,
        dues_lapse_at: datetime | None = None,
    ) -> None:
        self.tenant_id = tenant_id
        self.member_id = member_id
        self.organisation_id = organisation_id
        self.last_contact_at = since
        self.last_org_life_at = since
        self.dues_lapse_at: datetime | None = dues_lapse_at
        self.open_work: dict[str, datetime] = {}
        self.contact_cycle: dict[str, Any] | None = None
        self.state = ContactState.Normal
        self.cause: CauseCode | None = None
        self.proposed_cause: CauseCode | None = None
        self.failed_search = False
        self.lost_contact_proposed = False

    def record_contact(self, kind: str, at: datetime, source: str) -> None:
        """Any contact clears an at-risk flag; a lost-contact case goes back to people, who close it."""
        if at <= self.last_contact_at and (kind not in ORG_LIFE or at <= self.last_org_life_at):
            return
        self._contact(kind=kind, at=at, source=source)
        if self.contact_cycle is not None and kind in MEMBER_CONTACT:
            self._cycle_closed(**self._who(), item_id=self.contact_cycle["item_id"], outcome="met", at=at)
            self.open_contact_cycle(at.astimezone(BEIJING).date())
        if self.state is ContactState.AtRisk:
            self._normal(**self._who(), reason=f"contact: {kind}", by=source)

    def open_contact_cycle(self, since: date) -> None:
        """Members abroad or deferred (DOMAIN.md section 0): the next contact is due six months on."""
        due_on = calendar_months_on(since, 6)
        self._cycle_opened(**self._who(), item_id=f"{self.member_id}:{due_on.isoformat()}", due_on=due_on)

    @event(ContactCycleOpened)
    def _cycle_opened(
        self, tenant_id: str, member_id: UUID, organisation_id: UUID, item_id: str, due_on: date
    ) -> None:
        self.contact_cycle = {"item_id": item_id, "due_on": due_on}

    def end_contact_cycle(self, at: datetime) -> None:
        if self.contact_cycle is not None:
            self._cycle_closed(**self._who(), item_id=self.contact_cycle["item_id"], outcome="ended", at=at)

    @event(ContactCycleClosed)
    def _cycle_closed(
        self, tenant_id: str, member_id: UUID, organisation_id: UUID, item_id: str, outcome: str, at: datetime
    ) -> None:
        self.contact_cycle = None

    @event(ContactRecorded)
    def _contact(self, kind: str, at: datetime, source: str) -> None:
        self.last_contact_at = max(self.last_contact_at, at)
        if kind in ORG_LIFE:
            self.last_org_life_at = max(self.last_org_life_at, at)

    def dues_clock_moved(self, lapse_at: datetime, *, by: str) -> None:
        if lapse_at != self.dues_lapse_at:
            self._dues_clock(lapse_at=lapse_at, by=by)

    @event(DuesClockMoved)
    def _dues_clock(self, lapse_at: datetime, by: str) -> None:
        self.dues_lapse_at = lapse_at

    def assign_work(self, *, assignment_id: str, title: str, at: datetime, by: str) -> None:
        if not title.strip():
            raise Invalid("say what the work is", field="title")
        self._assigned(assignment_id=assignment_id, title=title, assigned_at=at, by=by)

    @event(WorkAssigned)
    def _assigned(self, assignment_id: str, title: str, assigned_at: datetime, by: str) -> None:
        self.open_work[assignment_id] = assigned_at

    def complete_work(self, *, assignment_id: str, at: datetime, by: str) -> None:
        if assignment_id not in self.open_work:
            raise Invalid(f"no open assignment {assignment_id}", field="assignment_id")
        self._completed(assignment_id=assignment_id, completed_at=at, by=by)
        if self.state is ContactState.AtRisk:
            self._normal(**self._who(), reason="assigned work completed", by=by)

    @event(WorkCompleted)
    def _completed(self, assignment_id: str, completed_at: datetime, by: str) -> None:
        self.open_work.pop(assignment_id, None)
        self.last_contact_at = max(self.last_contact_at, completed_at)

    def oldest_open_work(self) -> datetime | None:
        return min(self.open_work.values(), default=None)

    def silent_days(self, now: datetime) -> int:
        return (now - self.last_contact_at) // timedelta(days=1)

    def flag_if_due(self, now: datetime, *, at_risk_days: int, cause: CauseCode) -> bool:
        """Timer: flags at-risk once the silence passes the tenant's threshold; a later contact wins.

        `cause` is the software's proposal (stored on the event as proposed); a person chooses the cause code."""
        if self.state is not ContactState.Normal or self.silent_days(now) < at_risk_days:
            return False
        self._flagged(**self._who(), cause=cause, silent_days=self.silent_days(now))
        return True

    def choose_cause(self, cause: CauseCode, *, by: str) -> None:
        if self.state is ContactState.Normal:
            raise Invalid("there is no open case to give a cause to", field="cause")
        if cause is not self.cause:
            self._cause_chosen(cause=cause, by=by)

    @event(CauseChosen)
    def _cause_chosen(self, cause: CauseCode, by: str) -> None:
        self.cause = cause

    def _who(self) -> dict[str, Any]:
        """Cases go out to notify and the work lists: they say whose they are."""
        return {
            "tenant_id": self.tenant_id,
            "member_id": self.member_id,
            "organisation_id": self.organisation_id,
        }

    @event(FlaggedAtRisk)
    def _flagged(
        self, tenant_id: str, member_id: UUID, organisation_id: UUID, cause: CauseCode, silent_days: int
    ) -> None:
        self.state = ContactState.AtRisk
        self.proposed_cause = cause

    def record_search(
        self, *, method: str, succeeded: bool, note: str, by: str, at: datetime, lost_contact_days: int
    ) -> None:
        self._searched(method=method, succeeded=succeeded, note=note, by=by, at=at)
        if succeeded:
            self.record_contact("search_reached", at, by)
            if self.state is not ContactState.Normal:
                self._normal(**self._who(), reason="reached by search", by=by)
        else:
            self.propose_lost_contact_if_due(at, lost_contact_days=lost_contact_days)

    @event(SearchRecorded)
    def _searched(self, method: str, succeeded: bool, note: str, by: str, at: datetime) -> None:
        self.failed_search = self.failed_search or not succeeded

    def propose_lost_contact_if_due(self, now: datetime, *, lost_contact_days: int) -> bool:
        """失联 needs 180 days of silence and a failed search, both; the software proposes, the branch decides."""
        if (
            self.state is not ContactState.AtRisk
            or not self.failed_search
            or self.lost_contact_proposed
            or self.silent_days(now) < lost_contact_days
        ):
            return False
        self._lost_proposed(**self._who(), silent_days=self.silent_days(now))
        return True

    @event(LostContactProposed)
    def _lost_proposed(
        self, tenant_id: str, member_id: UUID, organisation_id: UUID, silent_days: int
    ) -> None:
        self.lost_contact_proposed = True

    def classify_lost_contact(self, now: datetime, *, by: str, basis: str, lost_contact_days: int) -> None:
        """The branch's decision; refused before the rule's conditions hold (suspension is a later decision)."""
        if self.state is not ContactState.AtRisk:
            raise Invalid("only an at-risk member is classified as lost contact", field="state")
        if not self.failed_search or self.silent_days(now) < lost_contact_days:
            raise Invalid(
                f"失联 needs {lost_contact_days} days of silence and a recorded failed search", field="basis"
            )
        if not basis.strip():
            raise Invalid("name the meeting or record of the decision", field="basis")
        self._lost(**self._who(), silent_days=self.silent_days(now), by=by, basis=basis)

    @event(LostContactCaseOpened)
    def _lost(
        self, tenant_id: str, member_id: UUID, organisation_id: UUID, silent_days: int, by: str, basis: str
    ) -> None:
        self.state = ContactState.LostContact

    def self_lapse_ground(self, now: datetime, *, self_lapse_days: int) -> SelfLapseGround | None:
        """Which clock has run for six months: organisational life, dues (from the ledger), assigned work."""
        if now - self.last_org_life_at >= timedelta(days=self_lapse_days):
            return SelfLapseGround.OrgLife
        if self.dues_lapse_at is not None and now >= self.dues_lapse_at:
            return SelfLapseGround.Dues
        oldest = self.oldest_open_work()
        if oldest is not None and now - oldest >= timedelta(days=self_lapse_days):
            return SelfLapseGround.AssignedWork
        return None

    def open_self_lapse_review_if_due(self, now: datetime, *, self_lapse_days: int) -> bool:
        """Opens a review case for the branch; 除名 stays the 支部大会's decision after hearing the member."""
        if self.state in (ContactState.SelfLapseReview, ContactState.LostContact):
            return False
        ground = self.self_lapse_ground(now, self_lapse_days=self_lapse_days)
        if ground is None:
            return False
        self._self_lapse(
            **self._who(),
            months_without_org_life=(now - self.last_org_life_at).days // 30,
            ground=ground.value,
        )
        return True

    @event(SelfLapseReviewOpened)
    def _self_lapse(
        self,
        tenant_id: str,
        member_id: UUID,
        organisation_id: UUID,
        months_without_org_life: int,
        ground: str,
    ) -> None:
        self.state = ContactState.SelfLapseReview

    def close_case(self, reason: str, *, by: str) -> None:
        if self.state is not ContactState.Normal:
            self._normal(**self._who(), reason=reason, by=by)

    @event(BackToNormal)
    def _normal(self, tenant_id: str, member_id: UUID, organisation_id: UUID, reason: str, by: str) -> None:
        self.state = ContactState.Normal
        self.cause = None
        self.proposed_cause = None
        self.failed_search = False
        self.lost_contact_proposed = False
