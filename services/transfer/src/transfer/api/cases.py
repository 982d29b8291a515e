"""Transfer cases: request, approvals, receipt, refusal, check-in, receipt return, cancellation, letters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Header
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from shared.auth import CurrentUser, Principal
from shared.envelope import TENANT_PATTERN
from shared.errors import Forbidden, Invalid, NotFound
from shared.idempotency import idempotent_create
from shared.meta import event_meta
from shared.runtime import RuntimeDep
from shared.text import StrictModel
from shared.threads import run_sync
from transfer.api.common import Registry, Transfers, require_reader, require_side
from transfer.api.letter_print import letter_html, letter_pdf
from transfer.application.registry_client import letter_facts
from transfer.domain import DestinationKind, TransferCase
from transfer.domain.saga import next_step

router = APIRouter(prefix="/v1/transfers", tags=["transfers"])


class Strict(StrictModel):
    """Request models: the shared text rules (no control characters), unknown fields refused."""


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
    member = await registry.member(user.tenant, body.member_id)
    if member["roll"] != "on_roll":
        raise Invalid("the member is not on this roll", field="member_id")
    _sender_scope(user, member["organisation_id"], body.member_id)
    receiving_name = body.receiving_org_name or ""
    if body.destination != "off_platform":
        if not body.receiving_tenant or not body.receiving_org_id:
            raise Invalid("name the receiving tenant and organisation", field="receiving_org_id")
        organisation = await registry.organisation(body.receiving_tenant, body.receiving_org_id)
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
    transfers: Any,
    user: Principal,
    case_id: UUID,
    side: str,
    take: Callable[..., TransferCase],
    *,
    committee_only: bool = False,
    **args: Any,
) -> CaseOut:
    """Check the caller's side and role on the case, then take the step (a TransferApplication method)."""
    case = await run_sync(transfers.get_case, user.tenant, case_id)
    require_side(user, case, side, committee_only=committee_only)
    case = await run_sync(take, user.tenant, case_id, event_meta(user.subject), **args)
    return case_out(case)


@router.post("/{case_id}/branch-approval", response_model=CaseOut, summary="The sending branch approves")
async def approve_branch(case_id: UUID, user: CurrentUser, transfers: Transfers) -> CaseOut:
    return await _step(transfers, user, case_id, "sender", transfers.approve_branch)


APPROVAL_FIELDS = CommitteeApprovalIn


async def approve_committee_fields(
    registry: Any, runtime: Any, tenant: str, member_id: UUID, sending_org_id: UUID, body: CommitteeApprovalIn
) -> dict[str, Any]:
    """The letter's fields as of today, read from the registry with the transfer service's own rights."""
    return await letter_facts(
        registry,
        tenant,
        member_id,
        sending_org_id,
        runtime.clock.now().date(),
        dues_paid_through=body.dues_paid_through,
        issuer_address=body.issuer_address,
        issuer_phone=body.issuer_phone,
    )


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
    fields = await approve_committee_fields(
        registry, runtime, case.sending_tenant, case.member_id, case.sending_org_id, body
    )
    return await _step(
        transfers,
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
    return await _step(transfers, user, case_id, "receiver", transfers.receive, committee_only=True)


@router.post(
    "/{case_id}/refusal",
    response_model=CaseOut,
    summary="The receiver refuses (with cause): letter void, hold lifted, member stays at the sender",
)
async def refuse(case_id: UUID, body: ReasonIn, user: CurrentUser, transfers: Transfers) -> CaseOut:
    return await _step(
        transfers, user, case_id, "receiver", transfers.refuse, committee_only=True, reason=body.reason
    )


@router.post(
    "/{case_id}/return",
    response_model=CaseOut,
    summary="Sent back for correction (退回): letter void, hold lifted; the sender requests again",
)
async def send_back(case_id: UUID, body: ReasonIn, user: CurrentUser, transfers: Transfers) -> CaseOut:
    return await _step(transfers, user, case_id, "receiver", transfers.send_back, reason=body.reason)


@router.post(
    "/{case_id}/check-in",
    response_model=CaseOut,
    summary="报到: the member reported to the receiving branch; the receiving roll enrols them",
)
async def check_in(case_id: UUID, body: CheckInIn, user: CurrentUser, transfers: Transfers) -> CaseOut:
    return await _step(transfers, user, case_id, "receiver", transfers.check_in, late_reason=body.late_reason)


@router.post(
    "/{case_id}/receipt-return",
    response_model=CaseOut,
    summary="回执: the receiving committee returns the receipt; the case completes once the sender released",
)
async def return_receipt(case_id: UUID, body: ReceiptIn, user: CurrentUser, transfers: Transfers) -> CaseOut:
    return await _step(
        transfers,
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
    return await _step(
        transfers, user, case_id, "sender", transfers.cancel, committee_only=True, reason=body.reason
    )


@router.post(
    "/{case_id}/void",
    response_model=CaseOut,
    summary="Void a lost or wrong letter; reissue under a new number, or end the case",
)
async def void(case_id: UUID, body: VoidIn, user: CurrentUser, transfers: Transfers) -> CaseOut:
    return await _step(
        transfers,
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
        transfers,
        user,
        case_id,
        "sender",
        transfers.record_paper_receipt,
        committee_only=True,
        details=body.model_dump(mode="json"),
    )


async def _letter(transfers: Any, user: Principal, case_id: UUID) -> tuple[TransferCase, dict[str, Any]]:
    case = await run_sync(transfers.get_case, user.tenant, case_id)
    require_reader(user, case)
    if case.letter is None:
        raise NotFound("no letter has been issued for this transfer")
    return case, case.letter


@router.get(
    "/{case_id}/letter.html", response_class=HTMLResponse, summary="The printable letter (zh-CN, with QR)"
)
async def print_html(
    case_id: UUID, user: CurrentUser, transfers: Transfers, runtime: RuntimeDep
) -> HTMLResponse:
    case, letter = await _letter(transfers, user, case_id)
    return HTMLResponse(letter_html(letter, runtime.extras["public_base_url"], case))


@router.get(
    "/{case_id}/letter.pdf",
    summary="The printable letter as PDF",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def print_pdf(case_id: UUID, user: CurrentUser, transfers: Transfers, runtime: RuntimeDep) -> Response:
    case, letter = await _letter(transfers, user, case_id)
    pdf = await run_sync(letter_pdf, letter, runtime.extras["public_base_url"])
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="letter-{case.id}.pdf"'},
    )
