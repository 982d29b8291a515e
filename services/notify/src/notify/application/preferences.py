"""Use cases of a member's preferences: language, channels, quiet hours, and the email address (sealed here,
before it reaches an event)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from notify.application.templates import LANGUAGES
from notify.domain import InvalidPreferences, RecipientPreferences

if TYPE_CHECKING:
    from notify.application import NotifyApplication


def set_preferences(
    app: NotifyApplication,
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
        raise InvalidPreferences(f"a member chooses among inbox and email, not {unknown}", field="channels")
    sealed = app.box.seal(email, context=f"{tenant_id}|email|{subject}") if email else None
    prefs = app.preferences_of(tenant_id, subject)
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
    app.save(prefs)
    return prefs


def email_of(app: NotifyApplication, prefs: RecipientPreferences) -> str | None:
    if not prefs.email:
        return None
    return app.box.open(prefs.email, context=f"{prefs.tenant_id}|email|{prefs.subject}")
