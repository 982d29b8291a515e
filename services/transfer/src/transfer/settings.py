"""Transfer settings."""

from __future__ import annotations

from shared.settings import BaseServiceSettings


class TransferSettings(BaseServiceSettings):
    service_name: str = "transfer"
    port: int = 8102
