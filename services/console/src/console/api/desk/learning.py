"""学习: thought reports."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.api.common import Ctx, render
from console.api.desk.base import desk_ctx, member_names

router = APIRouter(prefix="/desk", include_in_schema=False)


@router.get("/study")
async def study(request: Request) -> Response:
    ctx = desk_ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    reports, names = await asyncio.gather(
        ctx.api.get_or([], "learning", "/v1/thought-reports"), member_names(ctx)
    )
    return render(ctx, "desk/study.html", reports=reports, names=names, menu="study")
