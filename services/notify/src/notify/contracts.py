"""Notify's own copies of the integration events it consumes (each side owns the messages it reads)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class Consumed(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    TYPE: ClassVar[str]


class MemberRegistered(Consumed):
    TYPE: ClassVar[str] = "cn.lianxin.registry.member_registered.v1"
    member_id: UUID
    organisation_id: UUID
    category: Literal["full", "probationary"]
    registered_on: date


class OrganisationFounded(Consumed):
    TYPE: ClassVar[str] = "cn.lianxin.registry.organisation_founded.v1"
    organisation_id: UUID
    parent_id: UUID | None
    kind: str


CONSUMED: dict[str, type[Consumed]] = {c.TYPE: c for c in (MemberRegistered, OrganisationFounded)}
