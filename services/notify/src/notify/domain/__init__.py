"""Notify's aggregates: inbox items, deliveries, reminders, tenant policies and recipient preferences."""

from notify.domain.delivery import Delivery, DeliveryStatus
from notify.domain.errors import (
    ChannelNotFound,
    DeliveryNotFound,
    InboxItemNotFound,
    InvalidChannel,
    InvalidPreferences,
    NotDeadLettered,
    UnknownRule,
)
from notify.domain.inbox import InboxItem, notification_id
from notify.domain.policy import ChannelConfig, RuleOverride, TenantPolicy, policy_id
from notify.domain.preferences import RecipientPreferences, preferences_id
from notify.domain.reminder import Reminder, reminder_id

__all__ = [
    "ChannelConfig",
    "ChannelNotFound",
    "Delivery",
    "DeliveryNotFound",
    "DeliveryStatus",
    "InboxItem",
    "InboxItemNotFound",
    "InvalidChannel",
    "InvalidPreferences",
    "NotDeadLettered",
    "RecipientPreferences",
    "Reminder",
    "RuleOverride",
    "TenantPolicy",
    "UnknownRule",
    "notification_id",
    "policy_id",
    "preferences_id",
    "reminder_id",
]
