"""The models more than one router uses: a member as shown by the members router and to the member themself (the
record, personal data masked unless unmasking was asked for, and its history of stored events)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from registry.domain import Member
from registry.domain.identity import mask_national_id, mask_phone


class MemberOut(BaseModel):
    id: UUID
    name: str
    organisation_id: UUID
    category: str
    standing: str
    roll: str
    transfer_pending: str | None = Field(description="the transfer case holding the member, if any")
    registered_on: date
    version: int
    gender: str | None = None
    ethnicity: str | None = None
    birth_date: date | None = None
    education: str | None = None
    national_id_number: str | None = Field(default=None, description="masked unless unmasked was asked for")
    phone: str | None = Field(default=None, description="masked unless unmasked was asked for")
    joined_on: date | None = None
    regularised_on: date | None = None
    employer: str | None = None
    industry_code: str | None = None
    occupation: str | None = None
    arrived_from: UUID | None = None


class HistoryEntry(BaseModel):
    version: int
    type: str
    at: datetime
    by: str | None
    correlation_id: str | None
    changes: dict[str, Any]


def member_out(member: Member, *, unmasked: bool = False) -> MemberOut:
    p = member.profile
    return MemberOut(
        id=member.id,
        name=member.name,
        organisation_id=member.organisation_id,
        category=member.category.value,
        standing=member.standing.value,
        roll=member.roll.value,
        transfer_pending=member.hold_case_id,
        registered_on=member.registered_on,
        version=member.version,
        gender=p.get("gender"),
        ethnicity=p.get("ethnicity"),
        birth_date=p.get("birth_date"),
        education=p.get("education"),
        national_id_number=p.get("national_id_number")
        if unmasked
        else mask_national_id(p.get("national_id_number")),
        phone=p.get("phone") if unmasked else mask_phone(p.get("phone")),
        joined_on=p.get("joined_on"),
        regularised_on=p.get("regularised_on"),
        employer=p.get("employer"),
        industry_code=p.get("industry_code"),
        occupation=p.get("occupation"),
        arrived_from=member.from_member_id,
    )


HIDDEN = {"originator_id", "originator_version", "originator_topic", "timestamp", "meta"}


def history_entry(event: Any, *, unmasked: bool) -> HistoryEntry:
    meta = getattr(event, "meta", None) or {}
    changes = {k: (v.value if hasattr(v, "value") else v) for k, v in vars(event).items() if k not in HIDDEN}
    for key in ("profile", "changes"):
        if isinstance(changes.get(key), dict) and not unmasked:
            masked = dict(changes[key])
            if "national_id_number" in masked:
                masked["national_id_number"] = mask_national_id(masked["national_id_number"])
            if "phone" in masked:
                masked["phone"] = mask_phone(masked["phone"])
            changes[key] = masked
    return HistoryEntry(
        version=event.originator_version,
        type=type(event).__name__,
        at=event.timestamp,
        by=meta.get("actor"),
        correlation_id=meta.get("correlation_id"),
        changes=changes,
    )
