"""GET /v1/statistics/{name}: per tenant (from the token), JSON by default, CSV with `Accept: text/csv`."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from analytics import statistics as stats
from analytics.api.common import CanRead, StoreDep
from shared.auth import Principal
from shared.errors import Invalid, NotFound
from shared.threads import run_sync

router = APIRouter(prefix="/v1/statistics", tags=["statistics"])
BEIJING = timedelta(hours=8)


class StatisticInfo(BaseModel):
    name: str
    description: str
    group_by: list[str] = Field(description="the dimensions `group_by` accepts (comma-separated)")
    default_group_by: list[str]
    notes: list[str]


class StatisticOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    statistic: str
    tenant: str
    from_: date = Field(alias="from", serialization_alias="from")
    to: date = Field(description="inclusive; the reference date for `members`")
    group_by: list[str]
    columns: list[str]
    rows: list[dict[str, Any]]
    suppressed_cells: int = Field(description="cells of other tenants' data with a count of 1-4, blanked")
    notes: list[str]
    details: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)


@router.get("", response_model=list[StatisticInfo], summary="The statistics this service computes")
async def catalogue(_: Principal = CanRead) -> list[StatisticInfo]:
    return [
        StatisticInfo(
            name=s.name,
            description=s.description,
            group_by=list(s.dimensions),
            default_group_by=list(s.default_group_by),
            notes=list(s.notes),
        )
        for s in stats.STATISTICS.values()
    ]


@router.get(
    "/{name}",
    response_model=StatisticOut,
    response_model_by_alias=True,
    summary="One statistic for the caller's tenant",
    responses={
        200: {"content": {"text/csv": {}}},
        404: {"description": "no such statistic"},
        422: {"description": "a bad parameter, named in the problem"},
    },
)
async def statistic(
    name: str,
    request: Request,
    store: StoreDep,
    from_: Annotated[
        date | None,
        Query(alias="from", description="first day (Beijing date); default 1 January of `to`'s year"),
    ] = None,
    to: Annotated[date | None, Query(description="last day, inclusive; default today (Beijing)")] = None,
    group_by: Annotated[
        str | None, Query(description="comma-separated dimensions; see GET /v1/statistics")
    ] = None,
    user: Principal = CanRead,
) -> Any:
    definition = stats.STATISTICS.get(name)
    if definition is None:
        raise NotFound(
            f"no statistic named {name!r}; GET /v1/statistics lists them", known=sorted(stats.STATISTICS)
        )
    try:
        chosen = stats.parse_group_by(definition, group_by)
    except stats.BadParameter as exc:
        raise Invalid(str(exc), errors=[{"field": exc.param, "message": str(exc)}]) from exc
    end = to or (request.app.state.clock.now() + BEIJING).date()
    start = from_ or date(end.year, 1, 1)
    if end < start:
        raise Invalid("`to` is before `from`", errors=[{"field": "to", "message": "before `from`"}])
    query = stats.Query(tenant=user.tenant, start=start, end=end, group_by=chosen)

    def run() -> stats.Result:
        with store.reader() as con:
            return stats.compute(con, name, query)

    result = await run_sync(run)
    if "text/csv" in request.headers.get("accept", ""):
        return Response(
            _csv(result),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}_{start}_{end}.csv"'},
        )
    return StatisticOut.model_validate(
        {
            "statistic": name,
            "tenant": user.tenant,
            "from": start,
            "to": end,
            "group_by": list(chosen),
            "columns": result.columns,
            "rows": result.rows,
            "suppressed_cells": result.suppressed_cells,
            "notes": result.notes,
            "details": result.details,
        }
    )


def _csv(result: stats.Result) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=result.columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(result.rows)
    return out.getvalue()
