"""通知: the secretary's own messages; 通知设置 for committee staff (each rule on or off, the channels); deliveries by
status, dead letters and their replay for operators (notify answers those to `operator` and `tenant_admin` only)."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.api.common import Ctx, form_action, render
from console.api.desk.base import desk_ctx

router = APIRouter(prefix="/desk", include_in_schema=False)
STATUSES = ("pending", "sent", "dead", "withdrawn")


@router.get("/notify")
async def notifications(request: Request) -> Response:
    return await notify_page(request)


async def notify_page(request: Request, status: int = 200, **values: Any) -> Response:
    ctx = desk_ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    roles = set(ctx.session.roles)
    admin, operator = bool({"committee", "tenant_admin"} & roles), bool({"operator", "tenant_admin"} & roles)
    shown = request.query_params.get("status", "dead")
    shown = shown if shown in STATUSES else "dead"
    nothing: dict[str, Any] = {"items": []}
    page, rules, channels, deliveries = await asyncio.gather(
        ctx.api.get_or({"items": [], "unread": 0}, "notify", "/v1/inbox", limit=100),
        ctx.api.get_or([], "notify", "/v1/rules") if admin else asyncio.sleep(0, []),
        ctx.api.get_or([], "notify", "/v1/channels") if admin else asyncio.sleep(0, []),
        ctx.api.get_or(nothing, "notify", "/v1/deliveries", status=shown, limit=100)
        if operator
        else asyncio.sleep(0, nothing),
    )
    return render(
        ctx,
        "desk/notify.html",
        status=status,
        items=page["items"],
        unread=page["unread"],
        rules=rules,
        channels=channels,
        deliveries=deliveries["items"],
        statuses=STATUSES,
        shown=shown,
        admin=admin,
        operator=operator,
        menu="notify",
        **values,
    )


async def _rule(ctx: Ctx, form: dict[str, str], key: str) -> str:
    """Switch one rule on or off for the tenant, keeping its channels as they are."""
    rules = await ctx.api.get("notify", "/v1/rules")
    rule = next((r for r in rules if r["name"] == form.get("rule")), None)
    body: dict[str, Any] = {"enabled": form.get("enabled") == "true"}
    if rule is not None:
        body["channels"] = rule["channels"]
        body["required_channels"] = rule["required_channels"]
    await ctx.api.put("notify", f"/v1/rules/{quote(form.get('rule', ''), safe='')}", body, key=key)
    return "/desk/notify?ok=done"


async def _replay(ctx: Ctx, form: dict[str, str], key: str) -> str:
    await ctx.api.post(
        "notify", f"/v1/deliveries/{quote(form.get('delivery_id', ''), safe='')}/replay", key=key
    )
    return "/desk/notify?status=dead&ok=replayed"


@router.post("/notify/rules")
async def rule(request: Request) -> Response:
    return await form_action(request, notify_page, "rule", _rule, member=False)


@router.post("/notify/replay")
async def replay(request: Request) -> Response:
    return await form_action(request, notify_page, "replay", _replay, member=False)
