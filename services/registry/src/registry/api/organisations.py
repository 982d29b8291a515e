"""Organisations: the tenant's tree."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from registry.api.common import Admins, IdempotencyKey, Readers, Registry, RuntimeDep, Strict, in_scope
from registry.domain import OrganisationNotFound, OrgKind
from registry.readmodels.queries import organisations_page, role_holders
from shared.auth import CurrentUser, require_scope
from shared.idempotency import idempotent_create
from shared.meta import event_meta
from shared.oauth import SCOPE_LETTER_FACTS
from shared.threads import run_sync

router = APIRouter(prefix="/v1/organisations", tags=["organisations"])


class OrganisationIn(Strict):
    code: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9._-]+$",
        description="the tenant's own code for the node, unique in the tenant",
    )
    name: str = Field(min_length=1, max_length=200, examples=["计算机学院学生第一党支部"])
    kind: Literal[
        "primary_committee", "org_department", "street_committee", "general_branch", "branch", "group"
    ]
    parent_id: UUID | None = None


class OrganisationChange(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    parent_id: UUID | None = Field(default=None, description="move the node under another parent")
    close_reason: str | None = Field(
        default=None, min_length=1, max_length=500, description="close the node; it keeps its history"
    )


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


def _out(org: Any) -> OrganisationOut:
    return OrganisationOut(
        id=org.id,
        code=org.code,
        name=org.name,
        kind=org.kind.value,
        parent_id=org.parent_id,
        closed=org.closed,
    )


@router.post(
    "",
    status_code=201,
    response_model=OrganisationOut,
    summary="Found an organisation (committee, general branch, branch, group) in the caller's tenant",
)
async def found_organisation(
    body: OrganisationIn,
    user: Admins,
    runtime: RuntimeDep,
    registry: Registry,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def create(_: UUID) -> dict[str, Any]:
        org = await run_sync(
            lambda: registry.found_organisation(
                tenant_id=user.tenant,
                code=body.code,
                name=body.name,
                kind=OrgKind(body.kind),
                parent_id=body.parent_id,
                meta=event_meta(user.subject),
            )
        )
        return _out(org).model_dump(mode="json")

    return await idempotent_create(
        runtime.pool,
        tenant=user.tenant,
        key=idempotency_key,
        route="POST /v1/organisations",
        payload=body.model_dump(mode="json"),
        create=create,
    )


@router.patch(
    "/{organisation_id}",
    response_model=OrganisationOut,
    summary="Rename, move or close a node (each is an event; a closed node keeps its history)",
)
async def change_organisation(
    organisation_id: UUID, body: OrganisationChange, user: Admins, registry: Registry
) -> OrganisationOut:
    org = await run_sync(
        lambda: registry.change_organisation(
            user.tenant,
            organisation_id,
            name=body.name,
            parent_id=body.parent_id,
            close_reason=body.close_reason,
            meta=event_meta(user.subject),
        )
    )
    return _out(org)


@router.get("", response_model=OrganisationPage, summary="The caller's tenant's organisation tree")
async def list_organisations(
    user: CurrentUser,
    runtime: RuntimeDep,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> OrganisationPage:
    require_scope(user, SCOPE_LETTER_FACTS)
    rows = await organisations_page(runtime.pool, user.tenant, after_code=cursor, limit=limit + 1)
    items = [OrganisationOut(**dict(r)) for r in rows[:limit]]
    return OrganisationPage(items=items, next_cursor=items[-1].code if len(rows) > limit else None)


class RoleIn(Strict):
    subject: str = Field(min_length=1, max_length=200, description="the user id (the token's sub)")
    role: Literal["branch_secretary", "committee", "auditor", "tenant_admin"]


class RoleOut(BaseModel):
    subject: str
    role: str
    active: bool


@router.post(
    "/{organisation_id}/roles",
    status_code=204,
    summary="Give a user a role on this node (a new secretary sees the node's pending items at once)",
)
async def grant_role(organisation_id: UUID, body: RoleIn, user: Admins, registry: Registry) -> None:
    await run_sync(
        lambda: registry.assign_role(
            user.tenant,
            organisation_id,
            subject=body.subject,
            role=body.role,
            granted=True,
            meta=event_meta(user.subject),
        )
    )


@router.delete(
    "/{organisation_id}/roles/{subject}/{role}",
    status_code=204,
    summary="Take a role away; the user loses access to this node at once, whatever their token says",
)
async def revoke_role(
    organisation_id: UUID, subject: str, role: str, user: Admins, registry: Registry
) -> None:
    await run_sync(
        lambda: registry.assign_role(
            user.tenant,
            organisation_id,
            subject=subject,
            role=role,
            granted=False,
            meta=event_meta(user.subject),
        )
    )


@router.get(
    "/{organisation_id}/roles", response_model=list[RoleOut], summary="Who holds which role on this node"
)
async def list_roles(organisation_id: UUID, user: Readers, runtime: RuntimeDep) -> list[RoleOut]:
    """Who holds a role names people: managers of the node (or of the whole tenant) only."""
    rows = await role_holders(runtime.pool, user.tenant, organisation_id)
    if rows is None or not in_scope(user, organisation_id):
        raise OrganisationNotFound(f"organisation {organisation_id} not found")
    return [RoleOut(**dict(r)) for r in rows]


@router.get("/{organisation_id}", response_model=OrganisationOut, summary="One node of the caller's tenant")
async def get_organisation(organisation_id: UUID, user: CurrentUser, registry: Registry) -> OrganisationOut:
    require_scope(user, SCOPE_LETTER_FACTS)  # transfer prints the node's name in the letter
    org = await run_sync(registry.get_organisation, user.tenant, organisation_id)
    return _out(org)
