"""Token verification per RFC 8725: allow-listed algorithm, issuer, audience, expiry; forgeries refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

import anyio.to_thread
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from shared.auth import Principal, TokenVerifier, ensure_dev_keypair, issue_dev_token, require_roles
from shared.errors import Unauthorized
from shared.http import create_service_app
from shared.settings import BaseServiceSettings

# The identity provider's and the verifier's clock in these tests: 2026-11-23 10:00 in Beijing.
NOW = 1_795_399_200


def verifier_at(public_key: Path, now: int = NOW) -> TokenVerifier:
    return TokenVerifier(settings(public_key), now=lambda: now)


def settings(public_key: Path) -> BaseServiceSettings:
    return BaseServiceSettings(
        database_url="postgresql://x@127.0.0.1/x",
        cipher_key="k" * 44,
        platform_secret="p" * 32,
        auth_public_key_file=public_key,
    )


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    return ensure_dev_keypair(tmp_path)


def test_a_development_token_verifies_with_tenant_roles_and_orgs(keys: tuple[Path, Path]) -> None:
    token = issue_dev_token(
        keys[0], now=NOW, tenant="demo-university", roles=["committee"], orgs=["o1"], subject="u1"
    )
    principal = verifier_at(keys[1]).verify(token)
    assert (principal.tenant, principal.subject, principal.roles, principal.orgs) == (
        "demo-university",
        "u1",
        frozenset({"committee"}),
        frozenset({"o1"}),
    )


def test_an_expired_token_is_refused(keys: tuple[Path, Path]) -> None:
    token = issue_dev_token(keys[0], now=NOW, tenant="t-1", roles=["member"], ttl_seconds=-10)
    with pytest.raises(Unauthorized, match="expired"):
        verifier_at(keys[1]).verify(token)


def test_a_token_is_refused_once_the_verifiers_clock_passes_its_expiry(keys: tuple[Path, Path]) -> None:
    token = issue_dev_token(keys[0], now=NOW, tenant="t-1", roles=["member"], ttl_seconds=600)
    assert verifier_at(keys[1], NOW + 599).verify(token).tenant == "t-1"
    with pytest.raises(Unauthorized, match="expired"):
        verifier_at(keys[1], NOW + 600).verify(token)
    with pytest.raises(Unauthorized, match="not yet valid"):
        verifier_at(keys[1], NOW - 3600).verify(token)


def test_a_token_signed_by_another_key_is_refused(keys: tuple[Path, Path], tmp_path: Path) -> None:
    other = ensure_dev_keypair(tmp_path / "other")
    token = issue_dev_token(other[0], now=NOW, tenant="t-1", roles=["committee"])
    with pytest.raises(Unauthorized, match="invalid token"):
        verifier_at(keys[1]).verify(token)


def test_a_token_for_another_audience_is_refused(keys: tuple[Path, Path]) -> None:
    token = issue_dev_token(keys[0], now=NOW, tenant="t-1", roles=["committee"], audience="someone-else")
    with pytest.raises(Unauthorized, match=r"(?i)audience"):
        verifier_at(keys[1]).verify(token)


def test_alg_none_is_refused(keys: tuple[Path, Path]) -> None:
    now = NOW
    claims = {
        "iss": "lianxin-dev",
        "aud": "lianxin",
        "sub": "u",
        "tenant": "t-1",
        "roles": ["committee"],
        "iat": now,
        "exp": now + 60,
    }
    token = jwt.encode(claims, None, algorithm="none")  # type: ignore[arg-type]
    with pytest.raises(Unauthorized):
        verifier_at(keys[1]).verify(token)


def test_hmac_signed_with_the_public_key_is_refused(keys: tuple[Path, Path]) -> None:
    """The algorithm-confusion attack: HS256 keyed with the verifier's public key bytes."""
    now = NOW
    claims = {
        "iss": "lianxin-dev",
        "aud": "lianxin",
        "sub": "u",
        "tenant": "t-1",
        "roles": ["committee"],
        "iat": now,
        "exp": now + 60,
    }
    header = {"alg": "HS256", "typ": "JWT"}
    import base64
    import hashlib
    import hmac
    import json

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    signature = hmac.new(keys[1].read_bytes(), signing_input.encode(), hashlib.sha256).digest()
    with pytest.raises(Unauthorized):
        verifier_at(keys[1]).verify(f"{signing_input}.{b64(signature)}")


def test_a_token_without_a_tenant_is_refused(keys: tuple[Path, Path]) -> None:
    key = serialization.load_pem_private_key(keys[0].read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    now = NOW
    token = jwt.encode(
        {"iss": "lianxin-dev", "aud": "lianxin", "sub": "u", "iat": now, "exp": now + 60},
        key,
        algorithm="EdDSA",
    )
    with pytest.raises(Unauthorized, match="tenant"):
        verifier_at(keys[1]).verify(token)


def test_production_refuses_placeholder_secrets_and_a_test_clock(keys: tuple[Path, Path]) -> None:
    with pytest.raises(ValueError, match="TEST_CLOCK"):
        BaseServiceSettings(
            database_url="postgresql://x@h/x",
            cipher_key="k" * 44,
            platform_secret="p" * 32,
            auth_jwks_url="https://idp/jwks",
            lianxin_env="production",
            test_clock=True,
        )
    with pytest.raises(ValueError, match="placeholder"):
        BaseServiceSettings(
            database_url="postgresql://x@h/x",
            cipher_key="changeme",
            platform_secret="p" * 32,
            auth_jwks_url="https://idp/jwks",
            lianxin_env="production",
        )


def test_the_rate_limiter_refuses_a_tenant_over_its_rate_and_spares_the_others() -> None:
    from shared.auth import TenantRateLimiter

    limiter = TenantRateLimiter(per_minute=60)  # one a second, bursts of ten
    assert all(limiter.allow("busy", now=0.0) for _ in range(10))
    assert limiter.allow("busy", now=0.0) is False
    assert limiter.allow("quiet", now=0.0) is True
    assert limiter.allow("busy", now=1.5) is True


def test_a_service_token_is_accepted_only_from_a_known_client_for_the_tenant_it_names(
    keys: tuple[Path, Path],
) -> None:
    from shared.oauth import DevServiceTokens

    tokens = DevServiceTokens(
        keys[0], "lianxin-notify", issuer="lianxin-dev", audience="lianxin", wall=lambda: NOW
    )
    token = tokens.headers("t-one", ["registry:names"])["Authorization"].split()[1]
    principal = verifier_at(keys[1]).verify(token, "t-one")
    assert (principal.client, principal.tenant, principal.roles) == ("lianxin-notify", "t-one", {"service"})
    assert principal.scopes == {"registry:names"}
    with pytest.raises(Unauthorized, match="contradicts"):
        verifier_at(keys[1]).verify(token, "t-two")
    unknown = DevServiceTokens(
        keys[0], "someone-else", issuer="lianxin-dev", audience="lianxin", wall=lambda: NOW
    )
    with pytest.raises(Unauthorized, match="known clients"):
        verifier_at(keys[1]).verify(unknown.headers("t-one", [])["Authorization"].split()[1], "t-one")
    # A person's token without a tenant is refused; a header does not give it one.
    no_tenant = jwt.encode(
        {
            "iss": "lianxin-dev",
            "aud": "lianxin",
            "sub": "u",
            "iat": NOW,
            "exp": NOW + 60,
            "roles": ["committee"],
        },
        serialization.load_pem_private_key(keys[0].read_bytes(), None),
        algorithm="EdDSA",
    )  # type: ignore[arg-type]
    with pytest.raises(Unauthorized, match="no tenant"):
        verifier_at(keys[1]).verify(no_tenant, "t-one")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"auth_issuer": "lianxin-dev"}, "AUTH_ISSUER must be the OpenID provider's issuer URL"),
        ({"auth_public_key_file": "/tmp/dev.pem"}, "AUTH_PUBLIC_KEY_FILE"),
        ({"auth_jwks_url": None}, "AUTH_JWKS_URL is required"),
        ({"cipher_key": "changeme"}, "CIPHER_KEY is a placeholder"),
        ({"test_clock": True}, "TEST_CLOCK"),
    ],
)
def test_production_refuses_each_missing_or_placeholder_setting_by_name(
    change: dict[str, object], message: str
) -> None:
    good: dict[str, object] = {
        "lianxin_env": "production",
        "database_url": "postgresql://x@db/x",
        "cipher_key": "k" * 44,
        "platform_secret": "p" * 32,
        "auth_issuer": "https://sso.example.org/realms/lianxin",
        "auth_jwks_url": "https://sso.example.org/realms/lianxin/protocol/openid-connect/certs",
        "audit_signing_key": "Y2hlY2twb2ludC1zaWduaW5nLWtleS1yZWdpc3RyeSE=",
    }
    BaseServiceSettings(**good)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        BaseServiceSettings(**{**good, **change})  # type: ignore[arg-type]


def test_a_verified_token_is_kept_until_it_expires_and_refused_after(
    keys: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = issue_dev_token(
        keys[0], now=NOW, tenant="t-1", roles=["committee"], subject="u1", ttl_seconds=600
    )
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    at = [float(exp - 300)]
    verifier = TokenVerifier(settings(keys[1]), now=lambda: at[0])
    first = verifier.verify(token)
    decoded: list[str] = []
    monkeypatch.setattr(jwt, "decode", lambda *a, **k: decoded.append("again") or {})
    assert verifier.verify(token) == first and decoded == []  # kept: no second signature check
    at[0] = float(exp)
    with pytest.raises(Unauthorized, match="expired"):
        verifier.verify(token)


def test_a_refused_token_is_not_kept(keys: tuple[Path, Path], tmp_path: Path) -> None:
    other = ensure_dev_keypair(tmp_path / "other")
    token = issue_dev_token(other[0], now=NOW, tenant="t-1", roles=["committee"])
    verifier = verifier_at(keys[1])
    for _ in range(2):
        with pytest.raises(Unauthorized, match="invalid token"):
            verifier.verify(token)


def test_a_kept_service_token_acts_for_each_tenant_it_names_and_dev_tokens_are_reused(
    keys: tuple[Path, Path],
) -> None:
    from shared.oauth import DevServiceTokens

    # A provider's service token names no tenant: verified once, it acts for the tenant each request names.
    now = NOW
    token = jwt.encode(
        {
            "iss": "lianxin-dev",
            "aud": "lianxin",
            "sub": "lianxin-notify",
            "iat": now,
            "exp": now + 60,
            "roles": ["service"],
            "client_id": "lianxin-notify",
            "scope": "registry:names",
        },
        serialization.load_pem_private_key(keys[0].read_bytes(), None),
        algorithm="EdDSA",
    )  # type: ignore[arg-type]
    verifier = verifier_at(keys[1])
    assert verifier.verify(token, "t-one").tenant == "t-one"
    assert verifier.verify(token, "t-two").tenant == "t-two"
    assert verifier.verify(token, "t-one").tenant == "t-one"
    with pytest.raises(Unauthorized, match="X-Lianxin-Tenant"):
        verifier.verify(token)
    # Development tokens are signed once per tenant and scopes, and signed again after half their life.
    at = [0.0]
    tokens = DevServiceTokens(
        keys[0],
        "lianxin-notify",
        issuer="lianxin-dev",
        audience="lianxin",
        monotonic=lambda: at[0],
        wall=lambda: NOW,
    )
    first = tokens.token("t-one", ["registry:names"])
    assert tokens.token("t-one", ["registry:names"]) == first
    assert tokens.token("t-two", ["registry:names"]) != first
    assert tokens.token("t-one", ["registry:names", "registry:phones"]) != first
    at[0] = 31.0
    assert tokens.token("t-one", ["registry:names"]) != first


def test_a_role_check_answers_without_the_worker_threads(
    keys: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The role dependency runs on the event loop: a plain `def` would be sent to the worker threads (and back)
    on every request. The threads are made to fail here, so any hop would turn the answer into a 500."""

    @asynccontextmanager
    async def no_runtime(_: object) -> AsyncIterator[None]:
        yield

    app = create_service_app(
        service="t", title="t", version="0", description="t", lifespan=no_runtime, max_body_bytes=1024
    )
    app.state.verifier = TokenVerifier(settings(keys[1]))

    @app.get("/who")
    async def who(user: Annotated[Principal, require_roles("committee")]) -> dict[str, str]:
        return {"subject": user.subject}

    async def no_threads(*_: object, **__: object) -> None:
        raise AssertionError("a worker thread was asked for")

    monkeypatch.setattr(anyio.to_thread, "run_sync", no_threads)
    committee = issue_dev_token(keys[0], tenant="t1", roles=["committee"], subject="c1")
    member = issue_dev_token(keys[0], tenant="t1", roles=["member"], subject="m1")
    with TestClient(app, raise_server_exceptions=False) as c:
        allowed = c.get("/who", headers={"Authorization": f"Bearer {committee}"})
        refused = c.get("/who", headers={"Authorization": f"Bearer {member}"})
    assert (allowed.status_code, allowed.json()) == (200, {"subject": "c1"})
    assert refused.status_code == 403
