"""The registry's eventsourcing Application: one method per use case."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from shared.clock import Clock, SystemClock
from shared.envelope import IntegrationEvent
from shared.errors import Conflict
from shared.eventstore import IntegrityError, ServiceApplication
from shared.meta import EventMeta

from registry.contracts import MemberRegistered, OrganisationFounded
from registry.domain import (
    Member,
    MemberCategory,
    MemberNotFound,
    MembershipStatus,
    Organisation,
    OrganisationNotFound,
    OrgKind,
)


class RegistryApplication(ServiceApplication):
    name = "registry"
    enums: ClassVar[Mapping[str, type[enum.Enum]]] = {"registry.OrgKind": OrgKind, "registry.MemberCategory": MemberCategory,
             "registry.MembershipStatus": MembershipStatus}

    def __init__(self, env: Mapping[str, str] | None = None, clock: Clock | None = None) -> None:
        super().__init__(env)
        self.clock = clock or SystemClock()

    def found_organisation(self, *, tenant_id: str, code: str, name: str, kind: OrgKind,
                           parent_id: UUID | None, meta: EventMeta) -> Organisation:
        parent = self.get_organisation(tenant_id, parent_id, field="parent_id") if parent_id else None
        organisation = Organisation.found(tenant_id=tenant_id, code=code, name=name, kind=kind, parent=parent,
                                          meta=dict(meta))
        try:
            self.save(organisation)
        except IntegrityError:
            raise Conflict(f"an organisation with code {code!r} already exists", field="code") from None
        return organisation

    def register_member(self, *, member_id: UUID, tenant_id: str, name: str, organisation_id: UUID,
                        category: MemberCategory, meta: EventMeta) -> Member:
        organisation = self.get_organisation(tenant_id, organisation_id, field="organisation_id")
        member = Member.register(member_id=member_id, tenant_id=tenant_id, name=name, organisation=organisation,
                                 category=category, registered_on=self.clock.now().date(), meta=dict(meta))
        self.save(member)
        return member

    def get_organisation(self, tenant_id: str, organisation_id: UUID, *, field: str = "id") -> Organisation:
        organisation: object
        try:
            organisation = self.repository.get(organisation_id)
        except AggregateNotFoundError:
            organisation = None
        # Another tenant's organisation answers exactly like a missing one.
        if not isinstance(organisation, Organisation) or organisation.tenant_id != tenant_id:
            raise OrganisationNotFound(f"organisation {organisation_id} not found", field=field)
        return organisation

    def get_member(self, tenant_id: str, member_id: UUID) -> Member:
        member: object
        try:
            member = self.repository.get(member_id)
        except AggregateNotFoundError:
            member = None
        if not isinstance(member, Member) or member.tenant_id != tenant_id:
            raise MemberNotFound(f"member {member_id} not found")
        return member

    def member_history(self, tenant_id: str, member_id: UUID) -> list[Any]:
        self.get_member(tenant_id, member_id)
        return list(self.events.get(member_id))


def outbound(domain_event: Any) -> tuple[str, IntegrationEvent] | None:
    """Which stored events leave the service, and as which contract."""
    if isinstance(domain_event, Member.Registered):
        return domain_event.tenant_id, MemberRegistered(
            member_id=domain_event.originator_id, organisation_id=domain_event.organisation_id,
            category=domain_event.category.value, registered_on=domain_event.registered_on)
    if isinstance(domain_event, Organisation.Founded):
        return domain_event.tenant_id, OrganisationFounded(
            organisation_id=domain_event.originator_id, parent_id=domain_event.parent_id,
            kind=domain_event.kind.value)
    return None
