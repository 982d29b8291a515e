"""Learning's own view of the registry: branches, members (participants) and who may read whose history."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

SHARE_NAMESPACE = UUID("8a2f4c6e-1b3d-4f5a-9c7e-0d2b4a6c8e10")


class MemberCategory(enum.Enum):
    """正式党员 / 预备党员, as the registry publishes it; 入党积极分子 / 发展对象 from its development records."""

    Full = "full"
    Probationary = "probationary"
    Activist = "activist"  # 入党积极分子 and 发展对象: writes thought reports
    DevelopmentEnded = "development_ended"  # admitted (a Member carries on), moved out, or closed


class ShareReason(enum.Enum):
    Transfer = "transfer"
    Inflow = "inflow"


class Branch(Aggregate):
    """An organisation of a tenant's tree, as far as learning needs it: meetings are held and counted per node."""

    TOPIC = "lianxin.learning.Branch"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.learning.Branch.Created"

    class Known(Created):
        TOPIC = "lianxin.learning.Branch.Known"
        tenant_id: str
        kind: str
        parent_id: UUID | None

    @event(Known)
    def __init__(self, *, id: UUID, tenant_id: str, kind: str, parent_id: UUID | None) -> None:
        self.tenant_id = tenant_id
        self.kind = kind
        self.parent_id = parent_id


class Participant(Aggregate):
    """A member as learning sees them: home tenant, branch, category, and the host branches they attend."""

    TOPIC = "lianxin.learning.Participant"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.learning.Participant.Created"

    class Registered(Created):
        TOPIC = "lianxin.learning.Participant.Registered"
        tenant_id: str
        organisation_id: UUID
        category: MemberCategory
        registered_on: date

    class Hosted(Event):
        """Registered as a mobile member (流入登记) at a host branch, possibly in another tenant."""

        TOPIC = "lianxin.learning.Participant.Hosted"
        host_tenant: str
        host_org_id: UUID
        since: datetime

    class HostingEnded(Event):
        """The member returned home (or the mobile registration became a transfer): no more host branches."""

        TOPIC = "lianxin.learning.Participant.HostingEnded"
        host_tenants: list[str]
        ended_on: date

    class Regularised(Event):
        """转正, as the registry recorded the branch's decision."""

        TOPIC = "lianxin.learning.Participant.Regularised"
        decided_on: date

    class DevelopmentChanged(Event):
        """An applicant's development record moved on (registry); reports are written from 入党积极分子 on."""

        TOPIC = "lianxin.learning.Participant.DevelopmentChanged"
        organisation_id: UUID
        category: MemberCategory

    @event(Registered)
    def __init__(
        self,
        *,
        id: UUID,
        tenant_id: str,
        organisation_id: UUID,
        category: MemberCategory,
        registered_on: date,
    ) -> None:
        self.tenant_id = tenant_id
        self.organisation_id = organisation_id
        self.category = category
        self.registered_on = registered_on
        self.hosts: dict[str, UUID] = {}

    def host_at(self, host_tenant: str, host_org_id: UUID, since: datetime) -> None:
        if self.hosts.get(host_tenant) != host_org_id:
            self._hosted(host_tenant=host_tenant, host_org_id=host_org_id, since=since)

    @event(Hosted)
    def _hosted(self, host_tenant: str, host_org_id: UUID, since: datetime) -> None:
        self.hosts[host_tenant] = host_org_id

    def end_hosting(self, ended_on: date) -> None:
        if self.hosts:
            self._hosting_ended(host_tenants=sorted(self.hosts), ended_on=ended_on)

    @event(HostingEnded)
    def _hosting_ended(self, host_tenants: list[str], ended_on: date) -> None:
        self.hosts = {}

    def regularise(self, decided_on: date) -> None:
        if self.probationary:
            self._regularised(decided_on=decided_on)

    @event(Regularised)
    def _regularised(self, decided_on: date) -> None:
        self.category = MemberCategory.Full

    def follow_development(self, organisation_id: UUID, category: MemberCategory) -> None:
        if (organisation_id, category) != (self.organisation_id, self.category):
            self._development_changed(organisation_id=organisation_id, category=category)

    @event(DevelopmentChanged)
    def _development_changed(self, organisation_id: UUID, category: MemberCategory) -> None:
        self.organisation_id = organisation_id
        self.category = category

    @property
    def writes_thought_reports(self) -> bool:
        """预备党员, and 入党积极分子 / 发展对象 (whose reports count toward their development)."""
        return self.category in (MemberCategory.Probationary, MemberCategory.Activist)

    def branch_in(self, tenant: str) -> UUID | None:
        """The branch this member belongs to or attends in a tenant: home branch, or the host branch."""
        if tenant == self.tenant_id:
            return self.organisation_id
        return self.hosts.get(tenant)

    def attends(self, tenant: str, organisation_id: UUID) -> bool:
        """Their home branch, or a branch hosting them while they are away (in this tenant or another)."""
        home = tenant == self.tenant_id and organisation_id == self.organisation_id
        return home or self.hosts.get(tenant) == organisation_id

    def branches_seen_from(self, tenant: str) -> list[tuple[str, UUID, bool]]:
        """(tenant, branch, hosted) whose organisational life the member takes part in, seen with a token of
        `tenant`: from home, the home branch and every host branch; from a host tenant, that host branch only."""
        hosted = [(t, o, True) for t, o in sorted(self.hosts.items())]
        if tenant == self.tenant_id:
            return [(self.tenant_id, self.organisation_id, False), *hosted]
        return [h for h in hosted if h[0] == tenant]

    @property
    def probationary(self) -> bool:
        return self.category is MemberCategory.Probationary


class HistoryShare(Aggregate):
    """Lets one tenant read one member's learning and attendance history, and nothing else of the source."""

    TOPIC = "lianxin.learning.HistoryShare"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.learning.HistoryShare.Created"

    class Granted(Created):
        TOPIC = "lianxin.learning.HistoryShare.Granted"
        member_id: UUID
        source_tenant: str
        grantee_tenant: str
        grantee_member_id: UUID
        reason: ShareReason
        cause: str
        granted_at: datetime
        meta: dict[str, Any]

    @staticmethod
    def create_id(member_id: UUID, grantee_tenant: str) -> UUID:
        return uuid5(SHARE_NAMESPACE, f"{member_id}|{grantee_tenant}")

    @event(Granted)
    def __init__(
        self,
        *,
        member_id: UUID,
        source_tenant: str,
        grantee_tenant: str,
        grantee_member_id: UUID,
        reason: ShareReason,
        cause: str,
        granted_at: datetime,
        meta: dict[str, Any],
    ) -> None:
        self.member_id = member_id
        self.source_tenant = source_tenant
        self.grantee_tenant = grantee_tenant
        self.grantee_member_id = grantee_member_id
        self.reason = reason
        self.revoked = False

    class Revoked(Event):
        """A host's share ends when the mobile member returns; a transfer's share never does."""

        TOPIC = "lianxin.learning.HistoryShare.Revoked"
        cause: str

    def revoke(self, cause: str) -> None:
        if not self.revoked and self.reason is ShareReason.Inflow:
            self._revoked(cause=cause)

    @event(Revoked)
    def _revoked(self, cause: str) -> None:
        self.revoked = True
