"""Signing in and out, and the language switch.

Development: a page lists the demo people of each demo tenant (committee staff, each branch's secretary, each
member) and signs in as one with a development token. Production signs in through the OIDC provider (not built
yet: the console refuses to start in production with the development key, and shows no demo list).
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import urlparse

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from console.api.common import DESK_ROLES, lang_of, page_error, render, session_of
from console.clients.api import ApiError
from console.session import LANG_COOKIE, Session, SessionBox
from console.settings import ConsoleSettings
from shared.auth import issue_dev_token

router = APIRouter()
PRE_COOKIE = "lx_pre"
BRANCH_KINDS = {"branch", "general_branch"}


def _settings(request: Request) -> ConsoleSettings:
    settings: ConsoleSettings = request.app.state.settings
    return settings


def _seeder_token(settings: ConsoleSettings, tenant: str) -> str:
    assert settings.dev_signing_key_file is not None
    return issue_dev_token(
        settings.dev_signing_key_file,
        tenant=tenant,
        roles=["committee"],
        subject="console-demo-directory",
        ttl_seconds=300,
    )


async def _directory(request: Request, tenant: str) -> dict[str, Any]:
    """The demo people of one tenant, read through the registry's API with a short committee token."""
    settings = _settings(request)
    api = request.app.state.services.as_person(_seeder_token(settings, tenant))
    try:
        orgs = (await api.get("registry", "/v1/organisations", limit=500))["items"]
        members = (await api.get("registry", "/v1/members", limit=200))["items"]
    except ApiError:
        return {"tenant": tenant, "orgs": [], "members": []}
    names = {o["id"]: o["name"] for o in orgs}
    return {
        "tenant": tenant,
        "orgs": [o for o in orgs if o["kind"] in BRANCH_KINDS],
        "root": next((o for o in orgs if not o.get("parent_id")), None),
        "members": [
            {**m, "org_name": names.get(m["organisation_id"], "")}
            for m in members
            if m.get("roll") == "on_roll"
        ],
    }


def _safe_next(target: str | None) -> str | None:
    if not target or not target.startswith("/") or target.startswith("//") or urlparse(target).netloc:
        return None
    return target


@router.get("/", include_in_schema=False)
async def start(request: Request) -> Response:
    session = session_of(request)
    if session is None:
        return RedirectResponse("/sign-in", status_code=303)
    return RedirectResponse("/m" if session.is_member else "/desk", status_code=303)


@router.get("/sign-in", include_in_schema=False)
async def sign_in_page(request: Request, tenant: str | None = None) -> Response:
    settings = _settings(request)
    pre = secrets.token_urlsafe(24)
    directories = []
    if settings.dev_sign_in:
        tenants = ([tenant] if tenant else []) + [t for t in settings.tenants if t != tenant]
        directories = [
            d for d in [await _directory(request, t) for t in tenants] if d["orgs"] or d["members"]
        ]
    response = render(
        request,
        "sign_in.html",
        directories=directories,
        dev=settings.dev_sign_in,
        pre=pre,
        next=_safe_next(request.query_params.get("next")) or "",
        expired=request.query_params.get("expired") == "1",
    )
    response.set_cookie(
        PRE_COOKIE, pre, httponly=True, samesite="strict", secure=settings.secure_cookies, max_age=1800
    )
    return response


@router.post("/sign-in", include_in_schema=False)
async def sign_in(request: Request) -> Response:
    settings = _settings(request)
    form = {k: str(v) for k, v in (await request.form()).items()}
    pre = request.cookies.get(PRE_COOKIE, "")
    if not settings.dev_sign_in:
        return page_error(request, 403)
    if not pre or not hmac.compare_digest(pre, form.get("pre", "")):
        return render(request, "error.html", status=403, message_key="csrf_failed", status_code=403)
    tenant, kind, ident = form.get("tenant", ""), form.get("kind", ""), form.get("id", "")
    directory = await _directory(request, tenant)
    assert settings.dev_signing_key_file is not None
    if kind == "member":
        person = next((m for m in directory["members"] if m["id"] == ident), None)
        if person is None:
            return page_error(request, 404)
        subject, roles, orgs, display = f"member:{person['id']}", ["member"], [], person["name"] or ""
    elif kind == "branch_secretary":
        org = next((o for o in directory["orgs"] if o["id"] == ident), None)
        if org is None:
            return page_error(request, 404)
        subject, roles, orgs, display = (
            f"demo-secretary-{org['code']}",
            ["branch_secretary"],
            [org["id"]],
            org["name"],
        )
    elif kind == "committee" and directory.get("root"):
        root = directory["root"]
        subject, roles, orgs, display = "demo-committee", ["committee"], [root["id"]], root["name"]
    else:
        return page_error(request, 404)
    token = issue_dev_token(
        settings.dev_signing_key_file,
        tenant=tenant,
        roles=roles,
        orgs=orgs,
        subject=subject,
        ttl_seconds=settings.session_hours * 3600,
    )
    session = Session(token=token, tenant=tenant, subject=subject, roles=roles, orgs=orgs, display=display)
    target = _safe_next(form.get("next")) or ("/m" if session.is_member else "/desk")
    if (session.is_member and target.startswith("/desk")) or (
        not session.is_member and target.startswith("/m")
    ):
        target = "/m" if session.is_member else "/desk"
    response = RedirectResponse(target, status_code=303)
    box: SessionBox = request.app.state.sessions
    box.write(response, session)
    response.delete_cookie(PRE_COOKIE)
    return response


@router.post("/sign-out", include_in_schema=False)
async def sign_out(request: Request) -> Response:
    session = session_of(request)
    form = await request.form()
    response = RedirectResponse("/sign-in", status_code=303)
    if session is not None and hmac.compare_digest(session.csrf, str(form.get("csrf", ""))):
        box: SessionBox = request.app.state.sessions
        box.clear(response)
    return response


@router.post("/lang", include_in_schema=False)
async def switch_language(request: Request) -> Response:
    form = await request.form()
    session = session_of(request)
    if session is not None and not hmac.compare_digest(session.csrf, str(form.get("csrf", ""))):
        return render(request, "error.html", status=403, message_key="csrf_failed", status_code=403)
    lang = "en" if lang_of(request) == "zh" else "zh"
    back = _safe_next(str(form.get("back", ""))) or "/"
    response = RedirectResponse(back, status_code=303)
    response.set_cookie(
        LANG_COOKIE,
        lang,
        max_age=365 * 86400,
        samesite="lax",
        httponly=True,
        secure=_settings(request).secure_cookies,
    )
    return response


__all__ = ["DESK_ROLES", "router"]
