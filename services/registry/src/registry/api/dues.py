"""党费: the tenant's rate table and a member's ledger (amount, payments, corrections); the lists across the roll
(arrears, the yearly report) are in `dues_reports`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from registry.api.common import (
    Admins,
    IdempotencyKey,
    MemberReaders,
    Readers,
    Registrars,
    Registry,
    RuntimeDep,
    Strict,
    in_scope,
)
from registry.application import RegistryApplication
from registry.domain import MemberNotFound
from registry.domain.dues import DuesAccount
from shared.auth import Principal, require_scope
from shared.idempotency import idempotent_create
from shared.oauth import SCOPE_LETTER_FACTS
from shared.threads import run_sync

router = APIRouter(tags=["dues"])
MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


class Bracket(Strict):
    up_to: Decimal | None = Field(
        description="monthly after-tax income up to and including; null: no upper bound"
    )
    rate: Decimal = Field(ge=0, le=Decimal("0.05"), description="share of the income, e.g. 0.005 for 0.5%")


class FixedAmounts(Strict):
    student: Decimal
    unemployed: Decimal
    subsistence_allowance: Decimal
    farmer: Decimal


class RatesIn(Strict):
    employed: list[Bracket] | None = None
    retired: list[Bracket] | None = None
    fixed: FixedAmounts | None = None


class RatesOut(BaseModel):
    employed: list[dict[str, Any]]
    retired: list[dict[str, Any]]
    fixed: dict[str, str]


INCOME_KINDS = Literal["employed", "retired", "student", "unemployed", "subsistence_allowance", "farmer"]


class AmountIn(Strict):
    income_kind: INCOME_KINDS
    base_income: Decimal | None = Field(
        default=None,
        ge=0,
        le=Decimal("10000000"),
        description="monthly after-tax income in yuan (employed, retired)",
    )
    correction_reason: str | None = Field(
        default=None, max_length=500, description="required to change an amount already fixed for the year"
    )


class OpeningIn(Strict):
    paid_through: str = Field(
        pattern=MONTH, description="paid before the ledger, through this month (YYYY-MM)"
    )
    basis: str = Field(min_length=1, max_length=500, description="the paper record this comes from")


class PaymentIn(Strict):
    months: list[str] = Field(min_length=1, max_length=24, description="the months paid for (YYYY-MM)")
    amount: Decimal = Field(
        gt=0, le=Decimal("1000000"), description="yuan; must equal the months' fixed amounts"
    )
    by_proxy: bool = Field(default=False, description="paid by someone else for the member (代缴)")
    paid_at: Literal["home", "host"] = Field(
        default="home",
        description="the branch of the formal relation, or the host against an activity certificate",
    )


class CorrectionIn(Strict):
    reason: str = Field(min_length=1, max_length=500)


class PaymentOut(BaseModel):
    payment_id: str
    months: dict[str, str]
    amount: str
    mode: str
    by_proxy: bool
    paid_at: str
    received_on: str
    recorded_by: str
    voided: str | None


class LedgerOut(BaseModel):
    member_id: UUID
    starts: str
    paid_through: str | None = Field(description="党费已交到 (YYYY-MM), computed from the ledger")
    amounts: dict[str, str] = Field(description="monthly amount fixed per year")
    payments: list[PaymentOut]
    unpaid_months: list[str] = Field(description="months that have ended unpaid")
    longest_unpaid_run: int
    carried_from_tenant: str | None = Field(description="the ledger came with a transfer from this tenant")


def ledger_out(account: DuesAccount, today: date) -> LedgerOut:
    amounts = {**account.carried_from.get("amounts", {}), **{str(y): a for y, a in account.amounts.items()}}
    return LedgerOut(
        member_id=account.member_id,
        starts=account.starts,
        paid_through=account.paid_through(),
        amounts=amounts,
        payments=[
            PaymentOut(
                payment_id=pid,
                months=p["months"],
                amount=p["amount"],
                mode=p["mode"],
                by_proxy=p["by_proxy"],
                paid_at=p["paid_at"],
                received_on=p["received_on"],
                recorded_by=p["by"],
                voided=p["voided"],
            )
            for pid, p in account.payments.items()
        ],
        unpaid_months=account.unpaid_months(today),
        longest_unpaid_run=account.longest_unpaid_run(today),
        carried_from_tenant=account.carried_from.get("tenant_id"),
    )


async def _scoped(registry: RegistryApplication, user: Principal, member_id: UUID) -> None:
    member = await run_sync(registry.get_member, user.tenant, member_id)
    if not in_scope(user, member.organisation_id):
        raise MemberNotFound(f"member {member_id} not found")


@router.get(
    "/v1/dues/rates", response_model=RatesOut, summary="The tenant's dues rate table (default: 2008 rules)"
)
async def read_rates(user: Readers, registry: Registry) -> RatesOut:
    rates = await run_sync(registry.dues_rates, user.tenant)
    return RatesOut(**rates.table)


@router.put(
    "/v1/dues/rates",
    response_model=RatesOut,
    summary="Change the rate table; applies to amounts fixed from now on, never to amounts already fixed",
)
async def change_rates(body: RatesIn, user: Admins, registry: Registry) -> RatesOut:
    table = body.model_dump(mode="json", exclude_none=True)
    for kind in ("employed", "retired"):
        for bracket in table.get(kind, []):
            bracket["up_to"] = None if bracket["up_to"] is None else str(bracket["up_to"])
            bracket["rate"] = str(bracket["rate"])
    rates = await run_sync(
        lambda: registry.change_dues_rates(user.tenant, table, by=user.subject, meta={"actor": user.subject})
    )
    return RatesOut(**rates.table)


@router.get(
    "/v1/members/{member_id}/dues",
    response_model=LedgerOut,
    summary="The member's dues ledger: amounts, payments and corrections, paid through, unpaid months",
)
async def read_ledger(member_id: UUID, user: MemberReaders, registry: Registry) -> LedgerOut:
    require_scope(user, SCOPE_LETTER_FACTS)  # transfer prints 党费已交到 in the letter
    await _scoped(registry, user, member_id)
    account = await run_sync(registry.member_dues, user.tenant, member_id)
    return ledger_out(account, registry.today())


@router.put(
    "/v1/members/{member_id}/dues/amounts/{year}",
    response_model=LedgerOut,
    summary="Fix the year's monthly amount from the tenant's rate table (once; a change is a correction)",
)
async def fix_amount(
    member_id: UUID,
    year: Annotated[int, Path(ge=2000, le=2100)],
    body: AmountIn,
    user: Registrars,
    registry: Registry,
) -> LedgerOut:
    await _scoped(registry, user, member_id)
    account = await run_sync(
        lambda: registry.fix_dues_amount(
            user.tenant,
            member_id,
            year=year,
            income_kind=body.income_kind,
            base_income=body.base_income,
            by=user.subject,
            correction_reason=body.correction_reason,
        )
    )
    return ledger_out(account, registry.today())


@router.post(
    "/v1/members/{member_id}/dues/opening",
    response_model=LedgerOut,
    summary="Record what was paid before the ledger (from the branch's paper records); once",
)
async def record_opening(member_id: UUID, body: OpeningIn, user: Registrars, registry: Registry) -> LedgerOut:
    await _scoped(registry, user, member_id)
    account = await run_sync(
        lambda: registry.record_dues_opening(
            user.tenant, member_id, paid_through=body.paid_through, basis=body.basis, by=user.subject
        )
    )
    return ledger_out(account, registry.today())


@router.post(
    "/v1/members/{member_id}/dues/payments",
    status_code=201,
    response_model=LedgerOut,
    summary="Record a payment: one month, a quarter, in advance or in arrears; by proxy; at the host",
)
async def record_payment(
    member_id: UUID,
    body: PaymentIn,
    user: Registrars,
    runtime: RuntimeDep,
    registry: Registry,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    await _scoped(registry, user, member_id)

    async def create(payment_id: UUID) -> dict[str, Any]:
        account = await run_sync(
            lambda: registry.record_dues_payment(
                user.tenant,
                member_id,
                payment_id=payment_id.hex[:16],
                months=body.months,
                amount=body.amount,
                by_proxy=body.by_proxy,
                paid_at=body.paid_at,
                by=user.subject,
            )
        )
        return ledger_out(account, registry.today()).model_dump(mode="json")

    return await idempotent_create(
        runtime.pool,
        tenant=user.tenant,
        key=idempotency_key,
        route=f"POST /v1/members/{member_id}/dues/payments",
        payload=body.model_dump(mode="json"),
        create=create,
    )


@router.post(
    "/v1/members/{member_id}/dues/payments/{payment_id}/correction",
    response_model=LedgerOut,
    summary="Void a wrongly recorded payment (a new event; the original stays in the ledger)",
)
async def correct_payment(
    member_id: UUID, payment_id: str, body: CorrectionIn, user: Registrars, registry: Registry
) -> LedgerOut:
    await _scoped(registry, user, member_id)
    account = await run_sync(
        lambda: registry.correct_dues_payment(
            user.tenant, member_id, payment_id=payment_id, reason=body.reason, by=user.subject
        )
    )
    return ledger_out(account, registry.today())
