"""统计: charts from the analytics service's statistics (committee staff, administrators, auditors): the 三会一课
cadence per branch for a quarter and the transfers requested this year by the step they reached. Analytics is
optional: when it does not answer, or does not answer this person, the page says so and the rest of the desk is
unaffected. The work list's ageing is drawn on the 工作台 from the work lists themselves."""

from __future__ import annotations

import asyncio
import re
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.api.common import Ctx, render, today
from console.api.desk.base import desk_ctx, org_list
from console.charts import bars
from console.clients.api import ApiError

router = APIRouter(prefix="/desk", include_in_schema=False)
QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
CADENCE_TYPES = ("branch_assembly", "branch_committee", "group_meeting", "party_lecture")
FUNNEL = (
    "requested",
    "branch_approved",
    "committee_approved",
    "letter_issued",
    "received",
    "member_checked_in",
    "receipt_returned",
    "completed",
)
ENDINGS = ("refused", "expired", "returned", "cancelled_or_voided", "open")


def quarter_bounds(quarter: str | None, day: date) -> tuple[str, date, date]:
    """`2026Q4` (default: the quarter of `day`) as its first and last day; a future end is cut to `day`."""
    match = QUARTER.match(quarter or "")
    year, number = (int(match[1]), int(match[2])) if match else (day.year, (day.month - 1) // 3 + 1)
    start = date(year, 3 * number - 2, 1)
    end = date(year + 1, 1, 1) if number == 4 else date(year, 3 * number + 1, 1)
    last = date.fromordinal(end.toordinal() - 1)
    return f"{year}Q{number}", start, min(last, max(day, start))


def unavailable(exc: ApiError) -> str:
    """Why a chart is not drawn, as a text key: analytics down, not for this role, or another refusal."""
    if exc.status == 403:
        return "stats_not_for_you"
    if exc.status in (502, 503, 504):
        return "stats_down"
    return "stats_failed"


async def statistic(ctx: Ctx, name: str, **params: Any) -> dict[str, Any] | str:
    try:
        result: dict[str, Any] = await ctx.api.get("analytics", f"/v1/statistics/{name}", **params)
    except ApiError as exc:
        return unavailable(exc)
    return result


@router.get("/statistics")
async def statistics(request: Request) -> Response:
    ctx = desk_ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    day = today(request)
    quarter, start, end = quarter_bounds(request.query_params.get("quarter"), day)
    cadence, transfers, orgs = await asyncio.gather(
        statistic(
            ctx, "cadence", group_by="organisation,quarter", **{"from": start.isoformat()}, to=end.isoformat()
        ),
        statistic(ctx, "transfers", **{"from": date(day.year, 1, 1).isoformat()}, to=day.isoformat()),
        org_list(ctx),
    )
    names = {o["id"]: o["name"] for o in orgs}
    values: dict[str, Any] = {"cadence_note": None, "transfers_note": None, "branches": [], "funnel": []}
    if isinstance(cadence, str):
        values["cadence_note"] = cadence
    else:
        label = f"{start.year}-Q{(start.month - 1) // 3 + 1}"
        branches = [r for r in cadence["rows"] if r.get("quarter") == label]
        branches.sort(key=lambda r: names.get(r["organisation_id"], r["organisation_id"]))
        values["branches"] = branches
        values["cadence_chart"] = bars(
            [(names.get(r["organisation_id"], ""), float(r["meetings_held"])) for r in branches],
            unit=" " + ctx.t("stats_times"),
        )
    if isinstance(transfers, str):
        values["transfers_note"] = transfers
    else:
        row = transfers["rows"][0] if transfers["rows"] else {}
        funnel = [(ctx.t("funnel_" + step), int(row.get(step) or 0)) for step in FUNNEL]
        values["funnel"] = funnel
        values["suppressed"] = bool(row.get("suppressed"))  # a small cell of another tenant's cases, blanked
        values["endings"] = [(ctx.t("funnel_" + key), int(row.get(key) or 0)) for key in ENDINGS]
        values["transfers_chart"] = bars(
            [(text, float(n)) for text, n in funnel], total=float(funnel[0][1] or 1)
        )
    return render(
        ctx,
        "desk/statistics.html",
        quarter=quarter,
        quarters=[f"{day.year}Q{n}" for n in range(1, (day.month - 1) // 3 + 2)],
        names=names,
        cadence_types=CADENCE_TYPES,
        year=day.year,
        menu="stats",
        **values,
    )
