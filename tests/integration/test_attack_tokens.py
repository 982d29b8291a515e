"""Forged tokens against every protected operation's service: none may pass (401), none may leak anything."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import generate_private_key

from tests.integration.attack import PUBLIC, Tally, fill_path, operations, plant
from tests.integration.conftest import Running

pytestmark = pytest.mark.integration


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    head = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())
    return f"{head}.{_b64(signature)}"


def _hmac_token(secret: bytes, claims: dict[str, Any]) -> str:
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." + _b64(json.dumps(claims).encode())
    return f"{head}.{_b64(hmac.new(secret, head.encode(), hashlib.sha256).digest())}"


def forged_tokens(running: Running, tenant: str) -> dict[str, str]:
    private_pem = (running.data_dir / "dev-signing-key.pem").read_bytes()
    public_pem = (running.data_dir / "dev-signing-key.pub.pem").read_bytes()
    key = serialization.load_pem_private_key(private_pem, password=None)
    # The services check expiry against the time the identity provider issues by: take it from a token it issued.
    now = int(jwt.decode(running.token(tenant, "committee"), options={"verify_signature": False})["iat"])
    good = {
        "iss": "lianxin-dev",
        "aud": "lianxin",
        "sub": "attacker",
        "tenant": tenant,
        "roles": ["committee", "tenant_admin"],
        "orgs": [],
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }

    def signed(claims: dict[str, Any], headers: dict[str, Any] | None = None) -> str:
        return jwt.encode(claims, key, algorithm="EdDSA", headers=headers)  # type: ignore[arg-type]

    other_key = Ed25519PrivateKey.generate()
    rsa_key = generate_private_key(public_exponent=65537, key_size=2048)
    without = {
        name: {k: v for k, v in good.items() if k != name} for name in ("exp", "iss", "aud", "sub", "tenant")
    }
    tokens = {
        "alg none": _unsigned({"alg": "none", "typ": "JWT"}, good),
        "alg None, signature kept": _unsigned({"alg": "None"}, good, b"sig"),
        "HS256 keyed with the public key": _hmac_token(public_pem, good),
        "HS256 keyed with the public key, stripped": _hmac_token(public_pem.strip(), good),
        "another Ed25519 key": jwt.encode(good, other_key, algorithm="EdDSA"),
        "RS256 with an attacker's key": jwt.encode(good, rsa_key, algorithm="RS256"),
        "wrong issuer": signed({**good, "iss": "evil"}),
        "wrong audience": signed({**good, "aud": "other-app"}),
        "expired": signed({**good, "iat": now - 7200, "nbf": now - 7200, "exp": now - 3600}),
        "not yet valid": signed({**good, "nbf": now + 3600, "exp": now + 7200}),
        "tenant as a list": signed({**good, "tenant": [tenant]}),
        "roles as a string": signed({**good, "roles": "committee"}),
        "signature of another token": signed(good).rsplit(".", 1)[0]
        + "."
        + signed({**good, "sub": "x"}).rsplit(".", 1)[1],
        "payload swapped after signing": (
            lambda t: (
                t.split(".")[0]
                + "."
                + _b64(json.dumps({**good, "tenant": "other"}).encode())
                + "."
                + t.split(".")[2]
            )
        )(signed(good)),
        "jku pointing away": signed(good, {"jku": "http://127.0.0.1:1/jwks.json"}).rsplit(".", 1)[0]
        + ".AAAA",
        "garbage": "not.a.token",
        **{f"missing {name}": signed(claims) for name, claims in without.items()},
    }
    return tokens


def test_no_forged_token_passes_any_protected_operation(running: Running) -> None:
    world = plant(running)
    tally = Tally("forged tokens")
    tokens = forged_tokens(running, world.tenant)
    protected = [op for op in operations(running) if not PUBLIC.search(op.path)]
    by_service: dict[str, list[Any]] = {}
    for op in protected:
        by_service.setdefault(op.service, []).append(op)
    # Every forged token against the first protected operations of each service; the two classic forgeries
    # (alg none, HS256 keyed with the public key) against every protected operation.
    for name, token in tokens.items():
        headers = {"Authorization": f"Bearer {token}"}
        targets = (
            protected
            if name in ("alg none", "HS256 keyed with the public key")
            else [op for ops in by_service.values() for op in ops[:3]]
        )
        for op in targets:
            response = httpx.request(
                op.method, f"{running.url(op.service)}{fill_path(op, world.ids)}", headers=headers, timeout=30
            )
            leaked = [p for p in world.planted if p in response.text]
            tally.record(response.status_code == 401, f"{name} -> {op.name}: {response.status_code}", leaked)
    for scheme in ("Basic YWRtaW46YWRtaW4=", "Bearer", "Token abc"):
        for service, ops in by_service.items():
            response = httpx.request(
                ops[0].method,
                f"{running.url(service)}{fill_path(ops[0], world.ids)}",
                headers={"Authorization": scheme},
            )
            tally.record(response.status_code == 401, f"{scheme} -> {service}: {response.status_code}")
    tally.report()
    assert tally.tried >= len(tokens) * 12 + 2 * 80
    assert not tally.failures, tally.failures[:20]
    assert not tally.leaked, tally.leaked
