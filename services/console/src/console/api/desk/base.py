"""What every desk page shares: the signed-in secretary, an error page, names and organisations to show."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from console.api.common import Ctx, context, render
from console.clients.api import ApiError

WORKLISTS = ("todo", "pending", "upcoming", "overdue")


def desk_ctx(request: Request) -> Ctx | Response:
    return context(request, member=False)


def failed(ctx: Ctx, exc: ApiError) -> Response:
    status = exc.status if exc.status < 500 else 502
    return render(
        ctx,
        "error.html",
        status=status,
        message_key="error_try" if status >= 500 else "error_page",
        status_code=status,
    )


async def member_names(ctx: Ctx) -> dict[str, str]:
    """Member id → name over the secretary's roll (names are shown, never put in a URL)."""
    page = await ctx.api.get_or({"items": []}, "registry", "/v1/members", limit=500)
    return {m["id"]: m.get("name") or "" for m in page["items"]}


async def org_list(ctx: Ctx) -> list[dict[str, Any]]:
    page = await ctx.api.get_or({"items": []}, "registry", "/v1/organisations", limit=500)
    return list(page["items"])
