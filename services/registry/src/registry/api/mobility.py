"""Mobile members: outflow at the home branch, inflow at the host branch (same tenant or another), return,
conversion to a transfer; activity certificates reviewed yearly or voided."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from registry.api.common import (
    IdempotencyKey,
    Readers,
    Registrars,
    Registry,
    RuntimeDep,
    Strict,
    in_scope,
    scope,
)
from registry.domain import MemberNotFound, MobilityKind
from registry.readmodels import queries
from shared.envelope import TENANT_PATTERN
from shared.fieldcrypt import FieldCipher
from shared.idempotency import idempotent_create
from shared.meta import event_meta
from shared.regions import RegionCode
from shared.sealed import open_column
from shared.threads import run_sync

router = APIRouter(tags=["mobile members"])


class OutflowIn(Strict):
    member_id: UUID
    kind: Literal["outflow", "graduate_deferral", "abroad"] = "outflow"
    reason: str = Field(min_length=1, max_length=500, examples=["外出务工"])
    destination: str = Field(min_length=1, max_length=200, examples=["深圳市南山区"])
    host_tenant: str | None = Field(
        default=None,
        pattern=TENANT_PATTERN,
        description="the host organisation's tenant when it is on the platform",
    )
    host_org_id: UUID | None = None
    host_region: RegionCode | None = Field(
        default=None,
        description="流入地行政区划代码 (6 digits, GB/T 2260), for the 流动党员 statistics by region",
        examples=["440305"],
    )
    expected_months: int = Field(ge=1, le=120)
    fixed_place: bool = Field(description="a relatively fixed place and employer")
    contact: str = Field(min_length=1, max_length=100, description="how the home branch reaches the member")


class InflowIn(Strict):
    host_org_id: UUID
    host_contact: str = Field(min_length=1, max_length=100, description="the host branch's contact person")


class CertificateReviewIn(Strict):
    remarks: str = Field(default="", max_length=500)


class RegistrationOut(BaseModel):
    id: UUID
    member_id: UUID
    kind: str
    state: str
    destination: str
    host_tenant: str | None
    host_org_id: UUID | None
    host_region: str | None = None
    left_on: date
    until: date | None
    transfer_suggested: bool = Field(
        description="6 months or more at a fixed place: a formal transfer is due"
    )
    certificate_id: UUID | None = None
    certificate_number: str | None
    certificate_state: str | None
    certificate_review_due: date | None
    name: str | None = None
    category: str | None = None
    contact: str | None = None
    home_org_id: UUID | None = None


class RegistrationPage(BaseModel):
    items: list[RegistrationOut]


@router.post(
    "/v1/mobile-registrations",
    status_code=201,
    response_model=RegistrationOut,
    summary="Register an outflow (issues the activity certificate), a graduate deferral or a stay abroad",
)
async def register_outflow(
    body: OutflowIn,
    user: Registrars,
    runtime: RuntimeDep,
    registry: Registry,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    member = await run_sync(registry.get_member, user.tenant, body.member_id)
    if not in_scope(user, member.organisation_id):
        raise MemberNotFound(f"member {body.member_id} not found")

    async def create(registration_id: UUID) -> dict[str, Any]:
        registration, certificate = await run_sync(
            lambda: registry.register_outflow(
                registration_id=registration_id,
                tenant_id=user.tenant,
                member_id=body.member_id,
                kind=MobilityKind(body.kind),
                reason=body.reason,
                destination=body.destination,
                host_tenant=body.host_tenant,
                host_org_id=body.host_org_id,
                host_region=body.host_region,
                expected_months=body.expected_months,
                fixed_place=body.fixed_place,
                contact=body.contact,
                meta=event_meta(user.subject),
            )
        )
        return RegistrationOut(
            id=registration.id,
            member_id=registration.member_id,
            kind=registration.kind.value,
            state=registration.state.value,
            destination=body.destination,
            host_tenant=registration.host_tenant,
            host_org_id=registration.host_org_id,
            host_region=body.host_region,
            left_on=runtime.clock.now().date(),
            until=registration.until,
            transfer_suggested=registration.kind is MobilityKind.Outflow
            and body.fixed_place
            and body.expected_months >= 6,
            certificate_id=certificate.id if certificate else None,
            certificate_number=certificate.number if certificate else None,
            certificate_state=certificate.state.value if certificate else None,
            certificate_review_due=certificate.review_due_on if certificate else None,
            name=member.name,
            category=member.category.value,
            contact=body.contact,
            home_org_id=member.organisation_id,
        ).model_dump(mode="json")

    return await idempotent_create(
        runtime.pool,
        tenant=user.tenant,
        key=idempotency_key,
        route="POST /v1/mobile-registrations",
        payload=body.model_dump(mode="json"),
        create=create,
    )


@router.get(
    "/v1/mobile-registrations",
    response_model=RegistrationPage,
    summary="Registrations of my members (side=home) or of mobile members coming to me (side=host)",
)
async def list_registrations(
    user: Readers,
    runtime: RuntimeDep,
    side: Annotated[Literal["home", "host"], Query()] = "home",
    state: Literal["outflow_registered", "inflow_registered", "returned", "converted_to_transfer"]
    | None = None,
) -> RegistrationPage:
    rows = await queries.mobile_registrations(runtime.pool, user.tenant, side=side, state=state)
    cipher: FieldCipher = runtime.extras["cipher"]
    items = []
    for r in rows:
        if side == "home" and not in_scope(user, r["home_org_id"]):
            continue
        if side == "host" and r["host_org_id"] is not None and not in_scope(user, r["host_org_id"]):
            continue
        items.append(_out(r, cipher, host_view=side == "host"))
    return RegistrationPage(items=items)


def _out(r: Any, cipher: FieldCipher, *, host_view: bool) -> RegistrationOut:
    shared = RegistrationOut(
        id=r["id"],
        member_id=r["member_id"],
        kind=r["kind"],
        state=r["state"],
        destination=r["destination"],
        host_tenant=r["host_tenant"],
        host_org_id=r["host_org_id"],
        left_on=r["left_on"],
        until=r["until"],
        transfer_suggested=r["transfer_suggested"],
        certificate_id=r["certificate_id"],
        certificate_number=r["certificate_number"],
        certificate_state=r["certificate_state"],
        certificate_review_due=r["certificate_review_due"],
        name=cipher.open(r["name_sealed"], "name"),
        category=r["category"],
        contact=open_column(cipher, r["contact"], "contact"),
    )
    # The host sees what the registration shares (who, which certificate, how to reach them), not the home tree.
    return shared if host_view else shared.model_copy(update={"home_org_id": r["home_org_id"]})


@router.post(
    "/v1/mobile-registrations/{registration_id}/inflow",
    response_model=RegistrationOut,
    summary="The host branch registers the mobile member (inflow) and sees the certificate presented",
)
async def register_inflow(
    registration_id: UUID, body: InflowIn, user: Registrars, runtime: RuntimeDep, registry: Registry
) -> RegistrationOut:
    if not in_scope(user, body.host_org_id):
        raise MemberNotFound(f"mobile registration {registration_id} not found")
    registration = await run_sync(
        lambda: registry.register_inflow(
            host_tenant=user.tenant,
            registration_id=registration_id,
            host_org_id=body.host_org_id,
            host_contact=body.host_contact,
            meta=event_meta(user.subject),
        )
    )
    return await _reread(runtime, user.tenant, registration_id, registration.state.value, host_view=True)


@router.post(
    "/v1/mobile-registrations/{registration_id}/return",
    response_model=RegistrationOut,
    summary="The member is back: registration closed, certificate surrendered",
)
async def return_home(
    registration_id: UUID, user: Registrars, runtime: RuntimeDep, registry: Registry
) -> RegistrationOut:
    registration = await run_sync(
        lambda: registry.end_registration(
            scope(user), registration_id, converted=False, meta=event_meta(user.subject)
        )
    )
    return await _reread(runtime, user.tenant, registration_id, registration.state.value, host_view=False)


@router.post(
    "/v1/mobile-registrations/{registration_id}/convert-to-transfer",
    response_model=RegistrationOut,
    summary="Conditions for a formal transfer are met: registration closed, certificate superseded",
)
async def convert(
    registration_id: UUID, user: Registrars, runtime: RuntimeDep, registry: Registry
) -> RegistrationOut:
    registration = await run_sync(
        lambda: registry.end_registration(
            scope(user), registration_id, converted=True, meta=event_meta(user.subject)
        )
    )
    return await _reread(runtime, user.tenant, registration_id, registration.state.value, host_view=False)


@router.post(
    "/v1/activity-certificates/{certificate_id}/review",
    status_code=204,
    summary="The yearly review (年审) of an activity certificate",
)
async def review_certificate(
    certificate_id: UUID, body: CertificateReviewIn, user: Registrars, registry: Registry
) -> None:
    await run_sync(
        lambda: registry.certificate_action(
            scope(user),
            certificate_id,
            action="review",
            reviewer=user.subject,
            remarks=body.remarks,
            meta=event_meta(user.subject),
        )
    )


@router.post(
    "/v1/activity-certificates/{certificate_id}/void",
    status_code=204,
    summary="Void a lost certificate (or on loss of standing)",
)
async def void_certificate(
    certificate_id: UUID, body: CertificateReviewIn, user: Registrars, registry: Registry
) -> None:
    await run_sync(
        lambda: registry.certificate_action(
            scope(user), certificate_id, action="void", remarks=body.remarks, meta=event_meta(user.subject)
        )
    )


async def _reread(
    runtime: Any, tenant: str, registration_id: UUID, state: str, *, host_view: bool
) -> RegistrationOut:
    """Read-your-writes: the projection follows within milliseconds of the save; wait for it briefly."""
    row = None
    for _ in range(100):
        row = await queries.mobile_registration(runtime.pool, tenant, registration_id)
        if row is not None and row["state"] == state:
            break
        await asyncio.sleep(0.05)
    if row is None:
        raise MemberNotFound(f"mobile registration {registration_id} not found")
    return _out(row, runtime.extras["cipher"], host_view=host_view)
