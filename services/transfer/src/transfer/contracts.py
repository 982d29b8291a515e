"""Integration events the transfer service publishes (no personal data), and its copies of the registry's replies."""

from __future__ import annotations

from datetime import date
from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.envelope import IntegrationEvent

STEPS = (
    "transfer_requested",
    "branch_approved",
    "committee_approved",
    "letter_issued",
    "transfer_received",
    "member_checked_in",
    "receipt_returned",
    "transfer_completed",
    "transfer_returned",
    "transfer_refused",
    "letter_expired",
    "letter_voided",
    "transfer_cancelled",
    "receipt_overdue",
    "letter_expiry_reminder",
)


class TransferStep(IntegrationEvent):
    """A step of the saga: ids, tenants, states and dates; read the letter through the API with your own rights."""

    case_id: str
    member_id: UUID
    sending_tenant: str
    receiving_tenant: str | None
    sending_org_id: UUID
    receiving_org_id: UUID | None
    state: str
    letter_no: str | None = None
    expires_on: date | None = None
    receipt_due_on: date | None = None
    reason_code: str | None = None
    days_before: int | None = Field(default=None, description="letter_expiry_reminder: days left (7 or 1)")


def _step_class(step: str) -> type[TransferStep]:
    doc = f"The transfer saga's step `{step}`."
    return type(
        step.title().replace("_", ""),
        (TransferStep,),
        {
            "__doc__": doc,
            "__module__": __name__,
            "TYPE": f"cn.lianxin.transfer.{step}.v1",
            "__annotations__": {"TYPE": ClassVar[str]},
        },
    )


STEP_EVENTS: dict[str, type[TransferStep]] = {step: _step_class(step) for step in STEPS}


class ParticipantRequest(IntegrationEvent):
    case_id: str
    command_id: str
    member_id: UUID
    sending_tenant: str


class HoldRequested(ParticipantRequest):
    """Ask the sending roll to hold the member before a letter exists (ADR 0001)."""

    TYPE: ClassVar[str] = "cn.lianxin.transfer.hold_requested.v1"


class HoldReleaseRequested(ParticipantRequest):
    """Compensation: lift the hold if present; the member stays active at the sender."""

    TYPE: ClassVar[str] = "cn.lianxin.transfer.hold_release_requested.v1"
    reason: str | None = None


class EnrolmentRequested(ParticipantRequest):
    """After check-in: enrol at the receiving roll (and leave the sending one in the same transaction)."""

    TYPE: ClassVar[str] = "cn.lianxin.transfer.enrolment_requested.v1"
    receiving_tenant: str
    receiving_org_id: UUID
    letter_no: str | None = None


class ReleaseRequested(ParticipantRequest):
    """The member leaves the sending roll: off the platform (on it, the enrolment releases too: ADR 0001)."""

    TYPE: ClassVar[str] = "cn.lianxin.transfer.release_requested.v1"


PUBLISHED: tuple[type[IntegrationEvent], ...] = (
    *STEP_EVENTS.values(),
    HoldRequested,
    HoldReleaseRequested,
    EnrolmentRequested,
    ReleaseRequested,
)


class RegistryReply(BaseModel):
    """The transfer service's own copy of the registry's replies (extra fields ignored)."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    case_id: str
    command_id: str
    member_id: UUID
    reason_code: str | None = None
    reason: str | None = None
    new_member_id: UUID | None = None


REPLY_OUTCOMES = {
    f"cn.lianxin.registry.{o}.v1": o
    for o in (
        "hold_placed",
        "hold_refused",
        "hold_lifted",
        "member_enrolled",
        "enrolment_refused",
        "member_released",
    )
}


class MemberErased(BaseModel):
    """The transfer service's own copy of the registry's erasure (extra fields ignored)."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    TYPE: ClassVar[str] = "cn.lianxin.registry.personal_data_erased.v1"
    member_id: UUID
