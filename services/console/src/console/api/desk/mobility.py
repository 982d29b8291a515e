"""流动党员: declarations to confirm or question, outflows and inflows with their certificates."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.api.common import Ctx, form_action, render
from console.api.desk.base import desk_ctx

router = APIRouter(prefix="/desk", include_in_schema=False)


@router.get("/mobile")
async def mobile(request: Request) -> Response:
    return await mobile_page(request)


async def mobile_page(request: Request, status: int = 200, **values: Any) -> Response:
    ctx = desk_ctx(request)
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
