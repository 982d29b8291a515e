"""组织生活: meetings of the secretary's branches."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.api.common import Ctx, render
from console.api.desk.base import desk_ctx, org_list

router = APIRouter(prefix="/desk", include_in_schema=False)


@router.get("/meetings")
async def meetings(request: Request) -> Response:
    ctx = desk_ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    items, orgs = await asyncio.gather(
        ctx.api.get_or([], "learning", "/v1/meetings", limit=100), org_list(ctx)
    )
    return render(
        ctx, "desk/meetings.html", meetings=items, org_names={o["id"]: o["name"] for o in orgs}, menu="life"
    )
