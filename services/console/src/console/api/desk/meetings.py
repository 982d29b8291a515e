"""组织生活: schedule a meeting under the tenant's notice rule, the sign-in code for the room's projector, attendance
and excused absences, the speaking order, the minutes; the quarter's cadence per branch (三会一课)."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import segno
from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.api.common import Ctx, form_action, render
from console.api.desk.base import act_on, beijing, branch_members, desk_ctx, failed, names_of, org_list
from console.charts import bars
from console.clients.api import ApiError

router = APIRouter(prefix="/desk", include_in_schema=False)
MEETING_TYPES = (
    "branch_assembly",
    "branch_committee",
    "group_meeting",
    "party_lecture",
    "themed_party_day",
    "org_life_meeting",
    "democratic_appraisal",
    "heart_to_heart_talk",
)
MODES = ("in_person", "online", "hybrid")
BRANCH_KINDS = ("branch", "general_branch")


@router.get("/meetings")
async def meetings(request: Request) -> Response:
    return await meetings_page(request)


async def meetings_page(request: Request, status: int = 200, **values: Any) -> Response:
    ctx = desk_ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    quarter = request.query_params.get("quarter") or None
    items, orgs, cadence, options = await asyncio.gather(
        ctx.api.get_or([], "learning", "/v1/meetings", limit=200),
        org_list(ctx),
        ctx.api.get_or(
            {"quarter": quarter or "", "branches": []}, "learning", "/v1/cadence", quarter=quarter
        ),
        ctx.api.get_or({"notice_days": 3}, "learning", "/v1/options"),
    )
    org_names = {o["id"]: o["name"] for o in orgs}
    # A branch secretary schedules for the branches in their scope only; the registry's tree is already scoped.
    scope = set(ctx.session.orgs) if "branch_secretary" in ctx.session.roles else None
    branches = [o for o in orgs if o.get("kind") in BRANCH_KINDS and (scope is None or o["id"] in scope)]
    return render(
        ctx,
        "desk/meetings.html",
        status=status,
        upcoming=[m for m in items if not m.get("held")],
        held=[m for m in items if m.get("held")],
        org_names=org_names,
        branches=branches,
        cadence=cadence,
        cadence_chart=bars(
            [
                (org_names.get(b["organisation_id"], ""), float(sum(i["met"] for i in b["items"])))
                for b in cadence["branches"]
            ],
            total=float(max((len(b["items"]) for b in cadence["branches"]), default=1)),
            unit=" " + ctx.t("cadence_items_met"),
        ),
        notice_days=options.get("notice_days", 3),
        meeting_types=MEETING_TYPES,
        modes=MODES,
        menu="life",
        **values,
    )


async def _schedule(ctx: Ctx, form: dict[str, str], key: str) -> str:
    body: dict[str, Any] = {
        "organisation_id": form.get("organisation_id") or None,
        "meeting_type": form.get("meeting_type", ""),
        "title": form.get("title", ""),
        "mode": form.get("mode", ""),
        "starts_at": beijing(form.get("starts_at")),
        "ends_at": beijing(form.get("ends_at")),
        "place": form.get("place") or None,
        "agenda": [line.strip() for line in form.get("agenda", "").splitlines() if line.strip()],
        "short_notice_reason": form.get("short_notice_reason") or None,
    }
    meeting = await ctx.api.post("learning", "/v1/meetings", body, key=key)
    return f"/desk/meetings/{meeting['id']}?ok=meeting_scheduled"


@router.post("/meetings")
async def schedule(request: Request) -> Response:
    return await form_action(request, meetings_page, "schedule", _schedule, member=False)


@router.get("/meetings/{meeting_id}")
async def meeting(request: Request, meeting_id: str) -> Response:
    return await meeting_view(request, meeting_id)


async def meeting_view(request: Request, meeting_id: str, status: int = 200, **values: Any) -> Response:
    ctx = desk_ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    try:
        item, attendance = await asyncio.gather(
            ctx.api.get("learning", f"/v1/meetings/{meeting_id}"),
            ctx.api.get("learning", f"/v1/meetings/{meeting_id}/attendance"),
        )
    except ApiError as exc:
        return failed(ctx, exc)
    shown = [a["member_id"] for a in attendance["attendance"]] + list(attendance["absent"])
    shown += list(item.get("speaking_order") or [])
    members, names, orgs = await asyncio.gather(
        branch_members(ctx, item["organisation_id"]), names_of(ctx, shown), org_list(ctx)
    )
    names.update({m["id"]: m.get("name") or "" for m in members})
    rows = [
        {"id": a["member_id"], "status": a["status"], "method": a.get("method") or "", "at": a.get("at")}
        for a in attendance["attendance"]
    ] + [{"id": m, "status": "absent", "method": "", "at": None} for m in attendance["absent"]]
    order = {m: i + 1 for i, m in enumerate(item.get("speaking_order") or [])}
    return render(
        ctx,
        "desk/meeting.html",
        status=status,
        meeting=item,
        rows=rows,
        names=names,
        members=members,
        order=order,
        branch=next((o["name"] for o in orgs if o["id"] == item["organisation_id"]), ""),
        menu="life",
        **values,
    )


@router.post("/meetings/{meeting_id}/excuse")
async def excuse(request: Request, meeting_id: str) -> Response:
    async def run(ctx: Ctx, form: dict[str, str], key: str) -> None:
        body = {"member_id": form.get("member_id") or None, "reason": form.get("excuse_reason", "")}
        await ctx.api.post("learning", f"/v1/meetings/{meeting_id}/excused-absences", body, key=key)

    return await act_on(request, meeting_view, meeting_id, "excuse", run, f"/desk/meetings/{meeting_id}")


@router.post("/meetings/{meeting_id}/speaking-order")
async def speaking_order(request: Request, meeting_id: str) -> Response:
    async def run(ctx: Ctx, form: dict[str, str], key: str) -> None:
        numbered = []
        for name, value in form.items():
            if name.startswith("order_") and value:
                try:
                    numbered.append((int(value), name.removeprefix("order_")))
                except ValueError:
                    raise ApiError(
                        422, "Invalid", ctx.t("speaking_hint"), {"member_ids": ctx.t("speaking_hint")}
                    ) from None
        body = {"member_ids": [m for _, m in sorted(numbered)]}
        await ctx.api.put("learning", f"/v1/meetings/{meeting_id}/speaking-order", body, key=key)

    return await act_on(request, meeting_view, meeting_id, "speaking", run, f"/desk/meetings/{meeting_id}")


@router.post("/meetings/{meeting_id}/minutes")
async def minutes(request: Request, meeting_id: str) -> Response:
    async def run(ctx: Ctx, form: dict[str, str], key: str) -> None:
        body = {"minutes": form.get("minutes", "")}
        await ctx.api.post("learning", f"/v1/meetings/{meeting_id}/minutes", body, key=key)

    return await act_on(request, meeting_view, meeting_id, "minutes", run, f"/desk/meetings/{meeting_id}")


@router.get("/meetings/{meeting_id}/sign-in-code")
async def sign_in_code(request: Request, meeting_id: str) -> Response:
    """The page a secretary puts on the room's projector (it reloads itself each minute): the meeting, its
    attendance code in large type, and a QR code that opens the members' sign-in page with the code filled in. The code only proves presence in the
    room: each member still signs in as themself, and wrong codes are limited per member."""
    ctx = desk_ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    try:
        item = await ctx.api.get("learning", f"/v1/meetings/{meeting_id}")
        code: dict[str, Any] = {"code": None}
        if item["mode"] != "online" and not item["held"]:
            # A new code every few minutes while the page is shown (the previous one still accepted); a meeting
            # announced before codes existed gets one now.
            code = await ctx.api.post("learning", f"/v1/meetings/{meeting_id}/attendance-code/rotation", {})
    except ApiError as exc:
        return failed(ctx, exc)
    address = str(request.base_url).rstrip("/") + "/m/meetings"
    target = f"{address}?code={code['code']}" if code["code"] else address
    svg = io.BytesIO()
    segno.make(target, error="m").save(svg, kind="svg", scale=12, border=2, xmldecl=False, svgns=True)
    return render(
        ctx,
        "desk/sign_in_code.html",
        meeting=item,
        address=address,
        code=code["code"],
        qr=svg.getvalue().decode(),
        menu="life",
    )
