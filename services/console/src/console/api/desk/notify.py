"""通知: the secretary's own messages; 通知设置 for committee staff (each rule on or off, the channels); deliveries by
status, dead letters and their replay for operators (notify answers those to `operator` and `tenant_admin` only)."""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.api.common import Ctx, form_action, render
from console.api.desk.base import desk_ctx

router = APIRouter(prefix="/desk", include_in_schema=False)
STATUSES = ("pending", "sent", "dead", "withdrawn")
# What a channel test's answer may say on the page (it travels in the redirect's query, so anything else is dropped).
TEST_DETAIL = re.compile(r"^[A-Za-z0-9 .,:;()'_/-]{1,200}$")


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
        tested=_tested(request),
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


def _tested(request: Request) -> dict[str, Any] | None:
    """The last channel test's answer, from the redirect after it: which channel, delivered or not, and what the
    receiver said (`HTTP 404`, `robot errcode 93000`, `timed out after 5.0s`)."""
    query = request.query_params
    channel, detail = query.get("tested", ""), query.get("detail", "")
    if not channel:
        return None
    shown = detail if TEST_DETAIL.match(detail) else ""
    return {"channel": channel, "delivered": query.get("delivered") == "1", "detail": shown}


async def _test(ctx: Ctx, form: dict[str, str], key: str) -> str:
    """Send a test message through one webhook channel now (notify's `POST /v1/channels/{name}/test`)."""
    name = form.get("channel", "")
    answer = await ctx.api.post("notify", f"/v1/channels/{quote(name, safe='')}/test", key=key)
    query = {"tested": name, "delivered": "1" if answer["delivered"] else "0", "detail": answer["detail"]}
    return f"/desk/notify?{urlencode(query)}#chan-h"


@router.post("/notify/channels/test")
async def test_channel(request: Request) -> Response:
    return await form_action(request, notify_page, "chantest", _test, member=False)
