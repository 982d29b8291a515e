"""党员基本情况 counted on request (ADR 0004): `POST /v1/statistics/member-categories` for the committee."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, Field

from registry.api.common import Admins, Registry, RuntimeDep, Strict
from registry.domain.categories import CELLS, LABELS, SUPPRESS_BELOW
from registry.readmodels.queries import roll_at
from shared.meta import event_meta
from shared.threads import run_sync

router = APIRouter(tags=["statistics"])


class CountIn(Strict):
    reference_date: date = Field(
        description="统计截止日期; 31 December for the annual report", examples=["2026-12-31"]
    )


class CellOut(BaseModel):
    category: str
    label: str = Field(description="the report's wording")
    count: int
    published: int | None = Field(description=f"as published: cells of 1 to {SUPPRESS_BELOW - 1} are null")


class CountOut(BaseModel):
    count_id: UUID
    reference_date: date
    cells: list[CellOut]


@router.post(
    "/v1/statistics/member-categories",
    status_code=201,
    response_model=CountOut,
    summary="Count the roll's 党员基本情况 categories at a reference date and publish the counts (no one's data)",
)
async def count_categories(body: CountIn, user: Admins, runtime: RuntimeDep, registry: Registry) -> CountOut:
    member_ids = await roll_at(runtime.pool, user.tenant, body.reference_date)
    counted, exact = await run_sync(
        registry.count_member_categories,
        tenant_id=user.tenant,
        reference_date=body.reference_date,
        member_ids=member_ids,
        meta=event_meta(user.subject),
    )
    return CountOut(
        count_id=counted.id,
        reference_date=body.reference_date,
        cells=[
            CellOut(category=code, label=LABELS[code], count=exact[code], published=counted.counts[code])
            for code, _ in CELLS
        ],
    )
