"""预备期 as the registry holds it: admission (支部大会), extension, end, outcome, the 突击发展 flag."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, Field

from registry.api.common import Readers, Registry, in_scope
from registry.domain import MemberCategory, MemberNotFound
from shared.errors import NotFound
from shared.threads import run_sync

router = APIRouter(tags=["probation"])


class ProbationOut(BaseModel):
    member_id: UUID
    admitted_on: date = Field(
        description="the 支部大会 date (入党日期); the registration date until it is recorded"
    )
    extension_months: int
    ends_on: date
    reminder_on: date = Field(description="the branch is reminded a month before the end")
    state: str = Field(description="running, regularised or cancelled")
    rush_admission: bool = Field(
        description="admitted less than 3 months before arriving by transfer (突击发展)"
    )


@router.get(
    "/v1/members/{member_id}/probation",
    response_model=ProbationOut,
    summary="The probation period: decisions are recorded as member decisions (转正, 延长预备期, 取消预备资格)",
)
async def read_probation(member_id: UUID, user: Readers, registry: Registry) -> ProbationOut:
    member = await run_sync(registry.get_member, user.tenant, member_id)
    if not in_scope(user, member.organisation_id):
        raise MemberNotFound(f"member {member_id} not found")
    regularised = member.category is MemberCategory.Full and member.profile.get("regularised_on")
    cancelled = member.profile.get("probation_cancelled_on")
    facts = member.probation("cancelled" if cancelled else "regularised" if regularised else "running")
    if facts is None or (
        member.category is MemberCategory.Full and not member.probation_extended and not regularised
    ):
        raise NotFound("this member is not on probation here")
    return ProbationOut(member_id=member.id, reminder_on=facts.reminder_on, **facts.as_dict())
