"""Where a transfer may go: another tenant's open organisation tree, read-only, for the sending secretaries'
destination picker. Ids, names, kinds and parents only; members and closed nodes never leave the tenant."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Path
from pydantic import BaseModel

from registry.api.common import Registrars, RuntimeDep
from registry.readmodels.queries import open_tree
from shared.envelope import TENANT_PATTERN

router = APIRouter(prefix="/v1/destinations", tags=["destinations"])


class DestinationNode(BaseModel):
    id: UUID
    name: str
    kind: Literal["primary_committee", "org_department", "street_committee", "general_branch", "branch"]
    parent_id: UUID | None
    receives: bool  # a 党支部: a transfer's receiving organisation


class DestinationTree(BaseModel):
    tenant: str
    items: list[DestinationNode]


@router.get(
    "/{tenant}",
    response_model=DestinationTree,
    summary="Another tenant's open organisation tree, to pick a transfer's receiving branch from",
)
async def destination_tree(
    tenant: Annotated[str, Path(pattern=TENANT_PATTERN)], user: Registrars, runtime: RuntimeDep
) -> DestinationTree:
    rows = await open_tree(runtime.pool, tenant)
    return DestinationTree(
        tenant=tenant,
        items=[
            DestinationNode(
                id=r["id"],
                name=r["name"],
                kind=r["kind"],
                parent_id=r["parent_id"],
                receives=r["kind"] == "branch",
            )
            for r in rows
        ],
    )
