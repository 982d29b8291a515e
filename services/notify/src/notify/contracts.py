"""Notify's own copies of the integration events it consumes (each side owns the messages it reads).

Only ids, tenants, states and dates: names and addresses are fetched from the owning service when rendering.
Transfer and learning contracts are notify's reading of ADR 0001 and the issue while those services are being
written; `extra="ignore"` lets them add fields, and notify's tests publish these shapes themselves.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import AliasChoices, BaseModel, ConfigDict, Field


class Consumed(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    TYPE: ClassVar[str] = ""


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


class TransferStep(Consumed):
    """Every step of the transfer saga that people hear about (cn.lianxin.transfer.<step>.v1)."""

    case_id: str
    member_id: UUID
    sending_tenant: str
    receiving_tenant: str | None = None
    sending_org_id: UUID | None = None
    receiving_org_id: UUID | None = None
    letter_no: str | None = None
    expires_on: date | None = None
    receipt_due_on: date | None = None
    reason_code: str | None = None
    days_before: int | None = None


class MemberItem(Consumed):
    """Something about one member: a decision, a mobile registration, a certificate, a contact case, a report.

    One permissive copy for all of them: notify reads ids, tenants and dates, and every field but the member
    is optional, so a contract that omits one still notifies whom it can.
    """

    member_id: UUID
    organisation_id: UUID | None = None
    home_org_id: UUID | None = None
    host_org_id: UUID | None = None
    tenant: str | None = None
    home_tenant: str | None = None
    host_tenant: str | None = None
    item_id: str | None = Field(
        default=None,
        validation_alias=AliasChoices("item_id", "registration_id", "certificate_id", "report_id"),
    )
    kind: str | None = None
    cause: str | None = None
    reason: str | None = None
    outcome: str | None = None
    quarter: str | None = None
    silent_days: int | None = None
    months_without_org_life: int | None = None
    ground: str | None = None
    ends_on: date | None = None
    due_on: date | None = None
    decided_on: date | None = None
    left_on: date | None = None
    until: date | None = None
    ended_on: date | None = None


class OrgActivity(Consumed):
    """Something for every member of an organisation: a meeting, a quiz."""

    organisation_id: UUID
    item_id: str = Field(validation_alias=AliasChoices("item_id", "meeting_id", "quiz_id", "campaign_id"))
    starts_at: datetime | None = None
    due_on: date | None = None
    pending: int | None = None
    meeting_type: str | None = None
    mode: str | None = None


def _t(service: str, event: str) -> str:
    return f"cn.lianxin.{service}.{event}.v1"


TRANSFER_STEPS = (
    "transfer_requested",
    "branch_approved",
    "committee_approved",
    "letter_issued",
    "transfer_received",
    "member_checked_in",
    "receipt_returned",
    "transfer_completed",
    "transfer_returned",
    "letter_expired",
    "letter_voided",
    "transfer_cancelled",
    "transfer_refused",
)
# Published by the registry today (registry/contracts.py) ...
REGISTRY_MEMBER_ITEMS = (
    "decision_recorded",
    "outflow_registered",
    "inflow_registered",
    "mobility_ended",
    "contact_at_risk",
    "lost_contact_case_opened",
    "self_lapse_review_opened",
    "contact_case_closed",
    # ... certificates, and the six-monthly contact of members abroad or deferred.
    "certificate_issued",
    "certificate_review_due",
    "certificate_reviewed",
    "certificate_surrendered",
    "contact_due",
    "contact_recorded",
    "probation_ending",
    "lost_contact_proposed",
)
# thought_report_submitted is learning's; thought_report_due is assumed.
LEARNING_MEMBER_ITEMS = ("thought_report_due", "thought_report_submitted")
LEARNING_ORG_ACTIVITIES = ("meeting_scheduled", "quiz_published")
# For a branch's secretary: a screening campaign (排查) still waits for the branch's confirmations.
REGISTRY_ORG_ITEMS = ("screening_reminder",)


class MemberErased(Consumed):
    """The registry erased a member's personal data: notify destroys its key for the member (shared.shredding)."""

    TYPE: ClassVar[str] = "cn.lianxin.registry.personal_data_erased.v1"
    member_id: UUID


CONSUMED: dict[str, type[Consumed]] = {
    MemberErased.TYPE: MemberErased,
    MemberRegistered.TYPE: MemberRegistered,
    OrganisationFounded.TYPE: OrganisationFounded,
    **{_t("transfer", e): TransferStep for e in TRANSFER_STEPS},
    **{_t("registry", e): MemberItem for e in REGISTRY_MEMBER_ITEMS},
    **{_t("learning", e): MemberItem for e in LEARNING_MEMBER_ITEMS},
    **{_t("learning", e): OrgActivity for e in LEARNING_ORG_ACTIVITIES},
    **{_t("registry", e): OrgActivity for e in REGISTRY_ORG_ITEMS},
}
