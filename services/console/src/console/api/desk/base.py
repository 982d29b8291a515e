"""What every desk page shares: the signed-in secretary, an error page, names and organisations to show."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import Request
from fastapi.responses import Response

from console.api.common import Ctx, context, form_action, render
from console.clients.api import ApiError
from console.i18n import SHANGHAI

WORKLISTS = ("todo", "pending", "upcoming", "overdue")


def desk_ctx(request: Request) -> Ctx | Response:
    return context(request, member=False)


def failed(ctx: Ctx, exc: ApiError) -> Response:
    status = exc.status if exc.status < 500 else 502
    return render(
        ctx,
        "error.html",
        status=status,
        message_key="error_try" if status >= 500 else "error_page",
        status_code=status,
    )


# Transfer's lists come a page at a time, at most this many cases a page (its documented maximum).
TRANSFER_PAGE = 500


async def transfer_pages(ctx: Ctx, path: str) -> AsyncIterator[list[dict[str, Any]]]:
    """One of transfer's lists, newest change first, page after page while a page is full (its `before` cursor);
    the caller stops early once it has what it needs."""
    before = None
    while True:
        page: list[dict[str, Any]] = await ctx.api.get_or(
            [], "transfer", path, limit=TRANSFER_PAGE, before=before
        )
        yield page
        if len(page) < TRANSFER_PAGE:
            return
        before = page[-1]["id"]


# The roll is read this many members a call when a name is searched on it.
ROLL_PAGE = 500


async def whole_roll(ctx: Ctx, **filters: Any) -> list[dict[str, Any]]:
    """The secretary's whole roll (with the registry's filters), page after page. Names are matched here, since
    the registry keeps them sealed and cannot search them; read only when a name is searched."""
    members: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = await ctx.api.get("registry", "/v1/members", limit=ROLL_PAGE, cursor=cursor, **filters)
        members += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return members


# The most member ids the registry names in one call (GET /v1/members/-/names).
NAMES_PER_CALL = 200


async def names_of(ctx: Ctx, member_ids: Iterable[str]) -> dict[str, str]:
    """Member id → name for exactly these members, those in the secretary's scope (names are shown, never put in
    a URL of the console; the ids go to the registry in its query string)."""
    wanted = sorted({i for i in member_ids if is_uuid(i)})
    chunks = [wanted[n : n + NAMES_PER_CALL] for n in range(0, len(wanted), NAMES_PER_CALL)]
    pages = await asyncio.gather(
        *(ctx.api.get_or({"items": []}, "registry", "/v1/members/-/names", id=chunk) for chunk in chunks)
    )
    return {m["id"]: m.get("name") or "" for page in pages for m in page["items"]}


def is_uuid(value: str) -> bool:
    try:
        UUID(value)
    except (TypeError, ValueError):
        return False
    return True


async def org_list(ctx: Ctx) -> list[dict[str, Any]]:
    page = await ctx.api.get_or({"items": []}, "registry", "/v1/organisations", limit=500)
    return list(page["items"])


def beijing(value: str | None) -> str | None:
    """A `datetime-local` field's value (`2026-12-10T14:00`) as an instant in Beijing time; None when empty or not
    a time, so the service names the field."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=moment.tzinfo or SHANGHAI).isoformat()


async def branch_members(ctx: Ctx, organisation_id: str) -> list[dict[str, Any]]:
    page = await ctx.api.get_or(
        {"items": []}, "registry", "/v1/members", organisation_id=organisation_id, limit=500
    )
    return list(page["items"])


async def act_on(
    request: Request,
    view: Callable[..., Awaitable[Response]],
    item_id: str,
    which: str,
    run: Callable[[Ctx, dict[str, str], str], Awaitable[None]],
    back: str,
) -> Response:
    """A form on one item's page (a meeting, a node): run once per Idempotency-Key, then back to the page; the
    service's refusal is shown on the same page by the field it names."""

    async def page(request: Request, status: int = 200, **values: Any) -> Response:
        return await view(request, item_id, status=status, **values)

    async def action(ctx: Ctx, form: dict[str, str], key: str) -> str:
        await run(ctx, form, key)
        return f"{back}?ok=done"

    return await form_action(request, page, which, action, member=False)
