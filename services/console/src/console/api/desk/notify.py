"""通知: the secretary's own messages."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.api.common import Ctx, render
from console.api.desk.base import desk_ctx

router = APIRouter(prefix="/desk", include_in_schema=False)


@router.get("/notify")
async def notifications(request: Request) -> Response:
    ctx = desk_ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    page = await ctx.api.get_or({"items": [], "unread": 0}, "notify", "/v1/inbox", limit=100)
    return render(ctx, "desk/notify.html", items=page["items"], unread=page["unread"], menu="notify")
