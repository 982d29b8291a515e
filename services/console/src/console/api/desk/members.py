"""党员: the roll with filters and name search, a member's page with its timeline, 查看完整信息 with a purpose."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from console.api.common import Ctx, Submissions, problem_values, read_form, render
from console.api.desk.base import act_on, desk_ctx, failed, org_list, whole_roll
from console.clients.api import ApiError
from console.session import csrf_ok

router = APIRouter(prefix="/desk", include_in_schema=False)


@router.get("/members/export.csv")
async def export(request: Request) -> Response:
    """The roll as CSV with ID numbers and phones masked (the registry masks; the console only passes it on)."""
    ctx = desk_ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    try:
        body = await ctx.api.text("registry", "/v1/members/export.csv")
    except ApiError as exc:
        return failed(ctx, exc)
    return Response(
        body.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="roll.csv"'},
    )


@router.get("/members")
async def roll(request: Request) -> Response:
    return await roll_page(request)


async def roll_page(request: Request, status: int = 200, **values: Any) -> Response:
    ctx = desk_ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    q = request.query_params
    filters = {k: q.get(k) or None for k in ("organisation_id", "category", "contact")}
    mobile = {"yes": True, "no": False}.get(q.get("mobile", ""))
    search = values.pop("search", "")
    try:
        if search:  # a name is matched over the whole roll (the registry cannot search sealed names)
            roll, orgs = await asyncio.gather(whole_roll(ctx, mobile=mobile, **filters), org_list(ctx))
            page: dict[str, Any] = {"items": [m for m in roll if search in (m.get("name") or "")]}
        else:
            page, orgs = await asyncio.gather(
                ctx.api.get(
                    "registry",
                    "/v1/members",
                    limit=500,
                    mobile=mobile,
                    cursor=q.get("cursor") or None,
                    **filters,
                ),
                org_list(ctx),
            )
    except ApiError as exc:
        return failed(ctx, exc)
    members = page["items"]
    names = {o["id"]: o["name"] for o in orgs}
    return render(
        ctx,
        "desk/members.html",
        status=status,
        members=members,
        orgs=orgs,
        org_names=names,
        filters={**filters, "mobile": q.get("mobile", "")},
        next_query=_next_query(request, page.get("next_cursor")),
        search=search,
        menu="members",
        **values,
    )


@router.post("/members")
async def roll_search(request: Request) -> Response:
    """Search by name with POST: a name is personal data and stays out of the URL and the history."""
    ctx = desk_ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    form = await read_form(ctx)
    if not isinstance(form, dict):
        return form
    return await roll_page(request, search=form.get("search", ""))


@router.get("/members/{member_id}")
async def member_page(request: Request, member_id: str) -> Response:
    return await member_view(request, member_id)


async def member_view(request: Request, member_id: str, status: int = 200, **values: Any) -> Response:
    ctx = desk_ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    unmask = values.pop("unmask_purpose", None)
    try:
        if unmask:
            member = await ctx.api.get(
                "registry", f"/v1/members/{member_id}", unmasked="true", purpose=unmask
            )
        else:
            member = await ctx.api.get("registry", f"/v1/members/{member_id}")
    except ApiError as exc:
        if unmask:
            values.update(problem_values(exc, {"purpose": unmask}, {"unmasked": "purpose"}))
            member = await ctx.api.get("registry", f"/v1/members/{member_id}")
        else:
            return failed(ctx, exc)
    history, orgs, reports = await asyncio.gather(
        ctx.api.get_or([], "registry", f"/v1/members/{member_id}/history"),
        org_list(ctx),
        ctx.api.get_or([], "learning", f"/v1/members/{member_id}/history"),
    )
    org_names = {o["id"]: o["name"] for o in orgs}
    timeline = [
        {"at": e["at"], "type": e["type"], "by": e.get("by") or "", "source": "registry"} for e in history
    ]
    if isinstance(reports, list):
        timeline += [
            {
                "at": e.get("at") or e.get("occurred_at"),
                "type": e.get("type") or e.get("kind", ""),
                "by": "",
                "source": "learning",
            }
            for e in reports
            if isinstance(e, dict)
        ]
    timeline = [e for e in timeline if e["at"]]
    timeline.sort(key=lambda e: e["at"], reverse=True)
    return render(
        ctx,
        "desk/member.html",
        status=status,
        member=member,
        timeline=timeline,
        org_name=org_names.get(member["organisation_id"], ""),
        unmasked=bool(unmask) and not values.get("problem"),
        decisions=DECISIONS,
        manager=bool({"committee", "tenant_admin"} & set(ctx.session.roles)),
        menu="members",
        **values,
    )


@router.post("/members/{member_id}/unmask")
async def unmask(request: Request, member_id: str) -> Response:
    """Full details only with a purpose; shown on this response only, never stored in the page's URL."""
    ctx = desk_ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    form = await read_form(ctx)
    if not isinstance(form, dict):
        return form
    if not form.get("purpose"):
        return await member_view(
            request, member_id, status=422, errors={"purpose": ctx.t("required")}, form=form
        )
    return await member_view(request, member_id, unmask_purpose=form["purpose"])


def _next_query(request: Request, cursor: str | None) -> str | None:
    """The next page of the roll: the same filters with the registry's cursor (an id, never a name)."""
    if not cursor:
        return None
    params = {k: v for k, v in request.query_params.items() if k != "cursor" and v}
    return urlencode({**params, "cursor": cursor})


DECISIONS = (
    "regularisation",
    "probation_extension",
    "probation_cancellation",
    "suspension",
    "reinstatement",
    "striking_off",
)


@router.post("/members/{member_id}/decisions")
async def decision(request: Request, member_id: str) -> Response:
    """A decision the branch or committee took (the software records it, never takes it): what, when, by whom,
    on what basis; an extension of the probation also says by how many months."""

    async def run(ctx: Ctx, form: dict[str, str], key: str) -> None:
        body: dict[str, Any] = {
            "kind": form.get("kind", ""),
            "decided_on": form.get("decided_on") or None,
            "decided_by": form.get("decided_by", ""),
            "basis": form.get("basis", ""),
        }
        if form.get("months"):
            body["details"] = {"months": int(form["months"]) if form["months"].isdigit() else form["months"]}
        await ctx.api.post("registry", f"/v1/members/{member_id}/decisions", body, key=key)

    return await act_on(request, member_view, member_id, "decision", run, f"/desk/members/{member_id}")


@router.post("/members/import")
async def import_roll(request: Request) -> Response:
    """A CSV file checked (or imported) by the registry row by row; the report is shown on the roll. One run per
    Idempotency-Key: a second click shows the first run's report instead of importing twice."""
    ctx = desk_ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    raw = await request.form()
    if not csrf_ok(ctx.session, str(raw.get("csrf", ""))):
        return render(ctx, "error.html", status=403, message_key="csrf_failed", status_code=403)
    upload, dry_run = raw.get("file"), raw.get("dry_run") == "on"
    content = await upload.read() if isinstance(upload, UploadFile) else b""
    if not content:
        return await roll_page(request, status=422, errors={"file": ctx.t("required")}, which="import")
    key = str(raw.get("idem") or uuid.uuid4().hex)
    submissions: Submissions = request.app.state.submissions

    async def run() -> str:
        report = await ctx.api.upload(
            "registry", "/v1/members/import", content, "text/csv", dry_run=str(dry_run).lower()
        )
        return json.dumps(report)

    try:
        report = json.loads(await submissions.once(key, run))
    except ApiError as exc:
        values = problem_values(exc, {}, {"body": "file", "content-type": "file"})
        return await roll_page(
            request, status=exc.status if exc.status < 500 else 502, which="import", **values
        )
    return await roll_page(request, report=report)
