"""失联: contact cases."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.api.common import Ctx, render
from console.api.desk.base import desk_ctx

router = APIRouter(prefix="/desk", include_in_schema=False)


@router.get("/lost")
async def lost(request: Request) -> Response:
    ctx = desk_ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    cases = await ctx.api.get_or([], "registry", "/v1/contact-cases")
    return render(ctx, "desk/lost.html", cases=cases, menu="lost")
