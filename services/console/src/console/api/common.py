"""What every page shares: the session, the language, rendering, CSRF, Idempotency-Keys and errors."""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from console.clients.api import Api, ApiError
from console.i18n import LANGS, SHANGHAI, format_date, format_time, relative_deadline, translate
from console.session import LANG_COOKIE, Session, SessionBox, csrf_ok

DESK_ROLES = {"branch_secretary", "committee", "tenant_admin", "auditor", "operator"}


class Pages:
    def __init__(self, folder: Path) -> None:
        self.env = Environment(
            loader=FileSystemLoader(folder),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def render(self, name: str, context: dict[str, Any]) -> str:
        return self.env.get_template(name).render(**context)


class Submissions:
    """Each form carries an Idempotency-Key: the first submission runs, a second one (a double click, a reload)
    waits for it and gets the same answer, and the key goes on to the service too."""

    def __init__(self, size: int = 10_000) -> None:
        self.done: OrderedDict[str, str] = OrderedDict()
        self.locks: dict[str, asyncio.Lock] = {}
        self.size = size

    async def once(self, key: str, run: Callable[[], Awaitable[str]]) -> str:
        lock = self.locks.setdefault(key, asyncio.Lock())
        async with lock:
            if key in self.done:
                return self.done[key]
            target = await run()
            self.done[key] = target
            while len(self.done) > self.size:
                self.done.popitem(last=False)
        self.locks.pop(key, None)
        return target


def lang_of(request: Request) -> str:
    lang = request.cookies.get(LANG_COOKIE, "zh")
    return lang if lang in LANGS else "zh"


def today(request: Request) -> date:
    """Today in Beijing, on the services' clock (a test shifts it; production reads the real time)."""
    shift = timedelta(seconds=request.app.state.settings.test_clock_shift_seconds)
    return (datetime.now(UTC) + shift).astimezone(SHANGHAI).date()


def session_of(request: Request) -> Session | None:
    box: SessionBox = request.app.state.sessions
    return box.read(request)


def api_for(request: Request, session: Session) -> Api:
    api: Api = request.app.state.services.as_person(session.token)
    return api


class NeedsSignIn(Exception):
    pass


@dataclass
class Ctx:
    """One request's view: the person, their language, their API client."""

    request: Request
    session: Session
    lang: str
    api: Api

    def t(self, key: str, **values: object) -> str:
        return translate(self.lang, key, **values)


def sign_in_redirect(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/sign-in?next={quote(request.url.path)}&expired=1", status_code=303)


def context(request: Request, *, member: bool) -> Ctx | Response:
    """The signed-in person, or a redirect to sign in (then back here); the wrong kind of person gets 403."""
    session = session_of(request)
    if session is None:
        return sign_in_redirect(request)
    if member != session.is_member or (not member and not DESK_ROLES & set(session.roles)):
        return page_error(request, 403)
    return Ctx(request, session, lang_of(request), api_for(request, session))


def render(ctx: Ctx | Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
    request = ctx.request if isinstance(ctx, Ctx) else ctx
    lang = ctx.lang if isinstance(ctx, Ctx) else lang_of(request)
    session = ctx.session if isinstance(ctx, Ctx) else session_of(request)
    day = today(request)
    base: dict[str, Any] = {
        "lang": lang,
        "html_lang": "en" if lang == "en" else "zh-CN",
        "session": session,
        "csrf": session.csrf if session else "",
        "idem": uuid.uuid4().hex,
        "path": request.url.path,
        "t": lambda key, **v: translate(lang, key, **v),
        "date": lambda v: format_date(v, lang),
        "time": lambda v: format_time(v, lang),
        "due": lambda v: relative_deadline(v, day, lang),
        "today": day,
        "ok": request.query_params.get("ok"),
        "errors": {},
        "problem": None,
        "form": {},
    }
    html = request.app.state.pages.render(name, {**base, **values})
    return HTMLResponse(html, status_code=status)


def page_error(request: Request, status: int) -> HTMLResponse:
    key = {401: "expired", 403: "not_allowed", 404: "error_page"}.get(status, "error_try")
    return render(request, "error.html", status=status, message_key=key, status_code=status)


async def read_form(ctx: Ctx) -> dict[str, str] | Response:
    """The submitted form, once its CSRF token matches the session's; else a page saying to submit again."""
    raw = await ctx.request.form()
    form = {k: str(v).strip() for k, v in raw.items()}
    if not csrf_ok(ctx.session, form.get("csrf")):
        return render(ctx, "error.html", status=403, message_key="csrf_failed", status_code=403)
    return form


async def submit(
    ctx: Ctx,
    form: dict[str, str],
    run: Callable[[str], Awaitable[str]],
    on_error: Callable[[ApiError], Awaitable[Response]],
) -> Response:
    """Run a form's action once per Idempotency-Key, then redirect (303) to the page it names."""
    key = form.get("idem") or uuid.uuid4().hex
    submissions: Submissions = ctx.request.app.state.submissions
    try:
        target = await submissions.once(key, lambda: run(key))
    except ApiError as exc:
        if exc.status == 401:
            return sign_in_redirect(ctx.request)
        return await on_error(exc)
    return RedirectResponse(target, status_code=303)


Page = Callable[..., Awaitable[Response]]


async def form_action(
    request: Request,
    page: Page,
    which: str,
    action: Callable[[Ctx, dict[str, str], str], Awaitable[str]],
    *,
    member: bool,
    **page_args: Any,
) -> Response:
    """A form: CSRF checked, run once per Idempotency-Key, the service's errors shown on the page by the field."""
    ctx = context(request, member=member)
    if not isinstance(ctx, Ctx):
        return ctx
    form = await read_form(ctx)
    if not isinstance(form, dict):
        return form

    async def on_error(exc: ApiError) -> Response:
        status = exc.status if exc.status < 500 else 502
        return await page(request, status=status, which=which, **page_args, **problem_values(exc, form))

    return await submit(ctx, form, lambda key: action(ctx, form, key), on_error)


def problem_values(
    exc: ApiError, form: dict[str, str], aliases: dict[str, str] | None = None
) -> dict[str, Any]:
    """The service's problem, with each field's message under the form's field name."""
    aliases = aliases or {}
    errors = {aliases.get(k, k): v for k, v in exc.fields.items()}
    return {"errors": errors, "problem": exc, "form": form}
