"""Contact status: contacts and searches recorded by people, cases listed for people to decide; settings.
The work lists are api/worklists.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, Field

from registry.api.common import Admins, Readers, Registrars, Registry, RuntimeDep, Strict, in_scope
from registry.application import RegistryApplication
from registry.domain import CauseCode, Member, MemberNotFound
from registry.readmodels import queries
from shared.auth import Principal
from shared.fieldcrypt import FieldCipher
from shared.meta import event_meta
from shared.threads import run_sync

router = APIRouter(tags=["contact status"])


class ContactIn(Strict):
    kind: Literal["report_to_home", "phone", "visit", "message", "other"] = Field(
        description="dues are recorded in the dues ledger (POST /v1/members/{id}/dues/payments), not here"
    )
    at: datetime | None = Field(default=None, description="when; defaults to now")


class SearchIn(Strict):
    method: Literal["phone", "wechat", "family", "employer", "school", "visit", "other"]
    succeeded: bool
    note: str = Field(default="", max_length=500)


class CloseIn(Strict):
    reason: str = Field(min_length=1, max_length=500)


class CauseIn(Strict):
    cause: CauseCode = Field(description="the cause code the branch chose (the software only proposes one)")


class LostContactIn(Strict):
    basis: str = Field(min_length=1, max_length=500, description="the meeting or record of the decision")


class WorkIn(Strict):
    title: str = Field(min_length=1, max_length=200, examples=["社区志愿服务"])


class ContactOut(BaseModel):
    member_id: UUID
    state: str
    cause: str | None = Field(description="chosen by a person")
    proposed_cause: str | None = Field(description="what the software proposed when it raised the case")
    lost_contact_proposed: bool
    last_contact_at: datetime
    last_org_life_at: datetime
    dues_lapse_at: datetime | None = Field(
        description="six consecutive unpaid months end here if nothing is paid"
    )
    open_work: dict[str, datetime] = Field(description="assigned work not yet completed, by assignment id")


class CaseOut(BaseModel):
    member_id: UUID
    name: str | None
    organisation_id: UUID
    state: str
    cause: str | None
    proposed_cause: str | None
    lost_contact_proposed: bool
    self_lapse_ground: str | None = Field(description="org_life, dues or assigned_work")
    last_contact_at: datetime
    flagged_at: datetime | None
    failed_search: bool


class SettingsIn(Strict):
    at_risk_days: int | None = Field(default=None, ge=30, le=365)
    lost_contact_days: int | None = Field(default=None, ge=60, le=730)
    self_lapse_days: int | None = Field(default=None, ge=90, le=730)


async def _scoped_member(registry: RegistryApplication, user: Principal, member_id: UUID) -> Member:
    member = await run_sync(registry.get_member, user.tenant, member_id)
    if not in_scope(user, member.organisation_id):
        raise MemberNotFound(f"member {member_id} not found")
    return member


def _status_out(status: Any) -> ContactOut:
    return ContactOut(
        member_id=status.member_id,
        state=status.state.value,
        cause=status.cause.value if status.cause else None,
        proposed_cause=status.proposed_cause.value if status.proposed_cause else None,
        lost_contact_proposed=status.lost_contact_proposed,
        last_contact_at=status.last_contact_at,
        last_org_life_at=status.last_org_life_at,
        dues_lapse_at=status.dues_lapse_at,
        open_work=dict(status.open_work),
    )


@router.get(
    "/v1/members/{member_id}/contact-status",
    response_model=ContactOut,
    summary="The member's contact clocks: last contact, last org life, the dues clock, open assigned work",
)
async def contact_status(member_id: UUID, user: Readers, registry: Registry) -> ContactOut:
    member = await _scoped_member(registry, user, member_id)
    return _status_out(await run_sync(registry.contact_status, member))


@router.post(
    "/v1/members/{member_id}/contacts",
    response_model=ContactOut,
    summary="Record a contact: a report to the home branch, dues paid, a call or a visit",
)
async def record_contact(
    member_id: UUID, body: ContactIn, user: Registrars, runtime: RuntimeDep, registry: Registry
) -> ContactOut:
    await _scoped_member(registry, user, member_id)
    at = body.at or runtime.clock.now()
    status = await run_sync(
        lambda: registry.record_contact(
            member_id, kind=body.kind, at=at, source=f"user:{user.subject}", tenant_id=user.tenant
        )
    )
    return _status_out(status)


@router.post(
    "/v1/members/{member_id}/searches",
    response_model=ContactOut,
    summary="Record a search for an at-risk member (phone, WeChat, family, employer, school)",
)
async def record_search(member_id: UUID, body: SearchIn, user: Registrars, registry: Registry) -> ContactOut:
    await _scoped_member(registry, user, member_id)
    status = await run_sync(
        lambda: registry.record_search(
            user.tenant,
            member_id,
            method=body.method,
            succeeded=body.succeeded,
            note=body.note,
            by=user.subject,
        )
    )
    return _status_out(status)


@router.post(
    "/v1/members/{member_id}/contact-case/close",
    response_model=ContactOut,
    summary="People closed the case (objective causes, member back to normal management)",
)
async def close_case(member_id: UUID, body: CloseIn, user: Registrars, registry: Registry) -> ContactOut:
    await _scoped_member(registry, user, member_id)
    status = await run_sync(
        lambda: registry.close_contact_case(user.tenant, member_id, body.reason, by=user.subject)
    )
    return _status_out(status)


@router.post(
    "/v1/members/{member_id}/contact-case/cause",
    response_model=ContactOut,
    summary="The branch chooses the cause code of an open case (the software proposed one)",
)
async def choose_cause(member_id: UUID, body: CauseIn, user: Registrars, registry: Registry) -> ContactOut:
    await _scoped_member(registry, user, member_id)
    status = await run_sync(
        lambda: registry.choose_cause(user.tenant, member_id, body.cause, by=user.subject)
    )
    return _status_out(status)


@router.post(
    "/v1/members/{member_id}/contact-case/lost-contact",
    response_model=ContactOut,
    summary="The branch classifies an at-risk member as 失联 (180 days and a failed search, recorded)",
)
async def classify_lost_contact(
    member_id: UUID, body: LostContactIn, user: Registrars, registry: Registry
) -> ContactOut:
    await _scoped_member(registry, user, member_id)
    status = await run_sync(
        lambda: registry.classify_lost_contact(user.tenant, member_id, basis=body.basis, by=user.subject)
    )
    return _status_out(status)


@router.post(
    "/v1/members/{member_id}/work",
    response_model=ContactOut,
    status_code=201,
    summary="Record work the branch assigned (党所分配的工作); open for six months, it opens a review",
)
async def assign_work(member_id: UUID, body: WorkIn, user: Registrars, registry: Registry) -> ContactOut:
    await _scoped_member(registry, user, member_id)
    status, _ = await run_sync(
        lambda: registry.assign_work(user.tenant, member_id, title=body.title, by=user.subject)
    )
    return _status_out(status)


@router.post(
    "/v1/members/{member_id}/work/{assignment_id}/completion",
    response_model=ContactOut,
    summary="Record that the member completed assigned work",
)
async def complete_work(
    member_id: UUID, assignment_id: str, user: Registrars, registry: Registry
) -> ContactOut:
    await _scoped_member(registry, user, member_id)
    status = await run_sync(
        lambda: registry.complete_work(user.tenant, member_id, assignment_id, by=user.subject)
    )
    return _status_out(status)


@router.get(
    "/v1/contact-cases",
    response_model=list[CaseOut],
    summary="At-risk members, lost-contact cases and self-lapse reviews in my scope",
)
async def contact_cases(
    user: Readers,
    runtime: RuntimeDep,
    state: Literal["at_risk", "lost_contact", "self_lapse_review"] | None = None,
) -> list[CaseOut]:
    rows = await queries.contact_cases(runtime.pool, user.tenant, state=state)
    cipher: FieldCipher = runtime.extras["cipher"]
    return [
        CaseOut(
            member_id=r["member_id"],
            name=cipher.open(r["name_sealed"], "name"),
            organisation_id=r["organisation_id"],
            state=r["state"],
            cause=r["cause"],
            proposed_cause=r["proposed_cause"],
            lost_contact_proposed=r["lost_contact_proposed"],
            self_lapse_ground=r["self_lapse_ground"],
            last_contact_at=r["last_contact_at"],
            flagged_at=r["flagged_at"],
            failed_search=r["failed_search"],
        )
        for r in rows
        if in_scope(user, r["organisation_id"])
    ]


@router.get("/v1/settings", summary="The tenant's thresholds (defaults from the domain handbook)")
async def read_settings(user: Readers, registry: Registry) -> dict[str, int]:
    settings = await run_sync(registry.settings_for, user.tenant)
    return dict(settings.values)


@router.put("/v1/settings", summary="Change the tenant's thresholds (an event, with who changed it)")
async def change_settings(body: SettingsIn, user: Admins, registry: Registry) -> dict[str, int]:
    settings = await run_sync(
        lambda: registry.change_settings(
            user.tenant, body.model_dump(exclude_none=True), event_meta(user.subject)
        )
    )
    return dict(settings.values)
