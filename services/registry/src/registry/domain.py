"""Registry aggregates: organisations and members, their events, and the registry's errors."""

from __future__ import annotations

import enum
from datetime import date
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event
from shared.errors import Conflict, Invalid, NotFound, ServiceError

ORG_NAMESPACE = UUID("0b8e3a52-8d25-4b53-9a6e-1d6f1f3f8c01")


class RegistryError(ServiceError):
    type = "registry"


class OrganisationNotFound(NotFound):
    type = "organisation-not-found"


class MemberNotFound(NotFound):
    type = "member-not-found"


class OrganisationClosed(Conflict):
    type = "organisation-closed"


class InvalidTree(Invalid):
    type = "invalid-organisation-tree"


class OrgKind(enum.Enum):
    """党委 / 组织部 / 街道党工委 → 党总支 → 党支部 → 党小组."""

    PrimaryCommittee = "primary_committee"
    OrgDepartment = "org_department"
    StreetCommittee = "street_committee"
    GeneralBranch = "general_branch"
    Branch = "branch"
    Group = "group"


ROOT_KINDS = {OrgKind.PrimaryCommittee, OrgKind.OrgDepartment}
ALLOWED_CHILDREN: dict[OrgKind, set[OrgKind]] = {
    OrgKind.PrimaryCommittee: {OrgKind.GeneralBranch, OrgKind.Branch},
    OrgKind.OrgDepartment: {OrgKind.StreetCommittee, OrgKind.PrimaryCommittee, OrgKind.GeneralBranch,
                            OrgKind.Branch},
    OrgKind.StreetCommittee: {OrgKind.GeneralBranch, OrgKind.Branch},
    OrgKind.GeneralBranch: {OrgKind.Branch},
    OrgKind.Branch: {OrgKind.Group},
    OrgKind.Group: set(),
}


class MemberCategory(enum.Enum):
    """正式党员 / 预备党员."""

    Full = "full"
    Probationary = "probationary"


class MembershipStatus(enum.Enum):
    """党籍: 正常 / 停止党籍."""

    Active = "active"
    Suspended = "suspended"


class Organisation(Aggregate):
    TOPIC = "lianxin.registry.Organisation"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.registry.Organisation.Created"

    class Founded(Aggregate.Created):
        TOPIC = "lianxin.registry.Organisation.Founded"
        tenant_id: str
        code: str
        name: str
        kind: OrgKind
        parent_id: UUID | None
        meta: dict[str, Any]

    @staticmethod
    def create_id(tenant_id: str, code: str) -> UUID:
        """Natural key: one organisation per (tenant, code); a second create collides on version 1."""
        return uuid5(ORG_NAMESPACE, f"{tenant_id}/{code}")

    @event(Founded)
    def __init__(self, *, tenant_id: str, code: str, name: str, kind: OrgKind, parent_id: UUID | None,
                 meta: dict[str, Any]) -> None:
        self.tenant_id = tenant_id
        self.code = code
        self.name = name
        self.kind = kind
        self.parent_id = parent_id
        self.closed = False

    @classmethod
    def found(cls, *, tenant_id: str, code: str, name: str, kind: OrgKind, parent: Organisation | None,
              meta: dict[str, Any]) -> Organisation:
        if parent is None and kind not in ROOT_KINDS:
            raise InvalidTree(f"a {kind.value} needs a parent organisation", field="parent_id")
        if parent is not None:
            if parent.closed:
                raise OrganisationClosed("the parent organisation is closed", field="parent_id")
            if kind not in ALLOWED_CHILDREN[parent.kind]:
                raise InvalidTree(f"a {kind.value} cannot sit under a {parent.kind.value}", field="kind")
        return cls(tenant_id=tenant_id, code=code, name=name, kind=kind,
                   parent_id=parent.id if parent else None, meta=meta)


class Member(Aggregate):
    TOPIC = "lianxin.registry.Member"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.registry.Member.Created"

    class Registered(Aggregate.Created):
        TOPIC = "lianxin.registry.Member.Registered"
        tenant_id: str
        name: str
        organisation_id: UUID
        category: MemberCategory
        registered_on: date
        meta: dict[str, Any]

    @event(Registered)
    def __init__(self, *, id: UUID, tenant_id: str, name: str, organisation_id: UUID,
                 category: MemberCategory, registered_on: date, meta: dict[str, Any]) -> None:
        self.tenant_id = tenant_id
        self.name = name
        self.organisation_id = organisation_id
        self.category = category
        self.status = MembershipStatus.Active
        self.registered_on = registered_on

    @classmethod
    def register(cls, *, member_id: UUID, tenant_id: str, name: str, organisation: Organisation,
                 category: MemberCategory, registered_on: date, meta: dict[str, Any]) -> Member:
        if organisation.closed:
            raise OrganisationClosed("members cannot be registered to a closed organisation",
                                     field="organisation_id")
        if organisation.kind not in {OrgKind.Branch, OrgKind.GeneralBranch}:
            raise InvalidTree("members belong to a branch or general branch, not a "
                              f"{organisation.kind.value}", field="organisation_id")
        return cls(id=member_id, tenant_id=tenant_id, name=name,
                   organisation_id=organisation.id, category=category, registered_on=registered_on, meta=meta)
