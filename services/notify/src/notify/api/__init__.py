"""Notify's HTTP API: inbox, preferences, the tenant's policy, deliveries for operators, the phone channels
(settings, reports, a member's reach) and the SMS providers' callbacks."""

from notify.api.callbacks import callbacks
from notify.api.channel_test import channel_tests
from notify.api.deliveries import deliveries
from notify.api.inbox import inbox
from notify.api.mobile import mobile
from notify.api.mobile_reports import mobile_reports
from notify.api.policy import channels, reminder_settings, rules
from notify.api.preferences import preferences
from notify.api.reach import member_reach

ROUTERS = (
    inbox,
    preferences,
    channels,
    channel_tests,
    rules,
    reminder_settings,
    deliveries,
    mobile,
    mobile_reports,
    member_reach,
    callbacks,
)

__all__ = ["ROUTERS"]
