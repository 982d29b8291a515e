"""The transfers a tenant sends or receives, and the worklists cut from them: 待办, 未办结, 即将办理, 超时."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from shared.auth import CurrentUser, Principal
from shared.runtime import RuntimeDep
from transfer.readmodels import queries
from transfer.readmodels.queries import CaseRow

router = APIRouter(prefix="/v1/transfers", tags=["transfers"])


class CaseSummary(BaseModel):
    id: UUID
    state: str
    side: str = Field(
        description="sender, receiver, or both (a transfer between two branches of the tenant the reader sees both)"
    )
    member_id: UUID
    receiving_org_name: str
    letter_no: str | None
    expires_on: date | None
    receipt_due_on: date | None
    waiting_for: str | None
    updated_at: datetime


Limit = Annotated[
    int,
    Query(
        ge=1,
        le=queries.MAX_PAGE,
        description=f"at most this many cases (≤ {queries.MAX_PAGE}); a full page may have more: ask again with "
        "`before` set to its last case's id",
    ),
]
Before = Annotated[
    UUID | None, Query(description="the last case of the previous page: the cases changed before it")
]


def _summaries(rows: list[CaseRow]) -> list[CaseSummary]:
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
    ]


def _organisations(user: Principal) -> list[str] | None:
    """The organisations whose cases the user sees: the committee, admins and auditors the whole tenant (None); a
    branch secretary their branches (the sending one as the sender, the receiving one as the receiver, both when a
    transfer runs between two branches of the tenant)."""
    return None if user.has_any("committee", "tenant_admin", "auditor") else sorted(user.orgs)


@router.get(
    "",
    response_model=list[CaseSummary],
    summary="Transfers I send or receive, newest change first, a page at a time",
)
async def list_transfers(
    user: CurrentUser,
    runtime: RuntimeDep,
    side: Literal["sender", "receiver"] | None = None,
    state: str | None = None,
    limit: Limit = queries.MAX_PAGE,
    before: Before = None,
) -> list[CaseSummary]:
    rows = await queries.cases(
        runtime.pool,
        user.tenant,
        side=side,
        state=state,
        organisations=_organisations(user),
        before=before,
        limit=limit,
    )
    return _summaries(rows)


@router.get(
    "/-/worklists/{worklist}",
    response_model=list[CaseSummary],
    summary="待办 (todo), 未办结 (pending), 即将办理 (upcoming), 超时 (overdue), both sides, a page at a time",
)
async def worklist(
    worklist: queries.Worklist,
    user: CurrentUser,
    runtime: RuntimeDep,
    days: Annotated[int, Query(ge=1, le=90)] = 7,
    limit: Limit = queries.MAX_PAGE,
    before: Before = None,
) -> list[CaseSummary]:
    rows = await queries.worklist(
        runtime.pool,
        user.tenant,
        worklist,
        today=runtime.clock.now().date(),
        days=days,
        organisations=_organisations(user),
        before=before,
        limit=limit,
    )
    return _summaries(rows)
