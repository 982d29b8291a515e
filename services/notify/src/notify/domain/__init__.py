"""Notify aggregates."""

from notify.domain.inbox import AlreadyRead, InboxItem, InboxItemNotFound, notification_id

__all__ = ["AlreadyRead", "InboxItem", "InboxItemNotFound", "notification_id"]
