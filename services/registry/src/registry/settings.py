"""Registry settings."""

from __future__ import annotations

from shared.settings import BaseServiceSettings


class RegistrySettings(BaseServiceSettings):
    service_name: str = "registry"
    port: int = 8101
