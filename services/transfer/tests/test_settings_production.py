"""transfer in production: its own OAuth2 client and its public address are required, by name."""

from __future__ import annotations

import pytest

from transfer.settings import TransferSettings

PRODUCTION = {
    "lianxin_env": "production",
    "database_url": "postgresql://x@db/x",
    "cipher_key": "k" * 44,
    "platform_secret": "p" * 32,
    "auth_issuer": "https://sso.example.org/realms/lianxin",
    "auth_jwks_url": "https://sso.example.org/realms/lianxin/protocol/openid-connect/certs",
    "public_base_url": "https://letters.example.org",
    "service_client_id": "lianxin-transfer",
    "service_client_secret": "s3cr3t-from-the-provider",
    "audit_signing_key": "Y2hlY2twb2ludC1zaWduaW5nLWtleS10cmFuc2ZlciE=",
}


def test_a_complete_production_environment_loads() -> None:
    assert TransferSettings(**PRODUCTION).service_client_id == "lianxin-transfer"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"service_client_id": None}, "SERVICE_CLIENT_ID is required in production"),
        ({"service_client_secret": "changeme"}, "SERVICE_CLIENT_SECRET is missing or a placeholder"),
        ({"service_client_secret": None}, "SERVICE_CLIENT_SECRET is missing or a placeholder"),
        ({"public_base_url": "http://127.0.0.1:8102"}, "PUBLIC_BASE_URL is required in production"),
    ],
)
def test_each_missing_setting_is_named(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TransferSettings(**{**PRODUCTION, **change})  # type: ignore[arg-type]


def test_the_process_names_every_setting_to_fix_instead_of_a_traceback() -> None:
    import os
    import subprocess
    import sys

    env = {
        k: v
        for k, v in os.environ.items()
        if k.upper() not in {n.upper() for n in TransferSettings.model_fields}
    }
    env.update(LIANXIN_ENV="production", CIPHER_KEY="changeme")
    result = subprocess.run(
        [sys.executable, "-m", "transfer"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.startswith("transfer cannot start; fix these settings:")
    assert (
        "DATABASE_URL: Field required" in result.stderr and "PLATFORM_SECRET: Field required" in result.stderr
    )
    assert "Traceback" not in result.stderr
