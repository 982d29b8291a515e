"""Registry HTTP API: routers, request/response models and dependencies; no business logic here."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import anyio.to_thread
from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from shared.auth import CurrentUser, Principal, require_roles
from shared.db import tenant_transaction
from shared.errors import Forbidden
from shared.idempotency import idempotent_create
from shared.meta import event_meta
from shared.runtime import RuntimeDep

from registry.application import RegistryApplication
from registry.domain import MemberCategory, OrgKind

Admins = Annotated[Principal, require_roles("committee", "tenant_admin")]
Registrars = Annotated[Principal, require_roles("branch_secretary", "committee", "tenant_admin")]
Readers = Annotated[Principal, require_roles("branch_secretary", "committee", "tenant_admin", "auditor")]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", description="makes a retried POST safe")]


def registry_app(runtime: RuntimeDep) -> RegistryApplication:
    app = runtime.app
    assert isinstance(app, RegistryApplication)
    return app


Registry = Annotated[RegistryApplication, Depends(registry_app)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OrganisationIn(Strict):
    code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$",
                      description="the tenant's own code for the node, unique in the tenant")
    name: str = Field(min_length=1, max_length=200, examples=["计算机学院学生第一党支部"])
    kind: Literal["primary_committee", "org_department", "street_committee", "general_branch", "branch",
                  "group"]
    parent_id: UUID | None = None


class OrganisationOut(BaseModel):
    id: UUID
    code: str
    name: str
    kind: str
    parent_id: UUID | None
    closed: bool = False


class OrganisationPage(BaseModel):
    items: list[OrganisationOut]
    next_cursor: str | None


class MemberIn(Strict):
    name: str = Field(min_length=1, max_length=100, examples=["张三"])
    organisation_id: UUID
    category: Literal["full", "probationary"]


class MemberOut(BaseModel):
    id: UUID
    name: str
    organisation_id: UUID
    category: str
    status: str
    registered_on: date
    version: int


class HistoryEntry(BaseModel):
    version: int
    type: str
    at: datetime
    by: str | None
    correlation_id: str | None
    changes: dict[str, Any]


organisations = APIRouter(prefix="/v1/organisations", tags=["organisations"])
members = APIRouter(prefix="/v1/members", tags=["members"])


@organisations.post("", status_code=201, response_model=OrganisationOut,
                    summary="Found an organisation (committee, general branch, branch, group) in the caller's tenant")
async def found_organisation(body: OrganisationIn, user: Admins, runtime: RuntimeDep, registry: Registry,
                             idempotency_key: IdempotencyKey = None) -> JSONResponse:
    async def create(_: UUID) -> dict[str, Any]:
        org = await anyio.to_thread.run_sync(lambda: registry.found_organisation(
            tenant_id=user.tenant, code=body.code, name=body.name, kind=OrgKind(body.kind),
            parent_id=body.parent_id, meta=event_meta(user.subject)))
        return OrganisationOut(id=org.id, code=org.code, name=org.name, kind=org.kind.value,
                               parent_id=org.parent_id, closed=org.closed).model_dump(mode="json")

    return await idempotent_create(runtime.pool, tenant=user.tenant, key=idempotency_key,
                                   route="POST /v1/organisations", payload=body.model_dump(mode="json"),
                                   create=create)


@organisations.get("", response_model=OrganisationPage, summary="The caller's tenant's organisation tree")
async def list_organisations(user: CurrentUser, runtime: RuntimeDep,
                             cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
                             limit: Annotated[int, Query(ge=1, le=500)] = 100) -> OrganisationPage:
    async with tenant_transaction(runtime.pool, user.tenant) as conn:
        rows = await conn.fetch(
            "SELECT id, code, name, kind, parent_id, closed FROM organisations "
            "WHERE ($1::text IS NULL OR code > $1) ORDER BY code LIMIT $2", cursor, limit + 1)
    items = [OrganisationOut(**dict(r)) for r in rows[:limit]]
    return OrganisationPage(items=items, next_cursor=items[-1].code if len(rows) > limit else None)


@members.post("", status_code=201, response_model=MemberOut, summary="Register a member in a branch")
async def register_member(body: MemberIn, user: Registrars, runtime: RuntimeDep, registry: Registry,
                          idempotency_key: IdempotencyKey = None) -> JSONResponse:
    if not user.has_any("committee", "tenant_admin") and str(body.organisation_id) not in user.orgs:
        raise Forbidden("a branch secretary registers members only in the branches they hold", field="organisation_id")

    async def create(member_id: UUID) -> dict[str, Any]:
        member = await anyio.to_thread.run_sync(lambda: registry.register_member(
            member_id=member_id, tenant_id=user.tenant, name=body.name, organisation_id=body.organisation_id,
            category=MemberCategory(body.category), meta=event_meta(user.subject)))
        return _member_out(member).model_dump(mode="json")

    return await idempotent_create(runtime.pool, tenant=user.tenant, key=idempotency_key,
                                   route="POST /v1/members", payload=body.model_dump(mode="json"), create=create)


@members.get("/{member_id}", response_model=MemberOut, summary="One member of the caller's tenant")
async def get_member(member_id: UUID, user: Readers, registry: Registry) -> MemberOut:
    member = await anyio.to_thread.run_sync(registry.get_member, user.tenant, member_id)
    return _member_out(member)


@members.get("/{member_id}/history", response_model=list[HistoryEntry],
             summary="The member's stored events, in order, with who did what and when")
async def member_history(member_id: UUID, user: Readers, registry: Registry) -> list[HistoryEntry]:
    events = await anyio.to_thread.run_sync(registry.member_history, user.tenant, member_id)
    return [_history_entry(e) for e in events]


HIDDEN = {"originator_id", "originator_version", "originator_topic", "timestamp", "meta"}


def _history_entry(event: Any) -> HistoryEntry:
    meta = getattr(event, "meta", None) or {}
    changes = {k: (v.value if hasattr(v, "value") else v) for k, v in vars(event).items() if k not in HIDDEN}
    return HistoryEntry(version=event.originator_version, type=type(event).__name__, at=event.timestamp,
                        by=meta.get("actor"), correlation_id=meta.get("correlation_id"), changes=changes)


def _member_out(member: Any) -> MemberOut:
    return MemberOut(id=member.id, name=member.name, organisation_id=member.organisation_id,
                     category=member.category.value, status=member.status.value,
                     registered_on=member.registered_on, version=member.version)
