"""The in-app inbox: items for the caller's roles in their organisations, and items addressed to them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel

from notify.api.common import Notify
from notify.readmodels.projection import BODY
from shared.auth import CurrentUser
from shared.db import tenant_transaction
from shared.fieldcrypt import FieldCipher
from shared.runtime import RuntimeDep
from shared.sealed import open_column
from shared.threads import run_sync


class InboxItemOut(BaseModel):
    id: UUID
    event_type: str
    event_id: str
    subject_id: str
    title: str
    body: str
    link: str | None
    created_at: datetime
    read_at: datetime | None


class InboxPage(BaseModel):
    items: list[InboxItemOut]
    unread: int
    next_cursor: str | None


inbox = APIRouter(prefix="/v1/inbox", tags=["inbox"])

# A role's item reaches every holder of the role (in the org, when it names one); a person's item only them.
VISIBLE = (
    "((recipient_subject IS NULL AND recipient_role = ANY($1::text[]) "
    "AND (recipient_org IS NULL OR recipient_org = ANY($2::text[]))) OR recipient_subject = $3)"
)


@inbox.get("", response_model=InboxPage, summary="The caller's inbox, newest first")
async def list_inbox(
    user: CurrentUser,
    runtime: RuntimeDep,
    unread_only: Annotated[bool, Query(alias="unread")] = False,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> InboxPage:
    roles, orgs = sorted(user.roles), sorted(user.orgs)
    before = int(cursor) if cursor and cursor.isdigit() else None
    async with tenant_transaction(runtime.pool, user.tenant) as conn:
        rows = await conn.fetch(
            f"SELECT id, event_type, event_id, subject_id, title, body, link, created_at, read_at, position "
            f"FROM inbox_items WHERE {VISIBLE} AND ($4::bigint IS NULL OR position < $4) "
            f"AND (NOT $5 OR read_at IS NULL) ORDER BY position DESC LIMIT $6",
            roles,
            orgs,
            user.subject,
            before,
            unread_only,
            limit + 1,
        )
        unread = await conn.fetchval(
            f"SELECT count(*) FROM inbox_items WHERE {VISIBLE} AND read_at IS NULL", roles, orgs, user.subject
        )
    cipher: FieldCipher = runtime.extras["cipher"]
    items = [
        InboxItemOut(
            **{
                **{k: v for k, v in dict(r).items() if k != "position"},
                "body": open_column(cipher, r["body"], BODY),
            }
        )
        for r in rows[:limit]
    ]
    next_cursor = str(rows[limit - 1]["position"]) if len(rows) > limit else None
    return InboxPage(items=items, unread=unread, next_cursor=next_cursor)


@inbox.post("/{item_id}/read", status_code=204, summary="Mark an inbox item read")
async def mark_read(item_id: UUID, user: CurrentUser, notify: Notify) -> None:
    await run_sync(notify.mark_read, user, item_id)
