"""The transfers a tenant sends or receives, and the worklists cut from them: 待办, 未办结, 即将办理, 超时."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel

from shared.auth import CurrentUser, Principal
from shared.runtime import RuntimeDep
from transfer.readmodels import queries
from transfer.readmodels.queries import CaseRow

router = APIRouter(prefix="/v1/transfers", tags=["transfers"])


class CaseSummary(BaseModel):
    id: UUID
    state: str
    side: str
    member_id: UUID
    receiving_org_name: str
    letter_no: str | None
    expires_on: date | None
    receipt_due_on: date | None
    waiting_for: str | None
    updated_at: datetime


@router.get("", response_model=list[CaseSummary], summary="Transfers I send or receive")
async def list_transfers(
    user: CurrentUser,
    runtime: RuntimeDep,
    side: Literal["sender", "receiver"] | None = None,
    state: str | None = None,
) -> list[CaseSummary]:
    rows = await queries.cases(runtime.pool, user.tenant, side=side, state=state)
    return [
        CaseSummary(
            id=r.id,
            state=r.state,
            side=r.side,
            member_id=r.member_id,
            receiving_org_name=r.receiving_org_name,
            letter_no=r.letter_no,
            expires_on=r.expires_on,
            receipt_due_on=r.receipt_due_on,
            waiting_for=r.waiting_for,
            updated_at=r.updated_at,
        )
        for r in rows
        if _visible(user, r)
    ]


def _visible(user: Principal, row: CaseRow) -> bool:
    if user.has_any("committee", "tenant_admin", "auditor"):
        return True
    org = row.sending_org_id if row.sending_tenant == user.tenant else row.receiving_org_id
    return str(org) in user.orgs


@router.get(
    "/-/worklists/{worklist}",
    response_model=list[CaseSummary],
    summary="待办 (todo), 未办结 (pending), 即将办理 (upcoming), 超时 (overdue), both sides",
)
async def worklist(
    worklist: Literal["todo", "pending", "upcoming", "overdue"],
    user: CurrentUser,
    runtime: RuntimeDep,
    days: Annotated[int, Query(ge=1, le=90)] = 7,
) -> list[CaseSummary]:
    today = runtime.clock.now().date()
    mine = {
        "sender": {
            "todo": ("draft", "branch_approved"),
            "pending": ("committee_approved", "letter_issued", "received", "checked_in", "receipt_returned"),
        },
        "receiver": {"todo": ("letter_issued", "received", "checked_in"), "pending": ("receipt_returned",)},
    }
    rows = await list_transfers(user, runtime)
    result = []
    for r in rows:
        if worklist in ("todo", "pending"):
            if r.state in mine[r.side][worklist]:
                result.append(r)
        else:  # the date that chases the case: the letter's expiry (报到), then the receipt's due date (回执)
            due = (
                r.expires_on
                if r.state == "letter_issued"
                else r.receipt_due_on
                if r.state == "checked_in"
                else None
            )
            remaining = (due - today).days if due is not None else None
            if remaining is not None and (
                (worklist == "upcoming" and 0 <= remaining <= days)
                or (worklist == "overdue" and remaining < 0)
            ):
                result.append(r)
    return result
