"""Printed forms (PDF, CJK font embedded): activity certificate, mobile-member information form, branch roll and
dues collection record. A branch secretary prints for the branches they hold; ID numbers in full for the committee."""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import Response

from registry.api.common import UNMASKING_ROLES, Readers, Registry, RuntimeDep, in_scope
from registry.application import RegistryApplication
from registry.domain import MemberNotFound, OrganisationNotFound
from registry.domain.dues import DuesAccount
from registry.domain.identity import mask_national_id, mask_phone
from registry.printed import certificate_pdf, dues_record_pdf, information_form_pdf, roll_pdf
from registry.readmodels import queries
from shared.auth import Principal
from shared.threads import run_sync

router = APIRouter(tags=["printed forms"])
PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "A4 PDF, the CJK font embedded"}
}
BEIJING = timezone(timedelta(hours=8))
STATE_WORDS = {
    "outflow_registered": "已流出登记",
    "inflow_registered": "已流入登记",
    "returned": "已返回",
    "converted_to_transfer": "已转为组织关系转接",
}


def _pdf(content: bytes, filename: str) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


def _member_fields(member: Any, user: Principal) -> dict[str, Any]:
    p = dict(member.profile)
    unmasked = user.has_any(*UNMASKING_ROLES)
    p["national_id_number"] = (
        p.get("national_id_number") if unmasked else mask_national_id(p.get("national_id_number"))
    )
    p["phone"] = p.get("phone") if unmasked else mask_phone(p.get("phone"))
    return {**p, "name": member.name, "category": member.category.value}


async def _registration(
    registry: RegistryApplication, runtime: Any, user: Principal, registration_id: UUID
) -> dict[str, Any]:
    row = await queries.home_registration(runtime.pool, user.tenant, registration_id)
    if row is None or not in_scope(user, row["home_org_id"]):
        raise MemberNotFound(f"mobile registration {registration_id} not found")

    def gather() -> dict[str, Any]:
        registration = registry.get_registration(user.tenant, registration_id)
        member = registry.get_member(user.tenant, row["member_id"])
        home = registry.get_organisation(user.tenant, row["home_org_id"]).name
        host = row["host_tenant"] or ""
        if row["host_org_id"] is not None and row["host_tenant"] == user.tenant:
            host = registry.get_organisation(user.tenant, row["host_org_id"]).name
        return {
            "member": _member_fields(member, user),
            "home": home,
            "host": host,
            "registration": {
                **dict(row),
                "reason": registration.reason,
                "expected_months": registration.expected_months,
                "state_words": STATE_WORDS.get(row["state"], row["state"]),
                "printed_on": runtime.clock.now().astimezone(BEIJING).date(),
            },
        }

    return await run_sync(gather)


@router.get(
    "/v1/mobile-registrations/{registration_id}/certificate.pdf",
    response_class=Response,
    responses=PDF,
    summary="流动党员活动证 of a mobile registration, printable",
)
async def certificate(
    registration_id: UUID, user: Readers, runtime: RuntimeDep, registry: Registry
) -> Response:
    data = await _registration(registry, runtime, user, registration_id)
    if not data["registration"]["certificate_number"]:
        raise MemberNotFound(f"mobile registration {registration_id} has no activity certificate")
    pdf = await run_sync(certificate_pdf, data["member"], data["registration"], data["home"], data["host"])
    return _pdf(pdf, f"certificate-{registration_id}.pdf")


@router.get(
    "/v1/mobile-registrations/{registration_id}/information-form.pdf",
    response_class=Response,
    responses=PDF,
    summary="流动党员信息采集表 of a mobile registration, printable",
)
async def information_form(
    registration_id: UUID, user: Readers, runtime: RuntimeDep, registry: Registry
) -> Response:
    data = await _registration(registry, runtime, user, registration_id)
    pdf = await run_sync(
        information_form_pdf, data["member"], data["registration"], data["home"], data["host"]
    )
    return _pdf(pdf, f"information-form-{registration_id}.pdf")


async def _branch_members(
    registry: RegistryApplication, runtime: Any, user: Principal, organisation_id: UUID
) -> tuple[str, list[Any]]:
    if not in_scope(user, organisation_id):
        raise OrganisationNotFound(f"organisation {organisation_id} not found")
    ids = await queries.roll_ids(runtime.pool, user.tenant, organisation_id)

    def gather() -> tuple[str, list[Any]]:
        name = registry.get_organisation(user.tenant, organisation_id).name
        return name, [registry.get_member(user.tenant, member_id) for member_id in ids]

    return await run_sync(gather)


@router.get(
    "/v1/organisations/{organisation_id}/roll.pdf",
    response_class=Response,
    responses=PDF,
    summary="党员名册: the branch's members on the roll, phones and ID numbers masked",
)
async def roll(organisation_id: UUID, user: Readers, runtime: RuntimeDep, registry: Registry) -> Response:
    name, members = await _branch_members(registry, runtime, user, organisation_id)
    lines = [
        {
            **dict(m.profile),
            "name": m.name,
            "category": m.category.value,
            "phone": mask_phone(m.profile.get("phone")),
            "remark": "流动党员" if getattr(m, "mobile_registration_id", None) else "",
        }
        for m in members
    ]
    today = runtime.clock.now().astimezone(BEIJING).date()
    return _pdf(await run_sync(roll_pdf, name, today, lines), f"roll-{organisation_id}.pdf")


@router.get(
    "/v1/organisations/{organisation_id}/dues-record.pdf",
    response_class=Response,
    responses=PDF,
    summary="党费收缴 record for a year from the dues ledger: the monthly amount, months paid, the total",
)
async def dues_record(
    organisation_id: UUID,
    user: Readers,
    runtime: RuntimeDep,
    registry: Registry,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> Response:
    name, members = await _branch_members(registry, runtime, user, organisation_id)
    year = year or runtime.clock.now().astimezone(BEIJING).year

    def line(member: Any) -> dict[str, Any]:
        account = registry.find(DuesAccount, DuesAccount.create_id(member.id))
        paid = {int(month[5:]) for month in (account.paid if account else {}) if month.startswith(f"{year}-")}
        amount = account.amount_for(year) if account else None
        return {
            "name": member.name,
            "category": member.category.value,
            "paid_months": paid,
            "monthly_amount": amount,
            "total": amount * len(paid) if amount is not None else None,
        }

    def build() -> bytes:
        return dues_record_pdf(name, year, [line(m) for m in members])

    return _pdf(await run_sync(build), f"dues-{organisation_id}-{year}.pdf")
