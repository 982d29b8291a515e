"""Signing in and out, and the language switch.

Development: a page lists the demo people of each demo tenant (committee staff, each branch's secretary, each
member) and signs in as one with a development token. Production (OIDC_ISSUER set) signs in through the OpenID
provider with the authorization code flow and PKCE (console/oidc.py); the demo list exists only in development.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from typing import Any
from urllib.parse import quote, urlparse

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from console.api.common import DESK_ROLES, lang_of, page_error, render, session_of
from console.clients.api import ApiError
from console.oidc import OidcClient, PendingBox, SignInRefused
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


def _base_url(request: Request) -> str:
    settings = _settings(request)
    return (settings.public_url or str(request.base_url)).rstrip("/")


def _landing(session: Session, wanted: str | None) -> str:
    """Where a person goes after signing in: where they were, unless it is the other kind of person's page."""
    target = _safe_next(wanted) or ("/m" if session.is_member else "/desk")
    if (session.is_member and target.startswith("/desk")) or (
        not session.is_member and target.startswith("/m")
    ):
        target = "/m" if session.is_member else "/desk"
    return target


@router.get("/sign-in/oidc", include_in_schema=False)
async def oidc_start(request: Request) -> Response:
    """Off to the provider: a fresh state, nonce and PKCE verifier wait in an encrypted cookie."""
    oidc: OidcClient | None = request.app.state.oidc
    if oidc is None:
        return page_error(request, 404)
    pending = oidc.begin(_safe_next(request.query_params.get("next")) or "")
    try:
        target = await oidc.authorization_url(pending, _base_url(request) + "/callback")
    except (SignInRefused, httpx.HTTPError) as exc:
        logging.getLogger("console.oidc").warning("sign-in cannot start: %s", _reason(exc))
        return render(request, "error.html", status=502, message_key="signin_failed", status_code=502)
    response = RedirectResponse(target, status_code=303)
    box: PendingBox = request.app.state.pending
    response.set_cookie(
        PendingBox.COOKIE,
        box.seal(pending),
        max_age=600,
        httponly=True,
        samesite="lax",  # the provider's redirect back is a top-level GET from another site
        secure=_settings(request).secure_cookies,
        path="/callback",
    )
    return response


def _reason(exc: Exception) -> str:
    return str(exc) if isinstance(exc, SignInRefused) else type(exc).__name__


@router.get("/callback", include_in_schema=False)
async def oidc_callback(request: Request) -> Response:
    """The provider's answer: the state must be this browser's, the code is exchanged with the verifier, the
    tokens verified; then the session, and the code never goes further than here."""
    oidc: OidcClient | None = request.app.state.oidc
    if oidc is None:
        return page_error(request, 404)
    box: PendingBox = request.app.state.pending
    pending = box.open(request.cookies.get(PendingBox.COOKIE))
    params = request.query_params
    log = logging.getLogger("console.oidc")
    refused = render(request, "error.html", status=403, message_key="signin_failed", status_code=403)
    refused.delete_cookie(PendingBox.COOKIE, path="/callback")
    if pending is None:
        log.warning("sign-in refused: no pending sign-in in this browser")
        return refused
    if params.get("error"):
        log.info("the provider ended the sign-in without a code")
        return refused
    try:
        signed = await oidc.finish(
            pending,
            state=params.get("state", ""),
            code=params.get("code", ""),
            redirect_uri=_base_url(request) + "/callback",
        )
    except (SignInRefused, httpx.HTTPError, ValueError) as exc:
        log.warning("sign-in refused: %s", _reason(exc))
        return refused
    session = Session(
        token=signed.access_token,
        tenant=signed.tenant,
        subject=signed.subject,
        roles=signed.roles,
        orgs=signed.orgs,
        display=signed.display,
        token_expires=signed.expires,
        via="oidc",
    )
    response = RedirectResponse(_landing(session, pending.next), status_code=303)
    sessions: SessionBox = request.app.state.sessions
    sessions.write(response, session)
    response.delete_cookie(PendingBox.COOKIE, path="/callback")
    return response


@router.get("/sign-in", include_in_schema=False)
async def sign_in_page(request: Request, tenant: str | None = None) -> Response:
    settings = _settings(request)
    if request.app.state.oidc is not None and request.query_params.get("expired") == "1":
        # The session or its token expired: straight back to the provider (its own session usually still
        # holds, so no form), then to the page the person was on.
        wanted = _safe_next(request.query_params.get("next"))
        return RedirectResponse(
            "/sign-in/oidc" + (f"?next={quote(wanted)}" if wanted else ""), status_code=303
        )
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
        oidc=request.app.state.oidc is not None,
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
    response = RedirectResponse(_landing(session, form.get("next")), status_code=303)
    box: SessionBox = request.app.state.sessions
    box.write(response, session)
    response.delete_cookie(PRE_COOKIE)
    return response


@router.post("/sign-out", include_in_schema=False)
async def sign_out(request: Request) -> Response:
    session = session_of(request)
    form = await request.form()
    if session is None or not hmac.compare_digest(session.csrf, str(form.get("csrf", ""))):
        return RedirectResponse("/sign-in", status_code=303)
    target = "/sign-in"
    oidc: OidcClient | None = request.app.state.oidc
    if oidc is not None and session.via == "oidc":
        # RP-initiated logout: the provider ends its own session too, then sends the browser back here.
        target = await oidc.logout_url(_base_url(request) + "/sign-in") or target
    response = RedirectResponse(target, status_code=303)
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
