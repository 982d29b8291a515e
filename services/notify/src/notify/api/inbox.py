"""The in-app inbox: items for the caller's roles in their organisations, and items addressed to them."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from notify.api.common import Notify
from notify.readmodels import queries
from notify.readmodels.projection import BODY
from shared.auth import CurrentUser
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
    page = await queries.inbox(
        runtime.pool,
        user.tenant,
        roles=roles,
        orgs=orgs,
        subject=user.subject,
        before=before,
        unread_only=unread_only,
        limit=limit,
    )
    cipher: FieldCipher = runtime.extras["cipher"]
    items = [
        InboxItemOut(**{**asdict(row), "body": open_column(cipher, row.body, BODY)}) for row in page.items
    ]
    return InboxPage(items=items, unread=page.unread, next_cursor=page.next_cursor)


@inbox.post("/{item_id}/read", status_code=204, response_class=Response, summary="Mark an inbox item read")
async def mark_read(item_id: UUID, user: CurrentUser, notify: Notify) -> None:
    await run_sync(notify.mark_read, user, item_id)
