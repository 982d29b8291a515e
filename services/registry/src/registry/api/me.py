"""A member acting for themself (`sub = member:<id>`): my record and history, declaring that I leave, reporting
where I am, my return; and the home branch's answer to a declaration (confirm or question)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from registry.api.common import IdempotencyKey, Readers, Registrars, Registry, RuntimeDep, Strict, in_scope
from registry.api.mobility import RegistrationOut, _out, _reread
from registry.api.models import HistoryEntry, MemberOut, history_entry, member_out
from registry.application import RegistryApplication
from registry.domain import MemberNotFound, MobilityDeclaration, RegistrationStateError
from registry.readmodels import queries
from shared.auth import CurrentUser, Principal
from shared.errors import Invalid
from shared.fieldcrypt import FieldCipher
from shared.idempotency import idempotent_create
from shared.meta import event_meta
from shared.scope import Scope
from shared.threads import run_sync

router = APIRouter(tags=["members themselves"])


async def _me(user: CurrentUser) -> tuple[Principal, UUID]:
    """Only a member's own token: `member` role and `sub = member:<uuid>`; anyone else finds nothing here."""
    prefix, _, raw = user.subject.partition(":")
    try:
        if prefix != "member" or not user.has_any("member"):
            raise ValueError
        return user, UUID(raw)
    except ValueError:
        raise MemberNotFound("no member record behind this token: /v1/me is for members themselves") from None


Me = Annotated[tuple[Principal, UUID], Depends(_me)]


class DeclarationIn(Strict):
    reason: str = Field(min_length=1, max_length=500, examples=["外出务工"])
    destination: str = Field(min_length=1, max_length=200, examples=["深圳市南山区"])
    expected_months: int = Field(ge=1, le=120)
    fixed_place: bool = Field(default=False, description="a relatively fixed place and employer")
    contact: str = Field(min_length=1, max_length=100, description="how the branch reaches me while away")


class WhereaboutsIn(Strict):
    place: str | None = Field(default=None, min_length=1, max_length=200, description="where I am now")
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9-]{5,20}$", description="my new phone")


class QuestionIn(Strict):
    question: str = Field(min_length=1, max_length=500, description="what the branch asks the member")


class DeclarationOut(BaseModel):
    id: UUID
    member_id: UUID
    home_org_id: UUID
    state: Literal["declared", "confirmed", "questioned"]
    reason: str
    destination: str
    expected_months: int
    fixed_place: bool
    contact: str
    question: str | None
    registration_id: UUID | None
    declared_at: datetime
    name: str | None = None


class MyRecord(BaseModel):
    member: MemberOut
    organisation_name: str | None
    contact_state: str | None
    last_contact_at: datetime | None
    registration: RegistrationOut | None = Field(description="my open mobile registration, if any")
    declarations: list[DeclarationOut]


class ContactAck(BaseModel):
    member_id: UUID
    state: str
    last_contact_at: datetime


async def _declarations(runtime: Any, tenant: str, **where: Any) -> list[DeclarationOut]:
    cipher: FieldCipher = runtime.extras["cipher"]
    rows = await queries.mobility_declarations(runtime.pool, tenant, **where)
    return [
        DeclarationOut(
            id=r["id"],
            member_id=r["member_id"],
            home_org_id=r["home_org_id"],
            state=r["state"],
            reason=r["reason"],
            destination=r["destination"],
            expected_months=r["expected_months"],
            fixed_place=r["fixed_place"],
            contact=r["contact"],
            question=r["question"],
            registration_id=r["registration_id"],
            declared_at=r["declared_at"],
            name=cipher.open(r["name_sealed"], "name") if r["name_sealed"] else None,
        )
        for r in rows
    ]


async def _open_registration(runtime: Any, tenant: str, member_id: UUID) -> RegistrationOut | None:
    row = await queries.open_registration_of(runtime.pool, tenant, member_id)
    return _out(row, runtime.extras["cipher"], host_view=False) if row else None


@router.get(
    "/v1/me", response_model=MyRecord, summary="My record (masked), my branch, contact state, mobility"
)
async def my_record(me: Me, runtime: RuntimeDep, registry: Registry) -> MyRecord:
    user, member_id = me
    member = await run_sync(registry.get_member, user.tenant, member_id)
    # The three reads are independent: side by side on the pool, the page waits for the slowest, not the sum.
    (org, contact), registration, declarations = await asyncio.gather(
        queries.branch_and_contact(runtime.pool, user.tenant, member.organisation_id, member_id),
        _open_registration(runtime, user.tenant, member_id),
        _declarations(runtime, user.tenant, member_id=member_id),
    )
    return MyRecord(
        member=member_out(member),
        organisation_name=org["name"] if org else None,
        contact_state=contact["state"] if contact else None,
        last_contact_at=contact["last_contact_at"] if contact else None,
        registration=registration,
        declarations=declarations,
    )


@router.get(
    "/v1/me/history", response_model=list[HistoryEntry], summary="What happened to my record, in order"
)
async def my_history(me: Me, registry: Registry) -> list[HistoryEntry]:
    user, member_id = me
    await run_sync(registry.get_member, user.tenant, member_id)
    events = await run_sync(registry.member_history, user.tenant, member_id)
    return [history_entry(e, unmasked=False) for e in events]


@router.post(
    "/v1/me/mobility",
    status_code=201,
    response_model=DeclarationOut,
    summary="Declare that I am leaving: my branch confirms (an outflow registration) or questions it",
)
async def declare_leaving(
    body: DeclarationIn,
    me: Me,
    runtime: RuntimeDep,
    registry: Registry,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    user, member_id = me

    async def create(declaration_id: UUID) -> dict[str, Any]:
        declaration = await run_sync(
            lambda: registry.declare_leaving(
                declaration_id=declaration_id,
                tenant_id=user.tenant,
                member_id=member_id,
                reason=body.reason,
                destination=body.destination,
                expected_months=body.expected_months,
                fixed_place=body.fixed_place,
                contact=body.contact,
                meta=event_meta(user.subject),
            )
        )
        return DeclarationOut(
            id=declaration.id,
            member_id=member_id,
            home_org_id=declaration.home_org_id,
            state="declared",
            reason=body.reason,
            destination=body.destination,
            expected_months=body.expected_months,
            fixed_place=body.fixed_place,
            contact=body.contact,
            question=None,
            registration_id=None,
            declared_at=runtime.clock.now(),
        ).model_dump(mode="json")

    return await idempotent_create(
        runtime.pool,
        tenant=user.tenant,
        key=idempotency_key,
        route=f"POST /v1/me/mobility {member_id}",
        payload=body.model_dump(mode="json"),
        create=create,
    )


@router.post(
    "/v1/me/whereabouts",
    response_model=ContactAck,
    summary="Report where I am now or a new phone: contact made by the member restarts the at-risk timer",
)
async def report_whereabouts(
    body: WhereaboutsIn, me: Me, runtime: RuntimeDep, registry: Registry
) -> ContactAck:
    user, member_id = me
    if body.place is None and body.phone is None:
        raise Invalid("say where you are, or give your new phone", field="place")
    await run_sync(registry.get_member, user.tenant, member_id)
    if body.phone is not None:
        await run_sync(
            lambda: registry.correct_profile(
                user.tenant, member_id, {"phone": body.phone}, event_meta(user.subject)
            )
        )
    status = await run_sync(
        lambda: registry.record_contact(
            member_id,
            kind="report_to_home",
            at=runtime.clock.now(),
            source=user.subject,
            tenant_id=user.tenant,
        )
    )
    assert status is not None
    return ContactAck(member_id=member_id, state=status.state.value, last_contact_at=status.last_contact_at)


@router.post(
    "/v1/me/return",
    response_model=RegistrationOut,
    summary="I am back: my open mobile registration ends and the certificate is surrendered",
)
async def report_return(me: Me, runtime: RuntimeDep, registry: Registry) -> RegistrationOut:
    user, member_id = me
    member = await run_sync(registry.get_member, user.tenant, member_id)
    if member.mobile_registration_id is None:
        raise RegistrationStateError("you have no open mobile registration")
    registration_id = member.mobile_registration_id
    await run_sync(
        lambda: registry.end_registration(
            Scope.whole(user.tenant), registration_id, converted=False, meta=event_meta(user.subject)
        )
    )
    return await _reread(runtime, user.tenant, registration_id, "returned", host_view=False)


# The home branch's side of a declaration.

declarations_router = APIRouter(tags=["mobile members"])


@declarations_router.get(
    "/v1/mobility-declarations",
    response_model=list[DeclarationOut],
    summary="Members' declarations that they leave, for their branch to confirm or question",
)
async def list_declarations(
    user: Readers,
    runtime: RuntimeDep,
    state: Annotated[Literal["declared", "confirmed", "questioned"] | None, Query()] = None,
) -> list[DeclarationOut]:
    items = await _declarations(runtime, user.tenant, state=state)
    return [d for d in items if in_scope(user, d.home_org_id)]


async def _answered(runtime: Any, tenant: str, declaration_id: UUID, state: str) -> DeclarationOut:
    """Read-your-writes: wait briefly for the projection."""
    for _ in range(100):
        rows = await _declarations(runtime, tenant, declaration_id=declaration_id)
        if rows and rows[0].state == state:
            return rows[0]
        await asyncio.sleep(0.05)
    raise MemberNotFound(f"mobility declaration {declaration_id} not found")


async def _scoped_declaration(
    registry: RegistryApplication, user: Principal, declaration_id: UUID
) -> MobilityDeclaration:
    declaration = await run_sync(registry.get_declaration, user.tenant, declaration_id)
    if not in_scope(user, declaration.home_org_id):
        raise MemberNotFound(f"mobility declaration {declaration_id} not found")
    return declaration


@declarations_router.post(
    "/v1/mobility-declarations/{declaration_id}/confirmation",
    response_model=DeclarationOut,
    summary="The home branch confirms: the outflow is registered, the activity certificate issued",
)
async def confirm_declaration(
    declaration_id: UUID, user: Registrars, runtime: RuntimeDep, registry: Registry
) -> DeclarationOut:
    await _scoped_declaration(registry, user, declaration_id)
    await run_sync(
        lambda: registry.confirm_declaration(user.tenant, declaration_id, event_meta(user.subject))
    )
    return await _answered(runtime, user.tenant, declaration_id, "confirmed")


@declarations_router.post(
    "/v1/mobility-declarations/{declaration_id}/question",
    response_model=DeclarationOut,
    summary="The home branch questions the declaration; the member sees the question",
)
async def question_declaration(
    declaration_id: UUID, body: QuestionIn, user: Registrars, runtime: RuntimeDep, registry: Registry
) -> DeclarationOut:
    await _scoped_declaration(registry, user, declaration_id)
    await run_sync(
        lambda: registry.question_declaration(
            user.tenant, declaration_id, body.question, event_meta(user.subject)
        )
    )
    return await _answered(runtime, user.tenant, declaration_id, "questioned")
