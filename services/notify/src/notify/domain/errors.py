"""Notify's error hierarchy; each maps to one problem type."""

from __future__ import annotations

from shared.errors import Conflict, Invalid, NotFound


class InboxItemNotFound(NotFound):
    type = "inbox-item-not-found"


class DeliveryNotFound(NotFound):
    type = "delivery-not-found"


class NotDeadLettered(Conflict):
    type = "delivery-not-dead-lettered"


class ChannelNotFound(NotFound):
    type = "channel-not-found"


class UnknownRule(NotFound):
    type = "rule-not-found"


class InvalidChannel(Invalid):
    type = "invalid-channel"


class InvalidPreferences(Invalid):
    type = "invalid-preferences"


class InvalidMobileSettings(Invalid):
    type = "invalid-mobile-settings"


class LinkRefused(Invalid):
    type = "wechat-link-refused"
