"""Contact status (DOMAIN.md d): last contact derived from events; at-risk, lost-contact and self-lapse cases
raised by timers for people to decide. Nothing here suspends or expels anyone."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from shared.errors import Invalid

CONTACT_NAMESPACE = UUID("7b2e4c91-3d5a-4f68-8e1b-0c9d2a6f4e57")
SETTINGS_NAMESPACE = UUID("2d8f6a13-9c4b-4e7d-b5a2-6f1e3c0b9d78")
# What counts as organisational life or dues for the self-lapse rule (党章 art. 9); any contact resets at-risk.
ORG_LIFE_OR_DUES = {"meeting_attended", "dues_paid"}
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
            raise Invalid("at_risk_days must be at least 30 and below lost_contact_days (at most 730)",
                          field="at_risk_days")
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

    class LostContactCaseOpened(Event):
        TOPIC = "lianxin.registry.ContactStatus.LostContactCaseOpened"
        tenant_id: str
        member_id: UUID
        organisation_id: UUID
        silent_days: int

    class SelfLapseReviewOpened(Event):
        TOPIC = "lianxin.registry.ContactStatus.SelfLapseReviewOpened"
        tenant_id: str
        member_id: UUID
        organisation_id: UUID
        months_without_org_life: int

    class BackToNormal(Event):
        TOPIC = "lianxin.registry.ContactStatus.BackToNormal"
        tenant_id: str
        member_id: UUID
        organisation_id: UUID
        reason: str

    @staticmethod
    def create_id(member_id: UUID) -> UUID:
        return uuid5(CONTACT_NAMESPACE, str(member_id))

    @event(Opened)
    def __init__(self, *, tenant_id: str, member_id: UUID, organisation_id: UUID, since: datetime) -> None:
        self.tenant_id = tenant_id
        self.member_id = member_id
        self.organisation_id = organisation_id
        self.last_contact_at = since
        self.last_org_life_at = since
        self.state = ContactState.Normal
        self.cause: CauseCode | None = None
        self.failed_search = False

    def record_contact(self, kind: str, at: datetime, source: str) -> None:
        """Any contact clears an at-risk flag; a lost-contact case goes back to people, who close it."""
        if at <= self.last_contact_at and (kind not in ORG_LIFE_OR_DUES or at <= self.last_org_life_at):
            return
        self._contact(kind=kind, at=at, source=source)
        if self.state is ContactState.AtRisk:
            self._normal(**self._who(), reason=f"contact: {kind}")

    @event(ContactRecorded)
    def _contact(self, kind: str, at: datetime, source: str) -> None:
        self.last_contact_at = max(self.last_contact_at, at)
        if kind in ORG_LIFE_OR_DUES:
            self.last_org_life_at = max(self.last_org_life_at, at)

    def silent_days(self, now: datetime) -> int:
        return (now - self.last_contact_at) // timedelta(days=1)

    def flag_if_due(self, now: datetime, *, at_risk_days: int, cause: CauseCode) -> bool:
        """Timer: flags at-risk once the silence passes the tenant's threshold; a later contact wins."""
        if self.state is not ContactState.Normal or self.silent_days(now) < at_risk_days:
            return False
        self._flagged(**self._who(), cause=cause, silent_days=self.silent_days(now))
        return True

    def _who(self) -> dict[str, Any]:
        """Cases go out to notify and the work lists: they say whose they are."""
        return {"tenant_id": self.tenant_id, "member_id": self.member_id, "organisation_id": self.organisation_id}

    @event(FlaggedAtRisk)
    def _flagged(self, tenant_id: str, member_id: UUID, organisation_id: UUID, cause: CauseCode,
                 silent_days: int) -> None:
        self.state = ContactState.AtRisk
        self.cause = cause

    def record_search(self, *, method: str, succeeded: bool, note: str, by: str, at: datetime,
                      lost_contact_days: int) -> None:
        self._searched(method=method, succeeded=succeeded, note=note, by=by, at=at)
        if succeeded:
            self.record_contact("search_reached", at, f"search:{method}")
            if self.state is not ContactState.Normal:
                self._normal(**self._who(), reason="reached by search")
        else:
            self.open_lost_contact_if_due(at, lost_contact_days=lost_contact_days)

    @event(SearchRecorded)
    def _searched(self, method: str, succeeded: bool, note: str, by: str, at: datetime) -> None:
        self.failed_search = self.failed_search or not succeeded

    def open_lost_contact_if_due(self, now: datetime, *, lost_contact_days: int) -> bool:
        """失联: 180 days of silence and a failed search, both; suspension stays a decision for people."""
        if self.state is not ContactState.AtRisk or not self.failed_search \
                or self.silent_days(now) < lost_contact_days:
            return False
        self._lost(**self._who(), silent_days=self.silent_days(now))
        return True

    @event(LostContactCaseOpened)
    def _lost(self, tenant_id: str, member_id: UUID, organisation_id: UUID, silent_days: int) -> None:
        self.state = ContactState.LostContact

    def open_self_lapse_review_if_due(self, now: datetime, *, self_lapse_days: int) -> bool:
        if self.state in (ContactState.SelfLapseReview, ContactState.LostContact):
            return False
        if (now - self.last_org_life_at) < timedelta(days=self_lapse_days):
            return False
        self._self_lapse(**self._who(), months_without_org_life=(now - self.last_org_life_at).days // 30)
        return True

    @event(SelfLapseReviewOpened)
    def _self_lapse(self, tenant_id: str, member_id: UUID, organisation_id: UUID,
                    months_without_org_life: int) -> None:
        self.state = ContactState.SelfLapseReview

    def close_case(self, reason: str) -> None:
        if self.state is not ContactState.Normal:
            self._normal(**self._who(), reason=reason)

    @event(BackToNormal)
    def _normal(self, tenant_id: str, member_id: UUID, organisation_id: UUID, reason: str) -> None:
        self.state = ContactState.Normal
        self.cause = None
        self.failed_search = False
