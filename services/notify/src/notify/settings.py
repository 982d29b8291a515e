"""Notify settings."""

from __future__ import annotations

from shared.settings import BaseServiceSettings


class NotifySettings(BaseServiceSettings):
    service_name: str = "notify"
    port: int = 8104
