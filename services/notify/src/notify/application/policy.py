"""Use cases of a tenant's policy: its channels, rule overrides and reminder interval. A channel's secret and
address are sealed here, before they reach an event."""

from __future__ import annotations

from typing import TYPE_CHECKING

from notify.application.templates import LANGUAGES
from notify.channels.webhooks import PRESETS
from notify.domain import ChannelConfig, InvalidChannel, RuleOverride, TenantPolicy, UnknownRule
from notify.domain.rules import CHANNELS, RULES_BY_NAME

if TYPE_CHECKING:
    from notify.application import NotifyApplication


def configure_channel(
    app: NotifyApplication,
    tenant_id: str,
    *,
    name: str,
    kind: str,
    role: str,
    org_id: str | None,
    url: str | None,
    preset: str | None,
    secret: str | None,
    address: str | None,
    language: str,
    quiet_hours: dict[str, str] | None,
    by: str,
) -> TenantPolicy:
    if kind == "webhook" and (not url or preset not in PRESETS):
        raise InvalidChannel(f"a webhook needs a url and a preset ({', '.join(PRESETS)})", field="preset")
    if kind == "webhook" and preset != "wecom" and not secret:
        raise InvalidChannel(f"a {preset} webhook is signed: give its secret", field="secret")
    if kind == "email" and not address:
        raise InvalidChannel("an email channel needs an address", field="address")
    if language not in LANGUAGES:
        raise InvalidChannel(f"language is one of {', '.join(LANGUAGES)}", field="language")
    context = f"{tenant_id}|channel|{name}"
    policy = _policy_or_open(app, tenant_id)
    policy.configure_channel(
        ChannelConfig(
            name=name,
            kind=kind,
            role=role,
            org_id=org_id,
            url=url if kind == "webhook" else None,
            preset=preset if kind == "webhook" else None,
            secret=app.box.seal(secret, context=context) if secret and kind == "webhook" else None,
            address=app.box.seal(address, context=context) if address and kind == "email" else None,
            language=language,
            quiet_hours=quiet_hours,
        ),
        by=by,
    )
    app.save(policy)
    return policy


def remove_channel(app: NotifyApplication, tenant_id: str, name: str, *, by: str) -> TenantPolicy:
    policy = _policy_or_open(app, tenant_id)
    policy.remove_channel(name, by=by)
    app.save(policy)
    return policy


def override_rule(
    app: NotifyApplication,
    tenant_id: str,
    rule: str,
    *,
    enabled: bool,
    channels: list[str] | None,
    required_channels: list[str],
    by: str,
) -> TenantPolicy:
    if rule not in RULES_BY_NAME:
        raise UnknownRule(f"no rule named {rule!r}")
    for field, values in (("channels", channels or []), ("required_channels", required_channels)):
        unknown = sorted(set(values) - set(CHANNELS))
        if unknown:
            raise InvalidChannel(
                f"unknown channels {unknown}; channels are {', '.join(CHANNELS)}", field=field
            )
    policy = _policy_or_open(app, tenant_id)
    policy.override_rule(
        rule,
        RuleOverride(enabled, tuple(channels) if channels is not None else None, tuple(required_channels)),
        by=by,
    )
    app.save(policy)
    return policy


def set_reminder_interval(app: NotifyApplication, tenant_id: str, days: int, *, by: str) -> TenantPolicy:
    policy = _policy_or_open(app, tenant_id)
    policy.set_reminder_interval(days, by=by)
    app.save(policy)
    return policy


def _policy_or_open(app: NotifyApplication, tenant_id: str) -> TenantPolicy:
    return app.policy_of(tenant_id) or TenantPolicy.open(tenant_id)
