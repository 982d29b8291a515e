"""Integration events the registry publishes: ids, states and dates only, never personal data."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal
from uuid import UUID

from shared.envelope import IntegrationEvent


class OrganisationFounded(IntegrationEvent):
    """An organisation (committee, general branch, branch, group) was founded in the tenant's tree."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.organisation_founded.v1"
    organisation_id: UUID
    parent_id: UUID | None
    kind: str


class MemberRegistered(IntegrationEvent):
    """A member was registered in a branch; fetch the profile from the registry with your own authorisation."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.member_registered.v1"
    member_id: UUID
    organisation_id: UUID
    category: Literal["full", "probationary"]
    registered_on: date


PUBLISHED: tuple[type[IntegrationEvent], ...] = (OrganisationFounded, MemberRegistered)
