"""The secretary's pages (desk first, 1280 px): work lists, the roll and a member's story, mobile members and
declarations to confirm, transfers end to end, contact cases, meetings, study, notifications, organisations."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from console.api.common import Ctx, context, form_action, problem_values, read_form, render
from console.clients.api import ApiError

router = APIRouter(prefix="/desk", include_in_schema=False)
WORKLISTS = ("todo", "pending", "upcoming", "overdue")


def _ctx(request: Request) -> Ctx | Response:
    return context(request, member=False)


def _failed(ctx: Ctx, exc: ApiError) -> Response:
    status = exc.status if exc.status < 500 else 502
    return render(
        ctx,
        "error.html",
        status=status,
        message_key="error_try" if status >= 500 else "error_page",
        status_code=status,
    )


async def _names(ctx: Ctx) -> dict[str, str]:
    """Member id → name over the secretary's roll (names are shown, never put in a URL)."""
    page = await ctx.api.get_or({"items": []}, "registry", "/v1/members", limit=500)
    return {m["id"]: m.get("name") or "" for m in page["items"]}


async def _orgs(ctx: Ctx) -> list[dict[str, Any]]:
    page = await ctx.api.get_or({"items": []}, "registry", "/v1/organisations", limit=500)
    return list(page["items"])


# 工作台


@router.get("")
async def work(request: Request) -> Response:
    ctx = _ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    calls = [ctx.api.get_or([], "registry", f"/v1/worklists/{w}") for w in WORKLISTS]
    calls += [ctx.api.get_or([], "transfer", f"/v1/transfers/-/worklists/{w}") for w in WORKLISTS]
    results = await asyncio.gather(
        *calls, ctx.api.get_or([], "registry", "/v1/mobility-declarations", state="declared"), _names(ctx)
    )
    names: dict[str, str] = results[-1]
    declarations: list[dict[str, Any]] = results[-2]
    lists: dict[str, list[dict[str, Any]]] = {w: [] for w in WORKLISTS}
    for i, w in enumerate(WORKLISTS):
        for item in results[i]:
            href = {
                "inflow_to_register": "/desk/mobile",
                "outflow_awaiting_host": "/desk/mobile",
                "certificate_review": "/desk/mobile",
                "deferral_ends": "/desk/mobile",
            }.get(item["kind"], f"/desk/members/{item['subject_id']}")
            lists[w].append(
                {
                    "what": item["title"],
                    "whom": names.get(item["subject_id"], ""),
                    "since": item.get("due"),
                    "href": href,
                    "source": ctx.t("menu_members"),
                }
            )
        for case in results[len(WORKLISTS) + i]:
            due = case.get("expires_on") if case["state"] == "letter_issued" else case.get("receipt_due_on")
            lists[w].append(
                {
                    "what": f"{ctx.t('transfer')}：{ctx.t('state_' + case['state'])}",
                    "whom": names.get(case["member_id"], case.get("receiving_org_name", "")),
                    "since": due or case["updated_at"],
                    "href": f"/desk/transfers/{case['id']}",
                    "source": ctx.t("menu_transfers"),
                }
            )
    for d in declarations:
        lists["todo"].insert(
            0,
            {
                "what": ctx.t("declarations"),
                "whom": d.get("name") or "",
                "since": d["declared_at"],
                "href": "/desk/mobile",
                "source": ctx.t("menu_mobile"),
            },
        )
    active = request.query_params.get("list", "todo")
    active = active if active in WORKLISTS else "todo"
    return render(ctx, "desk/work.html", lists=lists, active=active, menu="work")


# 党员


@router.get("/members")
async def roll(request: Request) -> Response:
    return await roll_page(request)


async def roll_page(request: Request, status: int = 200, **values: Any) -> Response:
    ctx = _ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    q = request.query_params
    filters = {k: q.get(k) or None for k in ("organisation_id", "category", "contact")}
    mobile = {"yes": True, "no": False}.get(q.get("mobile", ""))
    try:
        page, orgs = await asyncio.gather(
            ctx.api.get("registry", "/v1/members", limit=500, mobile=mobile, **filters), _orgs(ctx)
        )
    except ApiError as exc:
        return _failed(ctx, exc)
    search = values.pop("search", "")
    members = [m for m in page["items"] if not search or search in (m.get("name") or "")]
    names = {o["id"]: o["name"] for o in orgs}
    return render(
        ctx,
        "desk/members.html",
        status=status,
        members=members,
        orgs=orgs,
        org_names=names,
        filters={**filters, "mobile": q.get("mobile", "")},
        search=search,
        menu="members",
        **values,
    )


@router.post("/members")
async def roll_search(request: Request) -> Response:
    """Search by name with POST: a name is personal data and stays out of the URL and the history."""
    ctx = _ctx(request)
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
    ctx = _ctx(request)
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
            return _failed(ctx, exc)
    history, orgs, reports = await asyncio.gather(
        ctx.api.get_or([], "registry", f"/v1/members/{member_id}/history"),
        _orgs(ctx),
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
        menu="members",
        **values,
    )


@router.post("/members/{member_id}/unmask")
async def unmask(request: Request, member_id: str) -> Response:
    """Full details only with a purpose; shown on this response only, never stored in the page's URL."""
    ctx = _ctx(request)
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


# 流动党员


@router.get("/mobile")
async def mobile(request: Request) -> Response:
    return await mobile_page(request)


async def mobile_page(request: Request, status: int = 200, **values: Any) -> Response:
    ctx = _ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    declarations, outflows, inflows = await asyncio.gather(
        ctx.api.get_or([], "registry", "/v1/mobility-declarations", state="declared"),
        ctx.api.get_or({"items": []}, "registry", "/v1/mobile-registrations", side="home"),
        ctx.api.get_or({"items": []}, "registry", "/v1/mobile-registrations", side="host"),
    )
    return render(
        ctx,
        "desk/mobile.html",
        status=status,
        declarations=declarations,
        outflows=outflows["items"],
        inflows=inflows["items"],
        menu="mobile",
        **values,
    )


async def _confirm(ctx: Ctx, form: dict[str, str], key: str) -> str:
    await ctx.api.post(
        "registry", f"/v1/mobility-declarations/{form.get('declaration_id', '')}/confirmation", key=key
    )
    return "/desk/mobile?ok=done"


async def _question(ctx: Ctx, form: dict[str, str], key: str) -> str:
    await ctx.api.post(
        "registry",
        f"/v1/mobility-declarations/{form.get('declaration_id', '')}/question",
        {"question": form.get("question", "")},
        key=key,
    )
    return "/desk/mobile?ok=done"


@router.post("/mobile/confirm")
async def confirm(request: Request) -> Response:
    return await form_action(request, mobile_page, "confirm", _confirm, member=False)


@router.post("/mobile/question")
async def question(request: Request) -> Response:
    return await form_action(request, mobile_page, "question", _question, member=False)


# 组织关系转接


@router.get("/transfers")
async def transfers(request: Request) -> Response:
    return await transfers_page(request)


async def transfers_page(request: Request, status: int = 200, **values: Any) -> Response:
    ctx = _ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    cases, names, roll_page = await asyncio.gather(
        ctx.api.get_or([], "transfer", "/v1/transfers"),
        _names(ctx),
        ctx.api.get_or({"items": []}, "registry", "/v1/members", limit=500),
    )
    return render(
        ctx,
        "desk/transfers.html",
        status=status,
        cases=cases,
        names=names,
        members=[m for m in roll_page["items"] if not m.get("transfer_pending")],
        menu="transfers",
        **values,
    )


async def _request_transfer(ctx: Ctx, form: dict[str, str], key: str) -> str:
    body: dict[str, Any] = {
        "member_id": form.get("member_id") or None,
        "destination": form.get("destination", ""),
        "reason": form.get("reason", ""),
        "graduate": form.get("graduate") == "on",
    }
    for name in ("receiving_tenant", "receiving_org_id", "receiving_org_name"):
        if form.get(name):
            body[name] = form[name]
    case = await ctx.api.post("transfer", "/v1/transfers", body, key=key)
    return f"/desk/transfers/{case['id']}"


@router.post("/transfers")
async def request_transfer(request: Request) -> Response:
    return await form_action(request, transfers_page, "new", _request_transfer, member=False)


@router.get("/transfers/{case_id}")
async def case_page(request: Request, case_id: str) -> Response:
    return await case_view(request, case_id)


async def case_view(request: Request, case_id: str, status: int = 200, **values: Any) -> Response:
    ctx = _ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    try:
        case, history = await asyncio.gather(
            ctx.api.get("transfer", f"/v1/transfers/{case_id}"),
            ctx.api.get_or([], "transfer", f"/v1/transfers/{case_id}/history"),
        )
    except ApiError as exc:
        return _failed(ctx, exc)
    side = "sender" if case["sending_tenant"] == ctx.session.tenant else "receiver"
    return render(
        ctx,
        "desk/case.html",
        status=status,
        case=case,
        history=history,
        side=side,
        menu="transfers",
        **values,
    )


ACTIONS: dict[str, tuple[str, Callable[[dict[str, str]], Any]]] = {
    "branch-approval": ("branch-approval", lambda f: {}),
    "committee-approval": (
        "committee-approval",
        lambda f: {
            "dues_paid_through": f.get("dues_paid_through", ""),
            "issuer_address": f.get("issuer_address", ""),
            "issuer_phone": f.get("issuer_phone", ""),
        },
    ),
    "acceptance": ("acceptance", lambda f: {}),
    "refusal": ("refusal", lambda f: {"reason": f.get("reason", "")}),
    "check-in": ("check-in", lambda f: {"late_reason": f["late_reason"]} if f.get("late_reason") else {}),
    "receipt-return": (
        "receipt-return",
        lambda f: {"handler": f.get("handler", ""), "phone": f.get("phone", "")},
    ),
    "cancellation": ("cancellation", lambda f: {"reason": f.get("reason", "")}),
}


@router.post("/transfers/{case_id}/{action}")
async def case_action(request: Request, case_id: str, action: str) -> Response:
    if action not in ACTIONS:
        return render(request, "error.html", status=404, message_key="error_page", status_code=404)
    path, body = ACTIONS[action]

    async def run(ctx: Ctx, form: dict[str, str], key: str) -> str:
        await ctx.api.post("transfer", f"/v1/transfers/{case_id}/{path}", body(form), key=key)
        return f"/desk/transfers/{case_id}?ok=done"

    return await form_action(request, case_view, action, run, case_id=case_id, member=False)


@router.get("/transfers/{case_id}/letter")
async def print_letter(request: Request, case_id: str) -> Response:
    ctx = _ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    try:
        html = await ctx.api.text("transfer", f"/v1/transfers/{case_id}/letter.html")
    except ApiError as exc:
        return _failed(ctx, exc)
    response = HTMLResponse(html)
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    )
    return response


# 失联, 组织生活, 学习, 通知, 组织


@router.get("/lost")
async def lost(request: Request) -> Response:
    ctx = _ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    cases = await ctx.api.get_or([], "registry", "/v1/contact-cases")
    return render(ctx, "desk/lost.html", cases=cases, menu="lost")


@router.get("/meetings")
async def meetings(request: Request) -> Response:
    ctx = _ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    items, orgs = await asyncio.gather(ctx.api.get_or([], "learning", "/v1/meetings", limit=100), _orgs(ctx))
    return render(
        ctx, "desk/meetings.html", meetings=items, org_names={o["id"]: o["name"] for o in orgs}, menu="life"
    )


@router.get("/study")
async def study(request: Request) -> Response:
    ctx = _ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    reports, names = await asyncio.gather(ctx.api.get_or([], "learning", "/v1/thought-reports"), _names(ctx))
    return render(ctx, "desk/study.html", reports=reports, names=names, menu="study")


@router.get("/notify")
async def notifications(request: Request) -> Response:
    ctx = _ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    page = await ctx.api.get_or({"items": [], "unread": 0}, "notify", "/v1/inbox", limit=100)
    return render(ctx, "desk/notify.html", items=page["items"], unread=page["unread"], menu="notify")


@router.get("/orgs")
async def organisations(request: Request) -> Response:
    ctx = _ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    orgs = await _orgs(ctx)
    children: dict[str | None, list[dict[str, Any]]] = {}
    for org in orgs:
        children.setdefault(org.get("parent_id"), []).append(org)
    ids = {o["id"] for o in orgs}
    roots = [o for o in orgs if o.get("parent_id") not in ids]
    tree: list[tuple[int, dict[str, Any]]] = []

    def walk(node: dict[str, Any], depth: int) -> None:
        tree.append((depth, node))
        for child in children.get(node["id"], []):
            walk(child, depth + 1)

    for root in roots:
        walk(root, 0)
    return render(ctx, "desk/orgs.html", tree=tree, menu="orgs")
