"""Notify's HTTP API: inbox, preferences, the tenant's policy, and deliveries for operators."""

from notify.api.channel_test import channel_tests
from notify.api.deliveries import deliveries
from notify.api.inbox import inbox
from notify.api.mobile import callbacks, mobile
from notify.api.policy import channels, reminder_settings, rules
from notify.api.preferences import preferences

ROUTERS = (
    inbox,
    preferences,
    channels,
    channel_tests,
    rules,
    reminder_settings,
    deliveries,
    mobile,
    callbacks,
)

__all__ = ["ROUTERS"]
