"""Use cases of the inbox."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from notify.domain import InboxItem, InboxItemNotFound
from shared.auth import Principal

if TYPE_CHECKING:
    from notify.application import NotifyApplication


def mark_read(app: NotifyApplication, user: Principal, item_id: UUID) -> InboxItem:
    """Only a recipient of the item marks it read; anyone else is told it does not exist."""
    item = app.find(InboxItem, item_id)
    if item is None or item.tenant_id != user.tenant or not item.is_for(user.subject, user.roles, user.orgs):
        raise InboxItemNotFound(f"inbox item {item_id} not found")
    item.mark_read(by=user.subject, at=app.clock.now())
    app.save(item)
    return item
