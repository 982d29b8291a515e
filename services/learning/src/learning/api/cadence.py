"""Cadence: whether each branch has held the meetings its cadence asks for this quarter (yearly items: this year)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from learning.api.common import Learning, Readers, visible_orgs
from learning.domain import quarter_bounds, quarter_of
from learning.readmodels import queries
from shared.errors import Invalid
from shared.runtime import RuntimeDep
from shared.threads import run_sync


class CadenceItemOut(BaseModel):
    meeting_type: str
    per: Literal["quarter", "year"]
    required: int
    held: int
    met: bool


class BranchCadenceOut(BaseModel):
    organisation_id: UUID
    met: bool = Field(description="every item is met")
    items: list[CadenceItemOut]


class CadenceOut(BaseModel):
    quarter: str
    branches: list[BranchCadenceOut]


cadence = APIRouter(prefix="/v1/cadence", tags=["meetings"])


@cadence.get(
    "",
    response_model=CadenceOut,
    summary="Whether each branch has met each meeting cadence this quarter (yearly items: this year)",
)
async def cadence_view(
    user: Readers,
    runtime: RuntimeDep,
    learning: Learning,
    quarter: Annotated[str | None, Query(pattern=r"^\d{4}Q[1-4]$")] = None,
) -> dict[str, Any]:
    options = await run_sync(learning.options, user.tenant)
    now = learning.now()
    quarter = quarter or quarter_of(options.local_date(now))
    try:
        q_start, q_end = quarter_bounds(quarter)
    except ValueError as exc:
        raise Invalid(str(exc), field="quarter") from None
    zone = options.zone
    bounds = {
        "quarter": (datetime.combine(q_start, time(), zone), datetime.combine(q_end, time(), zone)),
        "year": (datetime(q_start.year, 1, 1, tzinfo=zone), datetime(q_start.year + 1, 1, 1, tzinfo=zone)),
    }
    orgs = visible_orgs(user)
    facts = await queries.cadence_facts(runtime.pool, user.tenant, orgs, *bounds["year"])
    result = []
    for branch in facts.branches:
        items = []
        for kind, spec in options.cadence.items():
            start, end = bounds[str(spec["per"])]
            count = sum(
                1
                for h in facts.held
                if h.organisation_id == branch and h.meeting_type == kind and start <= h.starts_at < end
            )
            required = int(spec["count"])
            items.append(
                {
                    "meeting_type": kind,
                    "per": spec["per"],
                    "required": required,
                    "held": count,
                    "met": count >= required,
                }
            )
        result.append({"organisation_id": str(branch), "met": all(i["met"] for i in items), "items": items})
    return {"quarter": quarter, "branches": result}
