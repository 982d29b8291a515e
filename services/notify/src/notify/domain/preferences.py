"""What a member chose: language, channels and quiet hours, and an email address (stored as ciphertext)."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

PREFERENCES_NAMESPACE = UUID("5e2b8d1c-7f3a-4e6b-8c9d-2a1b0f3e4d57")
DEFAULT_LANGUAGE = "zh-CN"
DEFAULT_CHANNELS = ("inbox",)


def preferences_id(tenant_id: str, subject: str) -> UUID:
    return uuid5(PREFERENCES_NAMESPACE, f"prefs|{tenant_id}|{subject}")


class RecipientPreferences(Aggregate):
    TOPIC = "lianxin.notify.RecipientPreferences"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.notify.RecipientPreferences.Created"

    class Stated(Created):
        TOPIC = "lianxin.notify.RecipientPreferences.Stated"
        tenant_id: str
        subject: str
        language: str
        channels: list[str]
        quiet_hours: dict[str, str] | None
        email: str | None

    class Changed(Event):
        TOPIC = "lianxin.notify.RecipientPreferences.Changed"
        language: str
        channels: list[str]
        quiet_hours: dict[str, str] | None
        email: str | None

    @event(Stated)
    def __init__(
        self,
        *,
        id: UUID,
        tenant_id: str,
        subject: str,
        language: str,
        channels: list[str],
        quiet_hours: dict[str, str] | None,
        email: str | None,
    ) -> None:
        self.tenant_id = tenant_id
        self.subject = subject
        self._set(language, channels, quiet_hours, email)

    def _set(
        self, language: str, channels: list[str], quiet_hours: dict[str, str] | None, email: str | None
    ) -> None:
        self.language = language
        self.channels = list(channels)
        self.quiet_hours = quiet_hours
        self.email = email

    @classmethod
    def state(cls, *, tenant_id: str, subject: str, **choices: Any) -> RecipientPreferences:
        return cls(id=preferences_id(tenant_id, subject), tenant_id=tenant_id, subject=subject, **choices)

    def change(
        self, *, language: str, channels: list[str], quiet_hours: dict[str, str] | None, email: str | None
    ) -> None:
        if (language, list(channels), quiet_hours, email) != (
            self.language,
            self.channels,
            self.quiet_hours,
            self.email,
        ):
            self._changed(language=language, channels=list(channels), quiet_hours=quiet_hours, email=email)

    @event(Changed)
    def _changed(
        self, language: str, channels: list[str], quiet_hours: dict[str, str] | None, email: str | None
    ) -> None:
        self._set(language, channels, quiet_hours, email)
