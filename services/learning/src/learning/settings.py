"""Learning settings."""

from __future__ import annotations

from shared.settings import BaseServiceSettings


class LearningSettings(BaseServiceSettings):
    service_name: str = "learning"
    port: int = 8103
