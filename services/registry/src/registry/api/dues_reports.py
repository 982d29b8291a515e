"""党费 across the roll: the members in arrears, and the branch's yearly collection report (JSON or CSV)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from registry.api.common import Readers, Registry, RuntimeDep, in_scope
from registry.domain import OrganisationNotFound
from registry.domain.dues import (
    SELF_LAPSE_MONTHS,
    longest_unpaid_run_of,
    month_of,
    paid_through_of,
    unpaid_months_of,
)
from registry.readmodels import queries
from shared.fieldcrypt import FieldCipher

router = APIRouter(tags=["dues"])


class ArrearsOut(BaseModel):
    member_id: UUID
    name: str | None
    organisation_id: UUID
    paid_through: str | None
    unpaid_months: int
    longest_unpaid_run: int
    self_lapse_rule_met: bool = Field(description="six consecutive months unpaid: a review for the branch")


class ReportMonth(BaseModel):
    month: str
    members_paid: int
    amount: str


class ReportMember(BaseModel):
    member_id: UUID
    name: str | None
    monthly_amount: str | None
    months_paid: int
    amount: str


class ReportOut(BaseModel):
    organisation_id: UUID
    year: int
    months: list[ReportMonth]
    members: list[ReportMember]
    total: str


@router.get(
    "/v1/dues/arrears",
    response_model=list[ArrearsOut],
    summary="Members on the roll with at least `months` ended months unpaid (3: follow up; 6: review)",
)
async def arrears(
    user: Readers, runtime: RuntimeDep, registry: Registry, months: int = Query(default=3, ge=1, le=120)
) -> list[ArrearsOut]:
    today = registry.today()
    rows = await queries.dues_ledgers(runtime.pool, user.tenant)
    cipher: FieldCipher = runtime.extras["cipher"]
    out = []
    for r in rows:
        if not in_scope(user, r["organisation_id"]):
            continue
        starts, paid = r["starts"] or month_of(r["registered_on"]), set(r["paid"])
        unpaid = unpaid_months_of(starts, paid, today)
        if len(unpaid) < months:
            continue
        longest = longest_unpaid_run_of(starts, paid, today)
        out.append(
            ArrearsOut(
                member_id=r["id"],
                name=cipher.open(r["name_sealed"], "name"),
                organisation_id=r["organisation_id"],
                paid_through=paid_through_of(starts, paid),
                unpaid_months=len(unpaid),
                longest_unpaid_run=longest,
                self_lapse_rule_met=longest >= SELF_LAPSE_MONTHS,
            )
        )
    return out


@router.get(
    "/v1/organisations/{organisation_id}/dues/report",
    response_model=ReportOut,
    responses={200: {"content": {"text/csv": {}}}},
    summary="The branch's yearly dues collection, for publishing to its members (JSON or CSV)",
)
async def report(
    organisation_id: UUID,
    user: Readers,
    runtime: RuntimeDep,
    year: int = Query(ge=2000, le=2100),
    format: Literal["json", "csv"] = "json",
) -> Any:
    if not in_scope(user, organisation_id):
        raise OrganisationNotFound(f"organisation {organisation_id} not found")
    found = await queries.dues_year(runtime.pool, user.tenant, organisation_id, year)
    if found is None:
        raise OrganisationNotFound(f"organisation {organisation_id} not found")
    paid, members = found
    cipher: FieldCipher = runtime.extras["cipher"]
    by_month: dict[str, list[Decimal]] = {f"{year:04d}-{m:02d}": [] for m in range(1, 13)}
    by_member: dict[UUID, list[Decimal]] = {}
    for r in paid:
        by_month[r["month"]].append(r["amount"])
        by_member.setdefault(r["member_id"], []).append(r["amount"])
    out = ReportOut(
        organisation_id=organisation_id,
        year=year,
        months=[
            ReportMonth(month=m, members_paid=len(a), amount=str(sum(a, Decimal(0))))
            for m, a in by_month.items()
        ],
        members=[
            ReportMember(
                member_id=r["id"],
                name=cipher.open(r["name_sealed"], "name"),
                monthly_amount=None if r["monthly_amount"] is None else str(r["monthly_amount"]),
                months_paid=len(by_member.get(r["id"], [])),
                amount=str(sum(by_member.get(r["id"], []), Decimal(0))),
            )
            for r in members
        ],
        total=str(sum((r["amount"] for r in paid), Decimal(0))),
    )
    if format == "json":
        return out
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["月份 month", "缴纳人数 members paid", "金额 amount (yuan)"])
    writer.writerows([m.month, m.members_paid, m.amount] for m in out.months)
    writer.writerow(["合计 total", "", out.total])
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="dues-{year}.csv"'},
    )
