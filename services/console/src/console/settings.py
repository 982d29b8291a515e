"""Console settings: where the four services and analytics answer, the session key, and (development only) the demo sign-in."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDERS = {"", "changeme", "change-me", "secret", "placeholder", "development-only-session-secret"}


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    service_name: str = "console"
    lianxin_env: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = Field(default=8100, validation_alias=AliasChoices("CONSOLE_PORT", "PORT"))

    registry_url: str = "http://127.0.0.1:8101"
    transfer_url: str = "http://127.0.0.1:8102"
    learning_url: str = "http://127.0.0.1:8103"
    notify_url: str = "http://127.0.0.1:8104"
    analytics_url: str = Field(
        default="http://127.0.0.1:8105",
        description="the statistics behind the desk's charts; optional: without it the charts say so",
    )
    api_timeout_seconds: float = 10.0

    session_secret: str = Field(
        default="development-only-session-secret",
        description="encrypts the session cookie (the person's token is inside it)",
    )
    session_hours: int = Field(default=8, ge=1, le=24)
    secure_cookies: bool = Field(default=False, description="Secure cookies: on behind HTTPS (production)")
    dev_signing_key_file: Path | None = Field(
        default=None,
        description="development only: the key that signs demo people's tokens on the sign-in page",
    )
    demo_tenants: str = "demo-university,demo-district"
    oidc_issuer: str | None = Field(
        default=None,
        description="production sign-in: the OpenID provider the services trust (their AUTH_ISSUER)",
    )
    oidc_client_id: str = "lianxin-console"
    oidc_client_secret: str | None = Field(default=None, description="only for a confidential client")
    oidc_scopes: str = "openid lianxin"
    oidc_audience: str = Field(default="lianxin", description="the access token's audience (AUTH_AUDIENCE)")
    public_url: str | None = Field(
        default=None,
        description="the console's address as browsers see it (the OIDC redirect and logout return to it)",
    )
    test_clock_shift_seconds: float = Field(
        default=0.0,
        description="tests only: the services' test clock runs this far from the machine's, and the "
        "console's 'today' (relative deadlines) follows it; refused in production",
    )
    log_level: str = "INFO"

    @property
    def tenants(self) -> list[str]:
        return [t.strip() for t in self.demo_tenants.split(",") if t.strip()]

    @property
    def dev_sign_in(self) -> bool:
        return self.lianxin_env != "production" and self.dev_signing_key_file is not None

    @model_validator(mode="after")
    def _refuse_unsafe(self) -> ConsoleSettings:
        if self.lianxin_env == "production":
            if self.session_secret.strip().lower() in PLACEHOLDERS:
                raise ValueError("SESSION_SECRET is a placeholder; set a real secret in production")
            if self.dev_signing_key_file is not None:
                raise ValueError("DEV_SIGNING_KEY_FILE is for development; production signs in through OIDC")
            if self.test_clock_shift_seconds:
                raise ValueError("TEST_CLOCK_SHIFT_SECONDS is for tests; production reads the real time")
            if not self.secure_cookies:
                raise ValueError("SECURE_COOKIES must be on in production")
            if not self.oidc_issuer or not self.public_url:
                raise ValueError("OIDC_ISSUER and PUBLIC_URL are needed: production signs in through OIDC")
        return self
