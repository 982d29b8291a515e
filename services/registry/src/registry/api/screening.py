"""排查 over HTTP: a committee opens a campaign over a scope, branches confirm their members (a member may confirm
themself from their phone), reminders go out through notify, and the closing report counts the findings."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, Field

from registry.api.common import Admins, Readers, Registrars, Registry, RuntimeDep, Strict, in_scope
from registry.api.me import Me
from registry.application import RegistryApplication
from registry.application.screening import ScreeningNotFound
from registry.domain.screening import (
    MOBILITY_KINDS,
    OUTCOME_WORDS,
    InvalidScreening,
    ScreeningCampaign,
    ScreeningOutcome,
    ScreeningScope,
    check_graduates_due,
)
from registry.readmodels import queries
from shared.auth import Principal
from shared.meta import event_meta
from shared.threads import run_sync

router = APIRouter(tags=["screening (排查)"])


class CampaignIn(Strict):
    title: str = Field(min_length=1, max_length=200, examples=["2026年度流动党员排查"])
    scope: Literal["mobile", "graduates", "branches"]
    organisation_ids: list[UUID] = Field(
        default=[], max_length=500, description="scope=branches: the branches"
    )
    graduated_on: date | None = Field(
        default=None, description="scope=graduates: opens three months after it"
    )
    due_on: date


class ConfirmationIn(Strict):
    member_id: UUID
    outcome: Literal["confirmed", "dangling", "lost_contact", "pocket", "invisible"] = Field(
        description="confirmed, or a finding: dangling 空挂, lost_contact 失联, pocket 口袋党员, invisible 隐身党员"
    )
    reachable: bool
    whereabouts: str = Field(default="", max_length=200, description="where the member is (city, employer)")
    contact_checked: bool = Field(description="the phone or other contact was tried and works")
    reason: str = Field(default="", max_length=1000, description="required for a finding")


class SelfConfirmationIn(Strict):
    whereabouts: str = Field(min_length=1, max_length=200)
    contact_ok: Literal[True] = Field(description="my phone and contact details on record are right")


class BranchProgress(BaseModel):
    organisation_id: UUID
    in_scope: int
    done: int
    pending: int
    confirmed: int
    dangling: int
    lost_contact: int
    pocket: int
    invisible: int


class MemberLine(BaseModel):
    member_id: UUID
    organisation_id: UUID
    outcome: str | None
    outcome_words: str | None
    reason: str | None = None
    by_member: bool | None = None
    case_opened: bool = False


class CampaignSummary(BaseModel):
    id: UUID
    title: str
    scope: str
    opened_on: date
    due_on: date
    closed_on: date | None


class CampaignOut(CampaignSummary):
    counts: dict[str, int] = Field(
        description="in_scope, pending and each outcome (the closing report when closed)"
    )
    branches: list[BranchProgress]
    members: list[MemberLine]


def campaign_out(campaign: ScreeningCampaign, user: Principal) -> CampaignOut:
    """The committee sees every branch; a branch secretary their own branches' lines and totals."""
    visible = {m: o for m, o in campaign.members.items() if in_scope(user, o)}
    progress = {o: row for o, row in campaign.progress().items() if in_scope(user, o)}
    counts = {"in_scope": 0, "pending": 0, **{o.value: 0 for o in ScreeningOutcome}}
    for row in progress.values():
        for key in counts:
            counts[key] += row["in_scope" if key == "in_scope" else key]
    lines = []
    for member_id, org in sorted(visible.items(), key=lambda kv: (kv[1], kv[0])):
        result = campaign.results.get(member_id)
        outcome = result["outcome"] if result else None
        lines.append(
            MemberLine(
                member_id=UUID(member_id),
                organisation_id=UUID(org),
                outcome=outcome,
                outcome_words=OUTCOME_WORDS[ScreeningOutcome(outcome)] if outcome else None,
                reason=result["reason"] if result else None,
                by_member=result["by_member"] if result else None,
                case_opened=member_id in campaign.cases,
            )
        )
    return CampaignOut(
        id=campaign.id,
        title=campaign.title,
        scope=campaign.scope.value,
        opened_on=campaign.opened_on,
        due_on=campaign.due_on,
        closed_on=campaign.closed_on,
        counts=counts,
        branches=[
            BranchProgress(
                organisation_id=UUID(o),
                **{k: row[k] for k in BranchProgress.model_fields if k != "organisation_id"},
            )
            for o, row in sorted(progress.items())
        ],
        members=lines,
    )


async def _scope(
    runtime: Any, registry: RegistryApplication, user: Principal, body: CampaignIn
) -> dict[str, str]:
    if body.scope == "branches":
        if not body.organisation_ids:
            raise InvalidScreening("name the branches in scope", field="organisation_ids")

        def check() -> None:
            for org in body.organisation_ids:
                registry.get_organisation(user.tenant, org, field="organisation_ids")

        await run_sync(check)
        rows = await queries.members_of_branches(runtime.pool, user.tenant, body.organisation_ids)
    else:
        scope = ScreeningScope(body.scope)
        if scope is ScreeningScope.Graduates:
            check_graduates_due(body.graduated_on, runtime.clock.now().date())
        rows = await queries.mobile_members(runtime.pool, user.tenant, MOBILITY_KINDS[scope])
    members = {str(r["member_id"]): str(r["organisation_id"]) for r in rows}
    if not members:
        raise InvalidScreening("nobody is in this scope", field="scope")
    return members


@router.post(
    "/v1/screenings",
    status_code=201,
    response_model=CampaignOut,
    summary="Open a screening campaign (committee): every mobile member, graduates three months after "
    "graduation, or the members of listed branches",
)
async def open_campaign(
    body: CampaignIn, user: Admins, runtime: RuntimeDep, registry: Registry
) -> CampaignOut:
    members = await _scope(runtime, registry, user, body)
    campaign = await run_sync(
        lambda: registry.open_screening(
            campaign_id=uuid.uuid4(),
            tenant_id=user.tenant,
            title=body.title,
            scope=ScreeningScope(body.scope),
            organisation_ids=[str(o) for o in body.organisation_ids],
            members=members,
            due_on=body.due_on,
            meta=event_meta(user.subject),
        )
    )
    return campaign_out(campaign, user)


@router.get(
    "/v1/screenings", response_model=list[CampaignSummary], summary="The tenant's screening campaigns"
)
async def list_campaigns(user: Readers, runtime: RuntimeDep) -> list[CampaignSummary]:
    rows = await queries.screening_campaigns(runtime.pool, user.tenant)
    return [
        CampaignSummary(
            id=r["id"],
            title=r["title"],
            scope=r["scope"],
            opened_on=r["opened_on"],
            due_on=r["due_on"],
            closed_on=r["closed_on"],
        )
        for r in rows
    ]


@router.get(
    "/v1/screenings/{campaign_id}",
    response_model=CampaignOut,
    summary="Progress per branch and each member's outcome; after closing, the report",
)
async def read_campaign(campaign_id: UUID, user: Readers, registry: Registry) -> CampaignOut:
    campaign = await run_sync(registry.get_screening, user.tenant, campaign_id)
    return campaign_out(campaign, user)


async def _act(
    registry: RegistryApplication, user: Principal, campaign_id: UUID, action: str, **values: Any
) -> CampaignOut:
    campaign = await run_sync(
        lambda: registry.screening_action(
            user.tenant, campaign_id, action, event_meta(user.subject), **values
        )
    )
    return campaign_out(campaign, user)


async def _member_branch(
    registry: RegistryApplication, user: Principal, campaign_id: UUID, member_id: UUID
) -> None:
    campaign = await run_sync(registry.get_screening, user.tenant, campaign_id)
    org = campaign.members.get(str(member_id))
    if org is None or not in_scope(user, org):
        raise InvalidScreening("the member is not in this campaign's scope for you", field="member_id")


@router.post(
    "/v1/screenings/{campaign_id}/confirmations",
    response_model=CampaignOut,
    summary="The branch confirms a member: reachable, where, contact checked; or a finding with its reason",
)
async def confirm(
    campaign_id: UUID, body: ConfirmationIn, user: Registrars, registry: Registry
) -> CampaignOut:
    await _member_branch(registry, user, campaign_id, body.member_id)
    return await _act(
        registry,
        user,
        campaign_id,
        "confirm",
        member_id=str(body.member_id),
        outcome=ScreeningOutcome(body.outcome),
        reachable=body.reachable,
        whereabouts=body.whereabouts,
        contact_checked=body.contact_checked,
        reason=body.reason,
        by=user.subject,
        by_member=False,
    )


@router.post(
    "/v1/screenings/{campaign_id}/reminders",
    response_model=CampaignOut,
    summary="Remind every branch with members still to confirm (through notify)",
)
async def remind(campaign_id: UUID, user: Admins, registry: Registry) -> CampaignOut:
    return await _act(registry, user, campaign_id, "remind")


@router.post(
    "/v1/screenings/{campaign_id}/close",
    response_model=CampaignOut,
    summary="Close the campaign: the report counts by outcome (空挂, 失联, 口袋党员, 隐身党员)",
)
async def close(campaign_id: UUID, user: Admins, registry: Registry) -> CampaignOut:
    return await _act(registry, user, campaign_id, "close")


@router.post(
    "/v1/screenings/{campaign_id}/findings/{member_id}/case",
    response_model=CampaignOut,
    summary="Open a contact case on a finding (the member is flagged at risk; the contact rules follow)",
)
async def open_case(campaign_id: UUID, member_id: UUID, user: Registrars, registry: Registry) -> CampaignOut:
    await _member_branch(registry, user, campaign_id, member_id)
    return await _act(registry, user, campaign_id, "case", member_id=str(member_id))


class MyScreening(BaseModel):
    campaign_id: UUID
    title: str
    due_on: date
    confirmed: bool


@router.get(
    "/v1/me/screenings",
    response_model=list[MyScreening],
    summary="A member's open screening campaigns: what to confirm from the phone",
)
async def my_screenings(principal: Me, runtime: RuntimeDep, registry: Registry) -> list[MyScreening]:
    user, me = principal
    # Like every /v1/me: a made-up member or another tenant's finds nothing (404), not an empty list.
    await run_sync(registry.get_member, user.tenant, me)
    rows = await queries.open_screenings_of(runtime.pool, user.tenant, me)
    return [
        MyScreening(
            campaign_id=r["id"], title=r["title"], due_on=r["due_on"], confirmed=r["outcome"] is not None
        )
        for r in rows
    ]


@router.post(
    "/v1/me/screenings/{campaign_id}/confirmation",
    response_model=MyScreening,
    summary="The member confirms their own whereabouts and contact details",
)
async def confirm_myself(
    campaign_id: UUID, body: SelfConfirmationIn, principal: Me, registry: Registry
) -> MyScreening:
    user, me = principal
    campaign = await run_sync(registry.get_screening, user.tenant, campaign_id)
    if str(me) not in campaign.members:
        raise ScreeningNotFound(f"screening campaign {campaign_id} not found")
    campaign = await run_sync(
        lambda: registry.screening_action(
            user.tenant,
            campaign_id,
            "confirm",
            event_meta(user.subject),
            member_id=str(me),
            outcome=ScreeningOutcome.Confirmed,
            reachable=True,
            whereabouts=body.whereabouts,
            contact_checked=True,
            reason="",
            by=user.subject,
            by_member=True,
        )
    )
    return MyScreening(campaign_id=campaign.id, title=campaign.title, due_on=campaign.due_on, confirmed=True)
