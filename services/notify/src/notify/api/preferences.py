"""A member's own preferences: the token's subject is the recipient (`member:<member_id>` for members)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from notify.api.common import Notify, QuietHoursIn, Strict
from notify.domain.preferences import DEFAULT_CHANNELS, DEFAULT_LANGUAGE
from shared.auth import CurrentUser
from shared.threads import run_sync


class PreferencesIn(Strict):
    language: Literal["zh-CN", "en"] = "zh-CN"
    channels: list[Literal["inbox", "email"]] = Field(default=["inbox"])
    quiet_hours: QuietHoursIn | None = None
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")


class PreferencesOut(BaseModel):
    subject: str
    language: str
    channels: list[str]
    quiet_hours: dict[str, str] | None
    email: str | None = Field(description="masked")


preferences = APIRouter(prefix="/v1/preferences", tags=["preferences"])


def _mask(email: str | None) -> str | None:
    if not email:
        return None
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


@preferences.get("/me", response_model=PreferencesOut, summary="The caller's notification preferences")
async def get_preferences(user: CurrentUser, notify: Notify) -> PreferencesOut:
    prefs = await run_sync(notify.preferences_of, user.tenant, user.subject)
    if prefs is None:
        return PreferencesOut(
            subject=user.subject,
            language=DEFAULT_LANGUAGE,
            channels=list(DEFAULT_CHANNELS),
            quiet_hours=None,
            email=None,
        )
    return PreferencesOut(
        subject=user.subject,
        language=prefs.language,
        channels=prefs.channels,
        quiet_hours=prefs.quiet_hours,
        email=_mask(notify.email_of(prefs)),
    )


@preferences.put(
    "/me", response_model=PreferencesOut, summary="Set the caller's language, channels, quiet hours"
)
async def put_preferences(body: PreferencesIn, user: CurrentUser, notify: Notify) -> PreferencesOut:
    prefs = await run_sync(
        notify.set_preferences,
        user.tenant,
        user.subject,
        language=body.language,
        channels=list(body.channels),
        quiet_hours=body.quiet_hours.model_dump() if body.quiet_hours else None,
        email=body.email,
    )
    return PreferencesOut(
        subject=user.subject,
        language=prefs.language,
        channels=prefs.channels,
        quiet_hours=prefs.quiet_hours,
        email=_mask(body.email),
    )
