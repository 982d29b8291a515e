"""The models more than one router uses: the case as its parties see it, and the committee's approval with the
letter's fields it reads from the registry (one case, or each case of a graduation batch)."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from shared.text import StrictModel
from transfer.application.registry_client import RegistryClient, letter_facts
from transfer.domain import TransferCase
from transfer.domain.saga import next_step


class Strict(StrictModel):
    """Request models: the shared text rules (no control characters), unknown fields refused."""


class CommitteeApprovalIn(Strict):
    valid_days: int | None = Field(default=None, ge=1, le=180, description="default from the tenant's policy")
    dues_paid_through: str | None = Field(
        default=None,
        pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
        examples=["2026-11"],
        description="党费交至 (year-month): only for a member whose dues the registry's ledger does not show (paid "
        "off the platform); the ledger's value is used whenever it has one",
    )
    issuer_address: str = Field(min_length=1, max_length=200)
    issuer_phone: str = Field(min_length=1, max_length=50)


async def approval_letter_fields(
    registry: RegistryClient,
    today: date,
    tenant: str,
    member_id: UUID,
    sending_org_id: UUID,
    body: CommitteeApprovalIn,
) -> dict[str, Any]:
    """The letter's fields as of today, read from the registry with the transfer service's own rights."""
    return await letter_facts(
        registry,
        tenant,
        member_id,
        sending_org_id,
        today,
        dues_paid_through=body.dues_paid_through,
        issuer_address=body.issuer_address,
        issuer_phone=body.issuer_phone,
    )


class CaseOut(BaseModel):
    id: UUID
    state: str
    next_step: str
    member_id: UUID
    sending_tenant: str
    sending_org_id: UUID
    destination: str
    receiving_tenant: str | None
    receiving_org_id: UUID | None
    receiving_org_name: str
    letter: dict[str, Any] | None = Field(description="the letter's fields, for the parties only")
    refusal: dict[str, Any] | None
    enrolled_member_id: UUID | None
    receipt_due_on: date | None


def case_out(case: TransferCase) -> CaseOut:
    letter = (
        {k: v for k, v in case.letter.items() if k not in ("letter_id", "code_kind")} if case.letter else None
    )
    return CaseOut(
        id=case.id,
        state=case.state.value,
        next_step=next_step(case),
        member_id=case.member_id,
        sending_tenant=case.sending_tenant,
        sending_org_id=case.sending_org_id,
        destination=case.destination.value,
        receiving_tenant=case.receiving_tenant,
        receiving_org_id=case.receiving_org_id,
        receiving_org_name=case.receiving_org_name,
        letter=letter,
        refusal=case.refusal,
        enrolled_member_id=case.enrolled_member_id,
        receipt_due_on=case.receipt_due_on(),
    )
