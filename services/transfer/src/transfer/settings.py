"""Transfer settings."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, model_validator

from shared.settings import BaseServiceSettings


class TransferSettings(BaseServiceSettings):
    service_name: str = "transfer"
    calls_registry: ClassVar[bool] = True
    port: int = 8102
    registry_url: str = "http://127.0.0.1:8101"
    public_base_url: str = Field(
        default="http://127.0.0.1:8102",
        description="printed in the QR code of every letter: where anyone verifies it",
    )
    public_requests_per_minute: int = Field(
        default=60,
        ge=1,
        description="per client address and process on the public letter endpoints; then 429",
    )
    service_key_file: Path | None = Field(
        default=None,
        description="signs the service's short-lived tokens to the registry; development falls back "
        "to the dev signing key beside AUTH_PUBLIC_KEY_FILE",
    )

    @model_validator(mode="after")
    def _public_address(self) -> TransferSettings:
        if self.lianxin_env == "production" and self.public_base_url == "http://127.0.0.1:8102":
            raise ValueError(
                "PUBLIC_BASE_URL is required in production: it is printed in every letter's QR code"
            )
        return self

    def service_key(self) -> Path | None:
        if self.service_key_file is not None:
            return self.service_key_file
        if self.lianxin_env == "production" or self.auth_public_key_file is None:
            return None
        candidate = self.auth_public_key_file.with_name("dev-signing-key.pem")
        return candidate if candidate.exists() else None
