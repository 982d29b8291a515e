"""The public letter check: anyone (no sign-in) types the code printed on a letter, or scans its QR code, and
reads a human page in Chinese saying whether the letter is genuine and still valid."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from console.api.common import render
from console.clients.api import ApiError

router = APIRouter(include_in_schema=False)
CODE = re.compile(r"^[A-Z2-7]{4,32}$")


@router.get("/verify")
async def verify_form(request: Request) -> Response:
    code = request.query_params.get("code", "").strip().upper().replace(" ", "").replace("-", "")
    if code:
        return RedirectResponse(f"/v1/letters/verify/{code}", status_code=303)
    return render(request, "public/verify.html", result=None, code="")


@router.get("/v1/letters/verify/{code}")
async def verify(request: Request, code: str) -> Response:
    """The address the letter's QR code carries (the transfer service's PUBLIC_BASE_URL is the console)."""
    code = code.strip().upper()
    result = {"status": "unknown"}
    if CODE.match(code):
        api = request.app.state.services.as_person("")
        try:
            result = await api.call("transfer", "GET", f"/v1/letters/verify/{code}")
        except ApiError:
            result = {"status": "unknown"}
    return render(
        request,
        "public/verify.html",
        result=result,
        code=code,
        status=200 if result.get("status") != "unknown" else 404,
    )
