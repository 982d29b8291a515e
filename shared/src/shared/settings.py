"""Settings every service reads from its environment, built once in create_app and passed down."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal
from urllib.parse import urlparse

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[3]
PLACEHOLDERS = {"", "changeme", "change-me", "secret", "placeholder"}


class BaseServiceSettings(BaseSettings):
    """Environment of one service process. Unprefixed names: each service runs in its own process."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)
    # transfer and notify read the registry with their own OAuth2 client (shared.oauth).
    calls_registry: ClassVar[bool] = False

    service_name: str = Field(default="", description="set by each service's subclass")
    lianxin_env: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8100

    database_url: str = Field(description="application role: DML only, subject to row-level security")
    database_owner_url: str | None = Field(
        default=None, description="owner role used for migrations at start-up; defaults to DATABASE_URL"
    )
    nats_url: str = "nats://127.0.0.1:14222"
    jetstream_config: Path = REPO_ROOT / "deploy" / "nats" / "jetstream.json"

    cipher_key: str = Field(description="base64 AES key encrypting event state at rest")
    platform_secret: str = Field(description="HMAC secret for person keys and idempotency hashing")

    audit_signing_key: str = Field(
        default="", description="base64 Ed25519 seed signing audit checkpoints; required in production"
    )
    audit_trusted_keys: str = Field(
        default="", description="comma-separated earlier audit public keys (base64)"
    )
    audit_checkpoint_seconds: float = Field(
        default=60, gt=0, le=60, description="a signed checkpoint at least this often"
    )
    audit_verify_seconds: float = Field(
        default=300, gt=0, description="how often the service walks its own log"
    )

    auth_issuer: str = "lianxin-dev"
    auth_audience: str = "lianxin"
    auth_public_key_file: Path | None = None
    auth_jwks_url: str | None = None
    auth_algorithms: str = "EdDSA"
    auth_token_url: str | None = Field(
        default=None, description="the provider's token endpoint; empty: from the issuer's discovery document"
    )
    auth_service_clients: str = Field(
        default="lianxin-transfer,lianxin-notify",
        description="OAuth2 client ids whose tokens may carry the `service` role (comma-separated)",
    )
    service_client_id: str | None = Field(
        default=None, description="this service's own client at the provider"
    )
    service_client_secret: str | None = Field(default=None, description="its secret (client credentials)")

    max_body_bytes: int = 1_048_576
    tenant_requests_per_minute: int = Field(
        default=6000, ge=1, description="per tenant and process; then 429"
    )
    relay_batch_size: int = 500
    db_pool_size: int = 5
    db_max_overflow: int = 10
    log_level: str = "INFO"
    otel_exporter_otlp_endpoint: str | None = None
    test_clock: bool = Field(default=False, description="lets tests move time; refused in production")
    test_clock_shift_seconds: float = Field(
        default=0.0, description="with TEST_CLOCK: the service's time runs this far from the machine's"
    )

    @property
    def owner_url(self) -> str:
        return self.database_owner_url or self.database_url

    @property
    def service_clients(self) -> frozenset[str]:
        return frozenset(c.strip() for c in self.auth_service_clients.split(",") if c.strip())

    @property
    def algorithms(self) -> list[str]:
        return [a.strip() for a in self.auth_algorithms.split(",") if a.strip()]

    @model_validator(mode="after")
    def _refuse_unsafe(self) -> BaseServiceSettings:
        if self.lianxin_env == "production":
            if self.test_clock or self.test_clock_shift_seconds:
                raise ValueError("TEST_CLOCK cannot be enabled in production")
            for name in ("cipher_key", "platform_secret"):
                if getattr(self, name).strip().lower() in PLACEHOLDERS:
                    raise ValueError(f"{name.upper()} is a placeholder; set a real secret in production")
            if not self.audit_signing_key:
                raise ValueError(
                    "AUDIT_SIGNING_KEY is required in production (it signs the audit checkpoints)"
                )
            if not self.auth_jwks_url:
                raise ValueError(
                    "AUTH_JWKS_URL is required in production (tokens come from the OIDC provider)"
                )
            self._refuse_unsafe_identity()
        if not self.auth_jwks_url and not self.auth_public_key_file:
            raise ValueError("set AUTH_PUBLIC_KEY_FILE (development) or AUTH_JWKS_URL (production)")
        if "none" in {a.lower() for a in self.algorithms}:
            raise ValueError("AUTH_ALGORITHMS may not contain 'none'")
        return self

    def _refuse_unsafe_identity(self) -> None:
        if self.auth_issuer == "lianxin-dev" or not urlparse(self.auth_issuer).scheme.startswith("http"):
            raise ValueError(
                f"AUTH_ISSUER must be the OpenID provider's issuer URL in production, not "
                f"{self.auth_issuer!r}"
            )
        if self.auth_public_key_file is not None:
            raise ValueError(
                "AUTH_PUBLIC_KEY_FILE (a local signing key) is refused in production: use AUTH_JWKS_URL"
            )
        if self.calls_registry:
            if not self.service_client_id:
                raise ValueError(
                    f"SERVICE_CLIENT_ID is required in production: {self.service_name} reads the "
                    "registry with its own OAuth2 client (client credentials)"
                )
            if (self.service_client_secret or "").strip().lower() in PLACEHOLDERS:
                raise ValueError(
                    "SERVICE_CLIENT_SECRET is missing or a placeholder; set the client's secret from "
                    "the OpenID provider"
                )
