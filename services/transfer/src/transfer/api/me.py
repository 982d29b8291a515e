"""A member follows their own transfer (`sub = member:<id>`): every case with its steps, what happens next, by
when, and where the letter is."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, Field

from shared.auth import CurrentUser
from shared.errors import NotFound
from shared.runtime import RuntimeDep
from shared.threads import run_sync
from transfer.api.common import Registry, Transfers
from transfer.api.models import CaseOut, case_out
from transfer.application.registry_client import RegistryClient
from transfer.domain import CaseState, TransferCase
from transfer.domain.saga import STEPS
from transfer.readmodels import queries

router = APIRouter(tags=["members themselves"])
# Members the registry has confirmed exist in a tenant (kept for the process: a member id is never reused).
KNOWN_MEMBERS: set[tuple[str, UUID]] = set()
KNOWN_MEMBERS_MAX = 100_000


async def _require_known(registry: RegistryClient, tenant: str, member_id: UUID) -> None:
    """A member with no case here must still be on the tenant's registry: a made-up id or another tenant's
    member gets 404, as under every /v1/me, rather than an empty list that would confirm nothing."""
    if (tenant, member_id) in KNOWN_MEMBERS:
        return
    try:
        await registry.member(tenant, member_id)
    except NotFound:
        raise NotFound("no member record behind this token: /v1/me is for members themselves") from None
    if len(KNOWN_MEMBERS) >= KNOWN_MEMBERS_MAX:
        KNOWN_MEMBERS.clear()
    KNOWN_MEMBERS.add((tenant, member_id))


class StepOut(BaseModel):
    action: str
    by: str
    done_at: datetime | None = Field(description="when the step was taken; null while it is still ahead")


class MyTransfer(BaseModel):
    case: CaseOut
    steps: list[StepOut]
    expires_on: date | None = Field(description="report (报到) at the receiving organisation by this day")
    letter_html: str | None = Field(description="path of the printable letter on the transfer service")
    verification_code: str | None


class MyTransfers(BaseModel):
    items: list[MyTransfer]


def member_of(user: CurrentUser) -> UUID:
    """Only a member's own token: `member` role and `sub = member:<uuid>`; anyone else finds nothing here."""
    prefix, _, raw = user.subject.partition(":")
    try:
        if prefix != "member" or not user.has_any("member"):
            raise ValueError
        return UUID(raw)
    except ValueError:
        raise NotFound("no member record behind this token: /v1/me is for members themselves") from None


def _steps(events: list[Any]) -> list[StepOut]:
    """A step is done when the case first reaches the state that follows it."""
    reached: dict[CaseState, datetime] = {}
    for e in events:
        state = (
            CaseState.LetterIssued if isinstance(e, TransferCase.LetterIssued) else getattr(e, "state", None)
        )
        if isinstance(state, CaseState) and state not in reached:
            reached[state] = e.timestamp
    return [StepOut(action=step.action, by=step.by, done_at=reached.get(step.to)) for step in STEPS]


@router.get(
    "/v1/me/transfers",
    response_model=MyTransfers,
    summary="My transfers: each step and when it was taken, the next one, the deadline and the letter",
)
async def my_transfers(
    user: CurrentUser, runtime: RuntimeDep, transfers: Transfers, registry: Registry
) -> MyTransfers:
    member_id = member_of(user)
    case_ids = await queries.member_case_ids(runtime.pool, user.tenant, member_id)
    if not case_ids:
        await _require_known(registry, user.tenant, member_id)
    items = []
    for case_id in case_ids:
        case = await run_sync(transfers.get_case, user.tenant, case_id)
        events = await run_sync(transfers.history, case_id)
        letter = case.letter or {}
        items.append(
            MyTransfer(
                case=case_out(case),
                steps=_steps(events),
                expires_on=date.fromisoformat(letter["expires_on"]) if letter.get("expires_on") else None,
                letter_html=f"/v1/transfers/{case.id}/letter.html" if letter else None,
                verification_code=letter.get("code"),
            )
        )
    return MyTransfers(items=items)
