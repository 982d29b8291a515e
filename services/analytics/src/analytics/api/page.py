"""A small page of charts (flows, the transfer funnel, cadence per branch), drawn as inline SVG: no CDN."""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse

router = APIRouter(tags=["page"])


@router.get("/", include_in_schema=False)
async def root() -> RedirectResponse:
    return RedirectResponse("/charts")


@router.get(
    "/charts", response_class=HTMLResponse, summary="Charts of the caller's statistics (token pasted in)"
)
async def charts() -> HTMLResponse:
    page = files("analytics").joinpath("static/charts.html").read_text(encoding="utf-8")
    return HTMLResponse(
        page,
        headers={
            "Content-Security-Policy": "default-src 'self'; script-src 'unsafe-inline' "
            "'self'; style-src 'unsafe-inline'"
        },
    )
