"""The organisation tree: committee → general branch → branch → group, each node an aggregate."""

from __future__ import annotations

import enum
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from registry.domain.errors import InvalidTree, OrganisationClosed

ORG_NAMESPACE = UUID("0b8e3a52-8d25-4b53-9a6e-1d6f1f3f8c01")


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
    OrgKind.OrgDepartment: {
        OrgKind.StreetCommittee,
        OrgKind.PrimaryCommittee,
        OrgKind.GeneralBranch,
        OrgKind.Branch,
    },
    OrgKind.StreetCommittee: {OrgKind.GeneralBranch, OrgKind.Branch},
    OrgKind.GeneralBranch: {OrgKind.Branch},
    OrgKind.Branch: {OrgKind.Group},
    OrgKind.Group: set(),
}


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
    def __init__(
        self,
        *,
        tenant_id: str,
        code: str,
        name: str,
        kind: OrgKind,
        parent_id: UUID | None,
        meta: dict[str, Any],
    ) -> None:
        self.tenant_id = tenant_id
        self.code = code
        self.name = name
        self.kind = kind
        self.parent_id = parent_id
        self.closed = False
        self.holders: set[tuple[str, str]] = set()

    @classmethod
    def found(
        cls,
        *,
        tenant_id: str,
        code: str,
        name: str,
        kind: OrgKind,
        parent: Organisation | None,
        meta: dict[str, Any],
    ) -> Organisation:
        if parent is None and kind not in ROOT_KINDS:
            raise InvalidTree(f"a {kind.value} needs a parent organisation", field="parent_id")
        if parent is not None:
            if parent.closed:
                raise OrganisationClosed("the parent organisation is closed", field="parent_id")
            if kind not in ALLOWED_CHILDREN[parent.kind]:
                raise InvalidTree(f"a {kind.value} cannot sit under a {parent.kind.value}", field="kind")
        return cls(
            tenant_id=tenant_id,
            code=code,
            name=name,
            kind=kind,
            parent_id=parent.id if parent else None,
            meta=meta,
        )

    class Renamed(Event):
        TOPIC = "lianxin.registry.Organisation.Renamed"
        name: str
        meta: dict[str, Any]

    class Moved(Event):
        TOPIC = "lianxin.registry.Organisation.Moved"
        parent_id: UUID
        meta: dict[str, Any]

    class Closed(Event):
        TOPIC = "lianxin.registry.Organisation.Closed"
        reason: str
        meta: dict[str, Any]

    class RoleGranted(Event):
        TOPIC = "lianxin.registry.Organisation.RoleGranted"
        tenant_id: str
        subject: str
        role: str
        meta: dict[str, Any]

    class RoleRevoked(Event):
        TOPIC = "lianxin.registry.Organisation.RoleRevoked"
        tenant_id: str
        subject: str
        role: str
        meta: dict[str, Any]

    def grant_role(self, subject: str, role: str, meta: dict[str, Any]) -> None:
        self._refuse_if_closed()
        if (subject, role) not in self.holders:
            self._granted(tenant_id=self.tenant_id, subject=subject, role=role, meta=meta)

    def revoke_role(self, subject: str, role: str, meta: dict[str, Any]) -> None:
        """Takes effect at once: scopes are checked against these assignments on every request."""
        if (subject, role) in self.holders:
            self._revoked(tenant_id=self.tenant_id, subject=subject, role=role, meta=meta)

    @event(RoleGranted)
    def _granted(self, tenant_id: str, subject: str, role: str, meta: dict[str, Any]) -> None:
        self.holders.add((subject, role))

    @event(RoleRevoked)
    def _revoked(self, tenant_id: str, subject: str, role: str, meta: dict[str, Any]) -> None:
        self.holders.discard((subject, role))

    def rename(self, name: str, meta: dict[str, Any]) -> None:
        self._refuse_if_closed()
        if name != self.name:
            self._renamed(name=name, meta=meta)

    def move(self, parent: Organisation, meta: dict[str, Any]) -> None:
        self._refuse_if_closed()
        if parent.id == self.id or self.kind not in ALLOWED_CHILDREN[parent.kind]:
            raise InvalidTree(
                f"a {self.kind.value} cannot sit under a {parent.kind.value}", field="parent_id"
            )
        if parent.closed:
            raise OrganisationClosed("the new parent organisation is closed", field="parent_id")
        if parent.id != self.parent_id:
            self._moved(parent_id=parent.id, meta=meta)

    def close(self, reason: str, meta: dict[str, Any]) -> None:
        """A closed node keeps its history; it takes no new members or children."""
        if not self.closed:
            self._closed(reason=reason, meta=meta)

    def _refuse_if_closed(self) -> None:
        if self.closed:
            raise OrganisationClosed("the organisation is closed")

    @event(Renamed)
    def _renamed(self, name: str, meta: dict[str, Any]) -> None:
        self.name = name

    @event(Moved)
    def _moved(self, parent_id: UUID, meta: dict[str, Any]) -> None:
        self.parent_id = parent_id

    @event(Closed)
    def _closed(self, reason: str, meta: dict[str, Any]) -> None:
        self.closed = True
