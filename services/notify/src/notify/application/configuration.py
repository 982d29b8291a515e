"""Use cases of configuration: a tenant's policy (channels, rule overrides, reminder interval), a member's
preferences. Secrets and addresses are sealed here, before they reach an event."""

from __future__ import annotations

from notify.application.base import NotifyBase
from notify.application.templates import LANGUAGES
from notify.channels.webhooks import PRESETS
from notify.domain import (
    ChannelConfig,
    InvalidChannel,
    InvalidPreferences,
    RecipientPreferences,
    RuleOverride,
    TenantPolicy,
    UnknownRule,
)
from notify.domain.rules import CHANNELS, RULES_BY_NAME


class Configuration(NotifyBase):
    # A tenant's policy.

    def configure_channel(
        self,
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
        policy = self._policy_or_open(tenant_id)
        policy.configure_channel(
            ChannelConfig(
                name=name,
                kind=kind,
                role=role,
                org_id=org_id,
                url=url if kind == "webhook" else None,
                preset=preset if kind == "webhook" else None,
                secret=self.box.seal(secret, context=context) if secret and kind == "webhook" else None,
                address=self.box.seal(address, context=context) if address and kind == "email" else None,
                language=language,
                quiet_hours=quiet_hours,
            ),
            by=by,
        )
        self.save(policy)
        return policy

    def remove_channel(self, tenant_id: str, name: str, *, by: str) -> TenantPolicy:
        policy = self._policy_or_open(tenant_id)
        policy.remove_channel(name, by=by)
        self.save(policy)
        return policy

    def override_rule(
        self,
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
        policy = self._policy_or_open(tenant_id)
        policy.override_rule(
            rule,
            RuleOverride(
                enabled, tuple(channels) if channels is not None else None, tuple(required_channels)
            ),
            by=by,
        )
        self.save(policy)
        return policy

    def set_reminder_interval(self, tenant_id: str, days: int, *, by: str) -> TenantPolicy:
        policy = self._policy_or_open(tenant_id)
        policy.set_reminder_interval(days, by=by)
        self.save(policy)
        return policy

    def _policy_or_open(self, tenant_id: str) -> TenantPolicy:
        return self.policy_of(tenant_id) or TenantPolicy.open(tenant_id)

    # A member's preferences.

    def set_preferences(
        self,
        tenant_id: str,
        subject: str,
        *,
        language: str,
        channels: list[str],
        quiet_hours: dict[str, str] | None,
        email: str | None,
    ) -> RecipientPreferences:
        if language not in LANGUAGES:
            raise InvalidPreferences(f"language is one of {', '.join(LANGUAGES)}", field="language")
        if "email" in channels and not email:
            raise InvalidPreferences("choosing email needs an email address", field="email")
        unknown = sorted(set(channels) - {"inbox", "email"})
        if unknown:
            raise InvalidPreferences(
                f"a member chooses among inbox and email, not {unknown}", field="channels"
            )
        sealed = self.box.seal(email, context=f"{tenant_id}|email|{subject}") if email else None
        prefs = self.preferences_of(tenant_id, subject)
        if prefs is None:
            prefs = RecipientPreferences.state(
                tenant_id=tenant_id,
                subject=subject,
                language=language,
                channels=channels,
                quiet_hours=quiet_hours,
                email=sealed,
            )
        else:
            prefs.change(language=language, channels=channels, quiet_hours=quiet_hours, email=sealed)
        self.save(prefs)
        return prefs

    def email_of(self, prefs: RecipientPreferences) -> str | None:
        if not prefs.email:
            return None
        return self.box.open(prefs.email, context=f"{prefs.tenant_id}|email|{prefs.subject}")
