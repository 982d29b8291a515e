"""From one event (or one reminder firing) to the notifications it causes: recipients, channels, languages.

Reads the tenants' policies and the members' preferences once per event; renders each language once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.domain import Aggregate

from notify.application.directory import Directory
from notify.application.templates import DEFAULT_LANGUAGE, Rendered, language_of, render
from notify.domain import Delivery, InboxItem, RecipientPreferences, TenantPolicy, notification_id
from notify.domain.preferences import DEFAULT_CHANNELS
from notify.domain.quiet import QuietHours, next_allowed
from notify.domain.rules import Recipient, Rule, owning_tenant


class Lookups(Protocol):
    def policy_of(self, tenant_id: str) -> TenantPolicy | None: ...

    def preferences_of(self, tenant_id: str, subject: str) -> RecipientPreferences | None: ...

    def exists(self, aggregate_id: UUID) -> bool: ...


@dataclass(frozen=True)
class Occasion:
    """What is being notified: an upstream event, or the nth firing of a reminder."""

    tenant: str
    event_id: str
    event_type: str
    subject_id: str
    data: Mapping[str, Any]
    reminder_id: str | None = None
    occurrence: int | None = None


def named_key(tenant: str, data: Mapping[str, Any]) -> tuple[str, str] | None:
    """The tenant to ask and the member whose name a notice of this event shows, if it names one."""
    member_id = data.get("member_id")
    if not member_id:
        return None
    return owning_tenant(tenant, data), str(member_id)


class Planner:
    def __init__(
        self,
        lookups: Lookups,
        directory: Directory,
        *,
        now: datetime,
        max_attempts: int,
        names: Mapping[tuple[str, str], str | None] | None = None,
    ) -> None:
        self.lookups = lookups
        self.directory = directory
        self.now = now
        self.max_attempts = max_attempts
        self._policies: dict[str, TenantPolicy | None] = {}
        # (tenant, member id) -> name: what the consumer read for the whole run beforehand (RunNames), the rest
        # asked of the directory one member at a time.
        self._names: dict[tuple[str, str], str | None] = dict(names or {})

    def policy(self, tenant: str) -> TenantPolicy | None:
        if tenant not in self._policies:
            self._policies[tenant] = self.lookups.policy_of(tenant)
        return self._policies[tenant]

    def notifications(self, rule: Rule, occasion: Occasion) -> list[Aggregate]:
        return self.not_yet_stored(self.plan(rule, occasion))

    def plan(self, rule: Rule, occasion: Occasion) -> list[Aggregate]:
        """The notifications of the rule for the occasion, whether or not they exist already."""
        planned: list[Aggregate] = []
        for recipient in rule.recipients(occasion.tenant, occasion.data):
            planned.extend(self._for_recipient(rule, occasion, recipient))
        return planned

    def not_yet_stored(self, planned: list[Aggregate]) -> list[Aggregate]:
        # Redelivery of an already applied event under a new position must not collide with what exists.
        return [a for a in planned if not self.lookups.exists(a.id)]

    def _for_recipient(self, rule: Rule, occasion: Occasion, recipient: Recipient) -> list[Aggregate]:
        policy = self.policy(recipient.tenant)
        override = policy.overrides.get(rule.name) if policy else None
        if override is not None and not override.enabled:
            return []
        channels = (
            override.channels if override is not None and override.channels is not None else rule.channels
        )
        required = override.required_channels if override is not None else ()
        key = recipient.key(occasion.tenant)
        prefs = (
            self.lookups.preferences_of(recipient.tenant, recipient.subject) if recipient.subject else None
        )
        if recipient.subject:
            chosen = prefs.channels if prefs else list(DEFAULT_CHANNELS)
            channels = tuple(c for c in channels if c in chosen or c in required)
        out: list[Aggregate] = []
        for channel in channels:
            if channel == "inbox":
                out.append(self._inbox(rule, occasion, recipient, key))
            elif recipient.subject:
                if channel == "email" and prefs is not None and prefs.email:
                    out.append(
                        self._delivery(
                            rule,
                            occasion,
                            recipient,
                            key,
                            "email",
                            "member",
                            prefs.language,
                            QuietHours.from_dict(prefs.quiet_hours),
                        )
                    )
            elif policy is not None:
                for config in policy.channels_for(channel, recipient.role, recipient.org):
                    out.append(
                        self._delivery(
                            rule,
                            occasion,
                            recipient,
                            key,
                            channel,
                            config.name,
                            config.language,
                            QuietHours.from_dict(config.quiet_hours),
                        )
                    )
        return out

    def render(self, rule: Rule, occasion: Occasion, language: str) -> Rendered:
        return self._render(rule, occasion, language)

    def member_name(self, occasion: Occasion) -> str | None:
        return self._member_name(occasion)

    def named_member(self, occasion: Occasion) -> str | None:
        """The member whose name a rendering of this occasion shows (its key seals title and body), if any."""
        return str(occasion.data["member_id"]) if self._member_name(occasion) else None

    def _render(self, rule: Rule, occasion: Occasion, language: str) -> Rendered:
        return render(
            rule.template,
            language,
            occasion.data,
            member_name=self._member_name(occasion),
            link=rule.link,
            occurrence=occasion.occurrence,
        )

    def _member_name(self, occasion: Occasion) -> str | None:
        key = named_key(occasion.tenant, occasion.data)
        if key is None:
            return None
        tenant, member_id = key
        if key not in self._names:
            self._names[key] = self.directory.member_name(tenant, UUID(member_id))
        return self._names[key]

    def _inbox(self, rule: Rule, occasion: Occasion, recipient: Recipient, key: str) -> InboxItem:
        language = DEFAULT_LANGUAGE
        if recipient.subject:
            prefs = self.lookups.preferences_of(recipient.tenant, recipient.subject)
            language = language_of(prefs.language if prefs else None)
        rendered = self._render(rule, occasion, language)
        return InboxItem.deliver(
            recipient_key=key,
            tenant_id=recipient.tenant,
            rule=rule.name,
            recipient_role="person" if recipient.subject else recipient.role,
            recipient_org=recipient.org,
            recipient_subject=recipient.subject,
            event_type=occasion.event_type,
            event_id=occasion.event_id,
            subject_id=occasion.subject_id,
            title=rendered.title,
            body=rendered.body,
            link=rendered.link,
            named_member=self.named_member(occasion),
        )

    def _delivery(
        self,
        rule: Rule,
        occasion: Occasion,
        recipient: Recipient,
        key: str,
        channel: str,
        destination: str,
        language: str,
        quiet: QuietHours | None,
    ) -> Delivery:
        language = language_of(language)
        rendered = self._render(rule, occasion, language)
        return Delivery(
            id=notification_id(rule.name, occasion.event_id, key, f"{channel}:{destination}"),
            tenant_id=recipient.tenant,
            rule=rule.name,
            event_type=occasion.event_type,
            event_id=occasion.event_id,
            recipient=key,
            channel=channel,
            destination=destination,
            language=language,
            title=rendered.title,
            body=rendered.body,
            link=rendered.link,
            due_at=next_allowed(self.now, quiet),
            max_attempts=self.max_attempts,
            reminder_id=occasion.reminder_id,
            named_member=self.named_member(occasion),
        )
