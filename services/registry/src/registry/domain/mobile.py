"""Mobile members (流动党员): outflow and inflow registrations, and the activity certificate (活动证).

State machine (DOMAIN.md b): Declared → OutflowRegistered → InflowRegistered (active mobile) →
{Returned | ConvertedToTransfer}; graduates kept at school (Deferred, at most 2 years) and members abroad
(contact due every 6 months) are registrations of their own kinds.
"""

from __future__ import annotations

import enum
from datetime import date
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from registry.domain.dates import add_months
from registry.domain.errors import RegistrationStateError
from shared.errors import Invalid

CERTIFICATE_BOOK_NAMESPACE = UUID("c6f1a3d2-8b4e-4f7a-9c1d-2e5b7a9f0d34")
TRANSFER_SUGGESTED_MONTHS = 6
DEFERRAL_MAX_MONTHS = 24


class MobilityKind(enum.Enum):
    Outflow = "outflow"  # 外出流动
    GraduateDeferral = "graduate_deferral"  # 毕业生暂缓转移
    Abroad = "abroad"  # 出国(境)


class RegistrationState(enum.Enum):
    OutflowRegistered = "outflow_registered"
    InflowRegistered = "inflow_registered"
    Returned = "returned"
    ConvertedToTransfer = "converted_to_transfer"


class CertificateState(enum.Enum):
    Issued = "issued"
    Presented = "presented"
    Surrendered = "surrendered"
    Superseded = "superseded"
    Voided = "voided"


def suggests_transfer(expected_months: int, fixed_place: bool) -> bool:
    """Six months or more at a relatively fixed place calls for a formal transfer (应转尽转)."""
    return fixed_place and expected_months >= TRANSFER_SUGGESTED_MONTHS


class MobileRegistration(Aggregate):
    TOPIC = "lianxin.registry.MobileRegistration"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.registry.MobileRegistration.Created"

    class OutflowRegistered(Created):
        TOPIC = "lianxin.registry.MobileRegistration.OutflowRegistered"
        tenant_id: str
        member_id: UUID
        home_org_id: UUID
        kind: MobilityKind
        reason: str
        destination: str
        host_tenant: str | None
        host_org_id: UUID | None
        expected_months: int
        fixed_place: bool
        contact: str
        left_on: date
        until: date | None
        transfer_suggested: bool
        meta: dict[str, Any]
        host_region: str | None = None  # 流入地行政区划代码; added later: None on older events

    class InflowRegistered(Event):
        TOPIC = "lianxin.registry.MobileRegistration.InflowRegistered"
        host_tenant: str
        host_org_id: UUID
        host_contact: str
        registered_on: date
        home: dict[str, str]  # whose registration: the home tenant, member and branch
        meta: dict[str, Any]
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["home"] = dict(state["meta"].get("home") or {})  # stored when meta carried it

    class Returned(Event):
        TOPIC = "lianxin.registry.MobileRegistration.Returned"
        returned_on: date
        home: dict[str, str]
        meta: dict[str, Any]
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["home"] = dict(state["meta"].get("home") or {})  # stored when meta carried it

    class ConvertedToTransfer(Event):
        TOPIC = "lianxin.registry.MobileRegistration.ConvertedToTransfer"
        converted_on: date
        home: dict[str, str]
        meta: dict[str, Any]
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["home"] = dict(state["meta"].get("home") or {})  # stored when meta carried it

    @event(OutflowRegistered)
    def __init__(
        self,
        *,
        id: UUID,
        tenant_id: str,
        member_id: UUID,
        home_org_id: UUID,
        kind: MobilityKind,
        reason: str,
        destination: str,
        host_tenant: str | None,
        host_org_id: UUID | None,
        expected_months: int,
        fixed_place: bool,
        contact: str,
        left_on: date,
        until: date | None,
        transfer_suggested: bool,
        meta: dict[str, Any],
        host_region: str | None = None,
    ) -> None:
        self.host_region = host_region
        self.tenant_id = tenant_id
        self.member_id = member_id
        self.home_org_id = home_org_id
        self.kind = kind
        self.host_tenant = host_tenant
        self.host_org_id = host_org_id
        self.state = RegistrationState.OutflowRegistered
        self.until = until
        # What the printed certificate and information form show (registry/printed.py).
        self.reason = reason
        self.expected_months = expected_months

    @classmethod
    def register_outflow(
        cls,
        *,
        registration_id: UUID,
        tenant_id: str,
        member_id: UUID,
        home_org_id: UUID,
        kind: MobilityKind,
        reason: str,
        destination: str,
        host_tenant: str | None,
        host_org_id: UUID | None,
        expected_months: int,
        fixed_place: bool,
        contact: str,
        left_on: date,
        meta: dict[str, Any],
        host_region: str | None = None,
    ) -> MobileRegistration:
        until = None
        if kind is MobilityKind.GraduateDeferral:
            if expected_months > DEFERRAL_MAX_MONTHS:
                raise Invalid(
                    "a graduate's relation stays at school for at most 2 years", field="expected_months"
                )
            until = add_months(left_on, expected_months)
        return cls(
            id=registration_id,
            tenant_id=tenant_id,
            member_id=member_id,
            home_org_id=home_org_id,
            kind=kind,
            reason=reason,
            destination=destination,
            host_tenant=host_tenant,
            host_org_id=host_org_id,
            expected_months=expected_months,
            fixed_place=fixed_place,
            contact=contact,
            left_on=left_on,
            until=until,
            transfer_suggested=kind is MobilityKind.Outflow
            and suggests_transfer(expected_months, fixed_place),
            meta=meta,
            host_region=host_region,
        )

    def register_inflow(
        self,
        *,
        host_tenant: str,
        host_org_id: UUID,
        host_contact: str,
        registered_on: date,
        meta: dict[str, Any],
    ) -> None:
        """The host branch enrols the mobile member for daily organisational life; it may not refuse."""
        if self.state is RegistrationState.InflowRegistered and self.host_org_id == host_org_id:
            return
        if self.state is not RegistrationState.OutflowRegistered:
            raise RegistrationStateError(f"the registration is {self.state.value}")
        if self.kind is not MobilityKind.Outflow:
            raise RegistrationStateError("only an outflow is registered at a host branch")
        self._inflow(
            host_tenant=host_tenant,
            host_org_id=host_org_id,
            host_contact=host_contact,
            registered_on=registered_on,
            home=self.home,
            meta=meta,
        )

    @event(InflowRegistered)
    def _inflow(
        self,
        host_tenant: str,
        host_org_id: UUID,
        host_contact: str,
        registered_on: date,
        home: dict[str, str],
        meta: dict[str, Any],
    ) -> None:
        self.host_tenant = host_tenant
        self.host_org_id = host_org_id
        self.state = RegistrationState.InflowRegistered

    @property
    def home(self) -> dict[str, str]:
        """Whose registration: later events carry it, so they are published without a lookup."""
        return {
            "tenant_id": self.tenant_id,
            "member_id": str(self.member_id),
            "org_id": str(self.home_org_id),
        }

    @property
    def open(self) -> bool:
        return self.state in (RegistrationState.OutflowRegistered, RegistrationState.InflowRegistered)

    def return_home(self, returned_on: date, meta: dict[str, Any]) -> None:
        if not self.open:
            raise RegistrationStateError(f"the registration is already {self.state.value}")
        self._returned(returned_on=returned_on, home=self.home, meta=meta)

    @event(Returned)
    def _returned(self, returned_on: date, home: dict[str, str], meta: dict[str, Any]) -> None:
        self.state = RegistrationState.Returned

    def convert_to_transfer(self, converted_on: date, meta: dict[str, Any]) -> None:
        if not self.open:
            raise RegistrationStateError(f"the registration is already {self.state.value}")
        self._converted(converted_on=converted_on, home=self.home, meta=meta)

    @event(ConvertedToTransfer)
    def _converted(self, converted_on: date, home: dict[str, str], meta: dict[str, Any]) -> None:
        self.state = RegistrationState.ConvertedToTransfer


class CertificateBook(Aggregate):
    """Numbers activity certificates per issuing committee; concurrent issues clash on the version and retry."""

    TOPIC = "lianxin.registry.CertificateBook"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.registry.CertificateBook.Created"

    class Opened(Created):
        TOPIC = "lianxin.registry.CertificateBook.Opened"
        tenant_id: str
        committee_id: UUID
        prefix: str

    class NumberTaken(Event):
        TOPIC = "lianxin.registry.CertificateBook.NumberTaken"
        number: str

    @staticmethod
    def create_id(tenant_id: str, committee_id: UUID) -> UUID:
        return uuid5(CERTIFICATE_BOOK_NAMESPACE, f"{tenant_id}/{committee_id}")

    @event(Opened)
    def __init__(self, *, tenant_id: str, committee_id: UUID, prefix: str) -> None:
        self.prefix = prefix
        self.count = 0

    def take_number(self, year: int) -> str:
        number = f"{self.prefix}-{year}-{self.count + 1:05d}"
        self._taken(number=number)
        return number

    @event(NumberTaken)
    def _taken(self, number: str) -> None:
        self.count += 1


class ActivityCertificate(Aggregate):
    """《流动党员活动证》: Issued → Presented → (reviewed yearly)* → Surrendered | Superseded | Voided."""

    TOPIC = "lianxin.registry.ActivityCertificate"

    @staticmethod
    def id_for(registration_id: UUID) -> UUID:
        """One certificate per outflow registration."""
        return uuid5(CERTIFICATE_BOOK_NAMESPACE, f"certificate/{registration_id}")

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.registry.ActivityCertificate.Created"

    class Issued(Created):
        TOPIC = "lianxin.registry.ActivityCertificate.Issued"
        tenant_id: str
        number: str
        member_id: UUID
        registration_id: UUID
        issued_on: date
        home: dict[str, str]  # whose certificate: the home tenant, member and branch
        meta: dict[str, Any]
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["home"] = dict(state["meta"].get("home") or {})  # stored when meta carried it

    class Presented(Event):
        TOPIC = "lianxin.registry.ActivityCertificate.Presented"
        host_org_id: UUID
        presented_on: date
        meta: dict[str, Any]

    class Reviewed(Event):
        TOPIC = "lianxin.registry.ActivityCertificate.Reviewed"
        reviewed_on: date
        reviewer: str
        remarks: str
        tenant_id: str
        home: dict[str, str]
        item_id: str  # the year's review it closes
        meta: dict[str, Any]
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Stored when meta carried whose certificate it was, its tenant and the review it closes.
            meta = state["meta"]
            state["home"] = dict(meta.get("home") or {})
            state["tenant_id"] = meta.get("tenant_id", "")
            state["item_id"] = meta.get("closes", "")

    class ReviewDue(Event):
        """The next yearly review is due; notify chases it until the review is recorded."""

        TOPIC = "lianxin.registry.ActivityCertificate.ReviewDue"
        due_on: date
        tenant_id: str
        home: dict[str, str]
        meta: dict[str, Any]
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Stored when meta carried whose certificate it was, its tenant and the review it closes.
            meta = state["meta"]
            state["home"] = dict(meta.get("home") or {})
            state["tenant_id"] = meta.get("tenant_id", "")

    class Closed(Event):
        TOPIC = "lianxin.registry.ActivityCertificate.Closed"
        state: CertificateState
        closed_on: date
        reason: str
        tenant_id: str
        home: dict[str, str]
        item_id: str  # the year's review it ends
        meta: dict[str, Any]
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Stored when meta carried whose certificate it was, its tenant and the review it closes.
            meta = state["meta"]
            state["home"] = dict(meta.get("home") or {})
            state["tenant_id"] = meta.get("tenant_id", "")
            state["item_id"] = meta.get("closes", "")

    @event(Issued)
    def __init__(
        self,
        *,
        id: UUID,
        tenant_id: str,
        number: str,
        member_id: UUID,
        registration_id: UUID,
        issued_on: date,
        home: dict[str, str],
        meta: dict[str, Any],
    ) -> None:
        self.tenant_id = tenant_id
        self.number = number
        self.member_id = member_id
        self.registration_id = registration_id
        self.state = CertificateState.Issued
        self.last_reviewed_on = issued_on
        # Whose certificate: later events say it, so they can go out without a lookup.
        self.home = dict(home)

    @property
    def review_due_on(self) -> date:
        return add_months(self.last_reviewed_on, 12)

    @property
    def in_force(self) -> bool:
        return self.state in (CertificateState.Issued, CertificateState.Presented)

    def present(self, host_org_id: UUID, presented_on: date, meta: dict[str, Any]) -> None:
        if self.state is CertificateState.Presented:
            return
        self._require_in_force()
        self._presented(host_org_id=host_org_id, presented_on=presented_on, meta=meta)

    @event(Presented)
    def _presented(self, host_org_id: UUID, presented_on: date, meta: dict[str, Any]) -> None:
        self.state = CertificateState.Presented

    def review_item(self, due_on: date | None = None) -> str:
        """The reminder key of one year's review: each year's review is chased and closed on its own."""
        return f"{self.id}:{(due_on or self.review_due_on).isoformat()}"

    def review(self, reviewed_on: date, reviewer: str, remarks: str, meta: dict[str, Any]) -> None:
        self._require_in_force()
        closes = self.review_item()
        self._reviewed(
            reviewed_on=reviewed_on,
            reviewer=reviewer,
            remarks=remarks,
            tenant_id=self.tenant_id,
            home=self.home,
            item_id=closes,
            meta=meta,
        )
        self._review_due(due_on=self.review_due_on, tenant_id=self.tenant_id, home=self.home, meta=meta)

    @event(ReviewDue)
    def _review_due(self, due_on: date, tenant_id: str, home: dict[str, str], meta: dict[str, Any]) -> None:
        pass

    @event(Reviewed)
    def _reviewed(
        self,
        reviewed_on: date,
        reviewer: str,
        remarks: str,
        tenant_id: str,
        home: dict[str, str],
        item_id: str,
        meta: dict[str, Any],
    ) -> None:
        self.last_reviewed_on = reviewed_on

    def close(self, state: CertificateState, closed_on: date, reason: str, meta: dict[str, Any]) -> None:
        """Surrendered on return, superseded by a transfer, voided when lost or on loss of standing."""
        if state not in (CertificateState.Surrendered, CertificateState.Superseded, CertificateState.Voided):
            raise Invalid("a certificate closes as surrendered, superseded or voided", field="state")
        if not self.in_force:
            return
        self._closed(
            state=state,
            closed_on=closed_on,
            reason=reason,
            tenant_id=self.tenant_id,
            home=self.home,
            item_id=self.review_item(),
            meta=meta,
        )

    @event(Closed)
    def _closed(
        self,
        state: CertificateState,
        closed_on: date,
        reason: str,
        tenant_id: str,
        home: dict[str, str],
        item_id: str,
        meta: dict[str, Any],
    ) -> None:
        self.state = state

    def _require_in_force(self) -> None:
        if not self.in_force:
            raise RegistrationStateError(f"the certificate is {self.state.value}")
