"""A tenant's notification policy: its channels (webhooks, mailboxes), rule overrides and reminder interval.

Channel secrets and addresses arrive here already encrypted (AES-GCM under CIPHER_KEY): events and tables only
ever hold the ciphertext, and the API never returns it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from notify.domain.errors import ChannelNotFound

POLICY_NAMESPACE = UUID("0d6f7a52-8c1e-4b4f-9a53-1f0e2c7d9b18")
DEFAULT_REMINDER_INTERVAL_DAYS = 7


def policy_id(tenant_id: str) -> UUID:
    return uuid5(POLICY_NAMESPACE, f"policy|{tenant_id}")


@dataclass(frozen=True)
class ChannelConfig:
    """Where email or a webhook for everyone holding `role` (in `org_id`, or anywhere in the tenant) goes."""

    name: str
    kind: str  # "webhook" | "email"
    role: str
    org_id: str | None
    url: str | None
    preset: str | None  # webhook body: "generic" | "wecom" | "dingtalk"
    secret: str | None  # ciphertext
    address: str | None  # ciphertext
    language: str
    quiet_hours: dict[str, str] | None

    def serves(self, kind: str, role: str, org_id: str | None) -> bool:
        return self.kind == kind and self.role == role and (self.org_id is None or self.org_id == org_id)


@dataclass(frozen=True)
class RuleOverride:
    enabled: bool
    channels: tuple[str, ...] | None  # None: the rule's default channels
    required_channels: tuple[str, ...]  # members cannot opt out of these


class TenantPolicy(Aggregate):
    TOPIC = "lianxin.notify.TenantPolicy"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.notify.TenantPolicy.Created"

    class Opened(Created):
        TOPIC = "lianxin.notify.TenantPolicy.Opened"
        tenant_id: str

    class ChannelConfigured(Event):
        TOPIC = "lianxin.notify.TenantPolicy.ChannelConfigured"
        channel: dict[str, Any]
        by: str

    class ChannelRemoved(Event):
        TOPIC = "lianxin.notify.TenantPolicy.ChannelRemoved"
        name: str
        by: str

    class RuleOverridden(Event):
        TOPIC = "lianxin.notify.TenantPolicy.RuleOverridden"
        rule: str
        enabled: bool
        channels: list[str] | None
        required_channels: list[str]
        by: str

    class ReminderIntervalSet(Event):
        TOPIC = "lianxin.notify.TenantPolicy.ReminderIntervalSet"
        days: int
        by: str

    @event(Opened)
    def __init__(self, *, id: UUID, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.channels: dict[str, ChannelConfig] = {}
        self.overrides: dict[str, RuleOverride] = {}
        self.reminder_interval_days = DEFAULT_REMINDER_INTERVAL_DAYS

    @classmethod
    def open(cls, tenant_id: str) -> TenantPolicy:
        return cls(id=policy_id(tenant_id), tenant_id=tenant_id)

    def configure_channel(self, channel: ChannelConfig, *, by: str) -> None:
        if self.channels.get(channel.name) != channel:
            self._channel_configured(channel=vars(channel) | {}, by=by)

    @event(ChannelConfigured)
    def _channel_configured(self, channel: dict[str, Any], by: str) -> None:
        self.channels[channel["name"]] = ChannelConfig(**channel)

    def remove_channel(self, name: str, *, by: str) -> None:
        if name not in self.channels:
            raise ChannelNotFound(f"channel {name!r} not found")
        self._channel_removed(name=name, by=by)

    @event(ChannelRemoved)
    def _channel_removed(self, name: str, by: str) -> None:
        self.channels.pop(name, None)

    def override_rule(self, rule: str, override: RuleOverride, *, by: str) -> None:
        if self.overrides.get(rule) != override:
            self._rule_overridden(
                rule=rule,
                enabled=override.enabled,
                channels=list(override.channels) if override.channels is not None else None,
                required_channels=list(override.required_channels),
                by=by,
            )

    @event(RuleOverridden)
    def _rule_overridden(
        self, rule: str, enabled: bool, channels: list[str] | None, required_channels: list[str], by: str
    ) -> None:
        self.overrides[rule] = RuleOverride(
            enabled, tuple(channels) if channels is not None else None, tuple(required_channels)
        )

    def set_reminder_interval(self, days: int, *, by: str) -> None:
        if days != self.reminder_interval_days:
            self._reminder_interval_set(days=days, by=by)

    @event(ReminderIntervalSet)
    def _reminder_interval_set(self, days: int, by: str) -> None:
        self.reminder_interval_days = days

    def channels_for(self, kind: str, role: str, org_id: str | None) -> list[ChannelConfig]:
        return [
            c for c in sorted(self.channels.values(), key=lambda c: c.name) if c.serves(kind, role, org_id)
        ]
