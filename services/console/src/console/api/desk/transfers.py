"""组织关系转接: open a transfer, approve, issue and print the letter, accept or refuse, check in, receipt, cancel,
void or reissue the letter."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from console.api.common import Ctx, form_action, read_form, render
from console.api.desk import base
from console.api.desk.base import desk_ctx, failed, is_uuid, names_of, whole_roll
from console.charts import bars
from console.clients.api import ApiError
from console.session import Session

router = APIRouter(prefix="/desk", include_in_schema=False)
STATES = (
    "draft",
    "branch_approved",
    "committee_approved",
    "letter_issued",
    "received",
    "checked_in",
    "receipt_returned",
    "completed",
    "refused",
    "returned",
    "expired",
    "voided",
    "cancelled",
)


@router.get("/transfers")
async def transfers(request: Request) -> Response:
    return await transfers_page(request)


async def transfers_page(request: Request, status: int = 200, **values: Any) -> Response:
    ctx = desk_ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    form: dict[str, str] = values.get("form") or {}
    before = request.query_params.get("before") or None
    before = before if before and is_uuid(before) else None
    searching = bool(form.get("search") or form.get("member_id"))
    cases, roll, tree = await asyncio.gather(
        ctx.api.get_or([], "transfer", "/v1/transfers", limit=base.TRANSFER_PAGE, before=before),
        _roll(ctx) if searching else asyncio.sleep(0, []),
        destination_tree(ctx, form),
    )
    names = await names_of(ctx, [c["member_id"] for c in cases])
    return render(
        ctx,
        "desk/transfers.html",
        status=status,
        cases=cases,
        names=names,
        older=cases[-1]["id"] if len(cases) == base.TRANSFER_PAGE else None,
        found=picked_members(roll, form),
        tree=tree,
        steps=(
            steps := [
                (ctx.t("state_" + st), n) for st in STATES if (n := sum(c["state"] == st for c in cases))
            ]
        ),
        steps_chart=bars([(label, float(n)) for label, n in steps]),
        menu="transfers",
        **values,
    )


async def _roll(ctx: Ctx) -> list[dict[str, Any]]:
    """The roll for the member picker; the page still shows (with nothing to pick) if the registry fails."""
    try:
        return await whole_roll(ctx)
    except ApiError:
        return []


def picked_members(roll: list[dict[str, Any]], form: dict[str, str]) -> list[dict[str, Any]]:
    """The member picker: members on the roll whose name holds the searched text (the registry keeps names
    sealed, so the roll is read and matched here), plus the one already picked; none before a search."""
    search, picked = form.get("search", ""), form.get("member_id", "")
    return [
        m
        for m in roll
        if not m.get("transfer_pending")
        and ((search and search in (m.get("name") or "")) or m["id"] == picked)
    ]


async def destination_tree(ctx: Ctx, form: dict[str, str]) -> list[dict[str, Any]]:
    """The receiving tenant's open tree as nested nodes (the registry's /v1/destinations): another tenant's when
    its code is given, else the secretary's own; an unknown code gives an empty tree."""
    destination = form.get("destination", "")
    tenant = form.get("receiving_tenant", "") if destination == "other_tenant" else ctx.session.tenant
    if destination not in ("same_tenant", "other_tenant") or not tenant:
        return []
    try:
        answer = await ctx.api.get("registry", f"/v1/destinations/{quote(tenant, safe='')}")
    except ApiError:
        return []
    nodes = [{**n, "children": []} for n in answer["items"]]
    by_id = {n["id"]: n for n in nodes}
    for n in nodes:
        if n["parent_id"] in by_id:
            by_id[n["parent_id"]]["children"].append(n)
    return [n for n in nodes if n["parent_id"] not in by_id]


async def _request_transfer(ctx: Ctx, form: dict[str, str], key: str) -> str:
    destination = form.get("destination", "")
    body: dict[str, Any] = {
        "member_id": form.get("member_id") or None,
        "destination": destination,
        "reason": form.get("reason", ""),
        "graduate": form.get("graduate") == "on",
    }
    if destination == "other_tenant":
        body["receiving_tenant"] = form.get("receiving_tenant") or None
    if destination == "same_tenant":
        body["receiving_tenant"] = ctx.session.tenant
    if destination == "off_platform":
        body["receiving_org_name"] = form.get("receiving_org_name") or None
    else:
        body["receiving_org_id"] = form.get("receiving_org_id") or None
    case = await ctx.api.post("transfer", "/v1/transfers", body, key=key)
    return f"/desk/transfers/{case['id']}"


@router.post("/transfers")
async def request_transfer(request: Request) -> Response:
    return await form_action(request, transfers_page, "new", _request_transfer, member=False)


@router.post("/transfers/{step}")
async def pick(request: Request, step: str) -> Response:
    """The form's 查找党员 and 查看组织树 buttons (`formaction`): the same form shown again with the members found
    or the receiving tenant's tree; only reads, nothing requested. 发起转接 posts to /desk/transfers."""
    if step not in ("find", "tree"):
        return render(request, "error.html", status=404, message_key="error_page", status_code=404)
    ctx = desk_ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    form = await read_form(ctx)
    if not isinstance(form, dict):
        return form
    return await transfers_page(request, form=form, which="new", picking=step)


@router.get("/transfers/{case_id}")
async def case_page(request: Request, case_id: str) -> Response:
    return await case_view(request, case_id)


BEFORE_PIVOT = {"draft", "branch_approved", "committee_approved", "letter_issued"}
REASONED = ("cancellation", "void", "reissue")


def sender_may(case: dict[str, Any], committee: bool) -> set[str]:
    """The sending committee's side steps the transfer service accepts in the case's state (its saga table):
    cancel before the receiver accepted, void an issued letter not yet received, reissue it until check-in."""
    if not committee:
        return set()
    state = case["state"]
    return {
        action
        for action, allowed in (
            ("cancellation", state in BEFORE_PIVOT),
            ("void", state == "letter_issued" and case.get("letter")),
            ("reissue", state in ("letter_issued", "received") and case.get("letter")),
        )
        if allowed
    }


def case_sides(case: dict[str, Any], session: Session) -> set[str]:
    """The sides of the case the signed-in person acts for. A transfer between two branches of one tenant has both
    sides in it: its committee acts for both, each branch's secretary for their own branch's side."""
    sides = {
        side
        for side, tenant, org in (
            ("sender", case["sending_tenant"], case["sending_org_id"]),
            ("receiver", case.get("receiving_tenant"), case.get("receiving_org_id")),
        )
        if tenant == session.tenant and (session.is_committee or str(org) in session.orgs)
    }
    # A reader who acts for neither (an auditor) sees the case from the tenant's side.
    return sides or {"sender" if case["sending_tenant"] == session.tenant else "receiver"}


async def case_view(
    request: Request, case_id: str, status: int = 200, which: str = "", **values: Any
) -> Response:
    ctx = desk_ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    try:
        case, history = await asyncio.gather(
            ctx.api.get("transfer", f"/v1/transfers/{case_id}"),
            ctx.api.get_or([], "transfer", f"/v1/transfers/{case_id}/history"),
        )
    except ApiError as exc:
        return failed(ctx, exc)
    sides = case_sides(case, ctx.session)
    if which in REASONED and "reason" in values.get("errors", {}):
        values["errors"] = {**values["errors"], f"{which}_reason": values["errors"]["reason"]}
    return render(
        ctx,
        "desk/case.html",
        status=status,
        case=case,
        history=history,
        sides=sides,
        side="both" if len(sides) == 2 else next(iter(sides)),
        can=sender_may(case, ctx.session.is_committee) if "sender" in sides else set(),
        which=which,
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
    "cancellation": ("cancellation", lambda f: {"reason": f.get("cancellation_reason", "")}),
    "void": ("void", lambda f: {"reason": f.get("void_reason", ""), "reissue": False}),
    "reissue": ("void", lambda f: {"reason": f.get("reissue_reason", ""), "reissue": True}),
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
    ctx = desk_ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    try:
        html = await ctx.api.text("transfer", f"/v1/transfers/{case_id}/letter.html")
    except ApiError as exc:
        return failed(ctx, exc)
    response = HTMLResponse(html)
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    )
    return response
