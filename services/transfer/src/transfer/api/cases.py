"""Transfer cases: request, approvals, receipt, refusal, check-in, receipt return, cancellation, voiding a letter.

The letter printed is in `case_letters`; the case's JSON and the approval's fields, shared with the batch and
member routers, in `models`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from shared.auth import CurrentUser, Principal
from shared.envelope import TENANT_PATTERN
from shared.errors import Forbidden, Invalid
from shared.idempotency import idempotent_create
from shared.meta import event_meta
from shared.runtime import RuntimeDep
from shared.threads import run_sync
from transfer.api.common import Registry, Transfers, require_reader, require_side
from transfer.api.models import CaseOut, CommitteeApprovalIn, Strict, approval_letter_fields, case_out
from transfer.domain import DestinationKind, TransferCase

router = APIRouter(prefix="/v1/transfers", tags=["transfers"])


class TransferIn(Strict):
    member_id: UUID
    destination: Literal["same_tenant", "other_tenant", "off_platform"]
    receiving_tenant: str | None = Field(default=None, pattern=TENANT_PATTERN)
    receiving_org_id: UUID | None = None
    receiving_org_name: str | None = Field(
        default=None, max_length=200, description="required off the platform: the full name on the letter"
    )
    reason: str = Field(min_length=1, max_length=500, examples=["毕业就业"])
    graduate: bool = False
    cross_province: bool = False


class ReasonIn(Strict):
    reason: str = Field(min_length=1, max_length=500)


class CheckInIn(Strict):
    late_reason: str | None = Field(
        default=None, max_length=500, description="needed after the letter's expiry"
    )


class ReceiptIn(Strict):
    handler: str = Field(min_length=1, max_length=50, description="经办人")
    phone: str = Field(min_length=1, max_length=50)


class VoidIn(Strict):
    reason: str = Field(min_length=1, max_length=500)
    reissue: bool = Field(description="补办: a new letter under a new number, the hold stays")


class PaperReceiptIn(Strict):
    handler: str = Field(min_length=1, max_length=50)
    receiving_org_name: str = Field(min_length=1, max_length=200)
    returned_on: date


def _sender_scope(user: Principal, organisation_id: str, member_id: UUID) -> None:
    """The member themself (token subject member:<id>), their branch's secretary, or the committee."""
    if not (
        user.has_any("committee", "tenant_admin")
        or (user.has_any("branch_secretary") and organisation_id in user.orgs)
        or (user.has_any("member") and user.subject == f"member:{member_id}")
    ):
        raise Forbidden("a transfer is requested by the member, the member's branch or the committee")


@router.post("", status_code=201, response_model=CaseOut, summary="Request a transfer (the sender's branch)")
async def request_transfer(
    body: TransferIn,
    user: CurrentUser,
    runtime: RuntimeDep,
    transfers: Transfers,
    registry: Registry,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    on_platform = body.destination != "off_platform"
    receiving = (
        registry.organisation(body.receiving_tenant, body.receiving_org_id)
        if on_platform and body.receiving_tenant and body.receiving_org_id
        else asyncio.sleep(0)
    )
    # Both reads at once (one round trip's wait instead of two); their failures are raised in the order the checks
    # had when one read followed the other.
    member, organisation = await asyncio.gather(
        registry.member(user.tenant, body.member_id), receiving, return_exceptions=True
    )
    if isinstance(member, BaseException):
        raise member
    if member["roll"] != "on_roll":
        raise Invalid("the member is not on this roll", field="member_id")
    _sender_scope(user, member["organisation_id"], body.member_id)
    receiving_name = body.receiving_org_name or ""
    if on_platform:
        if organisation is None:
            raise Invalid("name the receiving tenant and organisation", field="receiving_org_id")
        if isinstance(organisation, BaseException):
            raise organisation
        if organisation["closed"] or organisation["kind"] not in ("branch", "general_branch"):
            raise Invalid("the receiving organisation must be an open branch", field="receiving_org_id")
        receiving_name = organisation["name"]
    elif not receiving_name:
        raise Invalid(
            "off the platform, give the receiving organisation's full name", field="receiving_org_name"
        )

    async def create(case_id: UUID) -> dict[str, Any]:
        case = await run_sync(
            transfers.request,
            case_id=case_id,
            meta=event_meta(user.subject),
            sending_tenant=user.tenant,
            member_id=body.member_id,
            sending_org_id=UUID(member["organisation_id"]),
            destination=DestinationKind(body.destination),
            receiving_tenant=body.receiving_tenant,
            receiving_org_id=body.receiving_org_id,
            receiving_org_name=receiving_name,
            reason=body.reason,
            graduate=body.graduate,
            cross_province=body.cross_province,
        )
        return case_out(case).model_dump(mode="json")

    return await idempotent_create(
        runtime.pool,
        tenant=user.tenant,
        key=idempotency_key,
        route="POST /v1/transfers",
        payload=body.model_dump(mode="json"),
        create=create,
    )


@router.get("/{case_id}", response_model=CaseOut, summary="One transfer, for its parties")
async def get_transfer(case_id: UUID, user: CurrentUser, transfers: Transfers) -> CaseOut:
    case = await run_sync(transfers.get_case, user.tenant, case_id)
    require_reader(user, case)
    return case_out(case)


class HistoryEntry(BaseModel):
    version: int
    type: str
    at: datetime | None
    step: str | None = Field(description="the step, the request to the registry or its answer")
    by: str | None
    days_before: int | None


@router.get(
    "/{case_id}/history",
    response_model=list[HistoryEntry],
    summary="Every step of the case, with who and when",
)
async def case_history(case_id: UUID, user: CurrentUser, transfers: Transfers) -> list[HistoryEntry]:
    require_reader(user, await run_sync(transfers.get_case, user.tenant, case_id))
    events = await run_sync(transfers.history, case_id)
    return [
        HistoryEntry(
            version=e.originator_version,
            type=type(e).__name__,
            at=getattr(e, "timestamp", None),
            step=getattr(e, "step", None) or getattr(e, "request", None) or getattr(e, "outcome", None),
            by=(getattr(e, "meta", None) or {}).get("actor"),
            days_before=(getattr(e, "details", None) or {}).get("days_before"),
        )
        for e in events
    ]


async def _step(
    user: Principal,
    case_id: UUID,
    side: str,
    take: Callable[..., TransferCase],
    *,
    committee_only: bool = False,
    **args: Any,
) -> CaseOut:
    """Take the step (a TransferApplication method), which checks the caller's side and role on the case it loads
    before it changes anything."""

    def allowed(case: TransferCase) -> None:
        require_side(user, case, side, committee_only=committee_only)

    case = await run_sync(take, user.tenant, case_id, event_meta(user.subject), allowed=allowed, **args)
    return case_out(case)


@router.post("/{case_id}/branch-approval", response_model=CaseOut, summary="The sending branch approves")
async def approve_branch(case_id: UUID, user: CurrentUser, transfers: Transfers) -> CaseOut:
    return await _step(user, case_id, "sender", transfers.approve_branch)


@router.post(
    "/{case_id}/committee-approval",
    response_model=CaseOut,
    summary="The sending committee approves: the member is held, then the letter is issued and signed",
)
async def approve_committee(
    case_id: UUID,
    body: CommitteeApprovalIn,
    user: CurrentUser,
    runtime: RuntimeDep,
    transfers: Transfers,
    registry: Registry,
) -> CaseOut:
    case = await run_sync(transfers.get_case, user.tenant, case_id)
    require_side(user, case, "sender", committee_only=True)
    fields = await approval_letter_fields(
        registry, runtime.clock.now().date(), case.sending_tenant, case.member_id, case.sending_org_id, body
    )
    return await _step(
        user,
        case_id,
        "sender",
        transfers.approve_committee,
        committee_only=True,
        letter_fields=fields,
        valid_days=body.valid_days,
    )


@router.post(
    "/{case_id}/acceptance",
    response_model=CaseOut,
    summary="The receiving committee accepts the member (the pivot: afterwards the transfer completes)",
)
async def receive(case_id: UUID, user: CurrentUser, transfers: Transfers) -> CaseOut:
    return await _step(user, case_id, "receiver", transfers.receive, committee_only=True)


@router.post(
    "/{case_id}/refusal",
    response_model=CaseOut,
    summary="The receiver refuses (with cause): letter void, hold lifted, member stays at the sender",
)
async def refuse(case_id: UUID, body: ReasonIn, user: CurrentUser, transfers: Transfers) -> CaseOut:
    return await _step(user, case_id, "receiver", transfers.refuse, committee_only=True, reason=body.reason)


@router.post(
    "/{case_id}/return",
    response_model=CaseOut,
    summary="Sent back for correction (退回): letter void, hold lifted; the sender requests again",
)
async def send_back(case_id: UUID, body: ReasonIn, user: CurrentUser, transfers: Transfers) -> CaseOut:
    return await _step(user, case_id, "receiver", transfers.send_back, reason=body.reason)


@router.post(
    "/{case_id}/check-in",
    response_model=CaseOut,
    summary="报到: the member reported to the receiving branch; the receiving roll enrols them",
)
async def check_in(case_id: UUID, body: CheckInIn, user: CurrentUser, transfers: Transfers) -> CaseOut:
    return await _step(user, case_id, "receiver", transfers.check_in, late_reason=body.late_reason)


@router.post(
    "/{case_id}/receipt-return",
    response_model=CaseOut,
    summary="回执: the receiving committee returns the receipt; the case completes once the sender released",
)
async def return_receipt(case_id: UUID, body: ReceiptIn, user: CurrentUser, transfers: Transfers) -> CaseOut:
    return await _step(
        user,
        case_id,
        "receiver",
        transfers.return_receipt,
        committee_only=True,
        details=body.model_dump(),
    )


@router.post(
    "/{case_id}/cancellation",
    response_model=CaseOut,
    summary="The sender cancels before the receiver accepted: hold lifted, member stays",
)
async def cancel(case_id: UUID, body: ReasonIn, user: CurrentUser, transfers: Transfers) -> CaseOut:
    return await _step(user, case_id, "sender", transfers.cancel, committee_only=True, reason=body.reason)


@router.post(
    "/{case_id}/void",
    response_model=CaseOut,
    summary="Void a lost or wrong letter; reissue under a new number, or end the case",
)
async def void(case_id: UUID, body: VoidIn, user: CurrentUser, transfers: Transfers) -> CaseOut:
    return await _step(
        user,
        case_id,
        "sender",
        transfers.reissue_letter if body.reissue else transfers.void_letter,
        committee_only=True,
        reason=body.reason,
    )


@router.post(
    "/{case_id}/paper-receipt",
    response_model=CaseOut,
    summary="Off the platform: record the posted paper receipt by hand",
)
async def paper_receipt(
    case_id: UUID, body: PaperReceiptIn, user: CurrentUser, transfers: Transfers
) -> CaseOut:
    return await _step(
        user,
        case_id,
        "sender",
        transfers.record_paper_receipt,
        committee_only=True,
        details=body.model_dump(mode="json"),
    )
