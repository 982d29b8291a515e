"""Transfer settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from shared.settings import BaseServiceSettings


class TransferSettings(BaseServiceSettings):
    service_name: str = "transfer"
    port: int = 8102
    registry_url: str = "http://127.0.0.1:8101"
    public_base_url: str = Field(default="http://127.0.0.1:8102",
                                 description="printed in the QR code of every letter: where anyone verifies it")
    public_requests_per_minute: int = Field(
        default=60, ge=1, description="per client address and process on the public letter endpoints; then 429")
    service_key_file: Path | None = Field(
        default=None, description="signs the service's short-lived tokens to the registry; development falls back "
                                  "to the dev signing key beside AUTH_PUBLIC_KEY_FILE")

    def service_key(self) -> Path | None:
        if self.service_key_file is not None:
            return self.service_key_file
        if self.lianxin_env == "production" or self.auth_public_key_file is None:
            return None
        candidate = self.auth_public_key_file.with_name("dev-signing-key.pem")
        return candidate if candidate.exists() else None
