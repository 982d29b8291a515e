"""What every notify router shares: the application dependency, role aliases, strict request models."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from pydantic import AfterValidator, Field

from notify.application import NotifyApplication
from notify.domain.quiet import DEFAULT_TIMEZONE, check_timezone
from notify.settings import NotifySettings
from shared.auth import Principal, require_roles
from shared.runtime import Runtime, RuntimeDep
from shared.text import StrictModel


def notify_runtime(runtime: RuntimeDep) -> Runtime[NotifyApplication, NotifySettings]:
    """The runtime of this process, typed: main.py declares notify's parts with these two classes."""
    return runtime


async def notify_app(runtime: RuntimeDep) -> NotifyApplication:
    return notify_runtime(runtime).app


async def notify_settings(runtime: RuntimeDep) -> NotifySettings:
    return notify_runtime(runtime).settings


Notify = Annotated[NotifyApplication, Depends(notify_app)]
Settings = Annotated[NotifySettings, Depends(notify_settings)]
Admins = Annotated[Principal, require_roles("committee", "tenant_admin")]
Operators = Annotated[Principal, require_roles("operator", "tenant_admin")]

HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"


class Strict(StrictModel):
    """Request models: the shared text rules (no control characters), unknown fields refused."""


class QuietHoursIn(Strict):
    start: str = Field(pattern=HHMM, examples=["22:00"])
    end: str = Field(pattern=HHMM, examples=["07:30"])
    timezone: Annotated[str, AfterValidator(check_timezone)] = Field(
        default=DEFAULT_TIMEZONE, max_length=64, description="an IANA time zone name"
    )
