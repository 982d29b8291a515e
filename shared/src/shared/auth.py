"""Bearer JWTs (RFC 8725): algorithm allow-list, iss/aud/exp checked; the tenant comes from the token only."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.errors import Forbidden, TooManyRequests, Unauthorized
from shared.settings import BaseServiceSettings

MAX_VERIFIED_KEPT = 10_000
ROLES = ("member", "branch_secretary", "committee", "auditor", "tenant_admin", "operator", "service")


@dataclass(frozen=True)
class Principal:
    subject: str
    tenant: str
    roles: frozenset[str]
    orgs: frozenset[str] = field(default_factory=frozenset)
    # A service's token (role `service`): the OAuth2 client it was issued to and the scopes it was granted.
    client: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


class TokenVerifier:
    def __init__(self, settings: BaseServiceSettings, *, now: Callable[[], float] = time.time) -> None:
        self.issuer = settings.auth_issuer
        self.audience = settings.auth_audience
        self.algorithms = settings.algorithms
        self.service_clients = settings.service_clients
        self._jwks = jwt.PyJWKClient(settings.auth_jwks_url) if settings.auth_jwks_url else None
        self._key: Any = None
        if settings.auth_public_key_file is not None:
            self._key = serialization.load_pem_public_key(settings.auth_public_key_file.read_bytes())
        # A token verified once is kept (its principal and expiry) until it expires: clients send the same token
        # on every request, and the signature check, claim checks and decoding were a few per cent of a
        # request's CPU. `now` is the clock the expiry is compared with.
        self.now: Callable[[], float] = now
        self._verified: dict[str, tuple[float, Principal]] = {}

    def verify(self, token: str, acting_tenant: str | None = None) -> Principal:
        """A person's token names its tenant; a service's names none and acts for `acting_tenant` (a header)."""
        kept = self._verified.get(token)
        if kept is not None:
            expires_at, principal = kept
            if self.now() >= expires_at:
                self._verified.pop(token, None)
                raise Unauthorized("invalid token: Signature has expired")
        else:
            principal, expires_at = self._verify(token)
            if len(self._verified) >= MAX_VERIFIED_KEPT:
                self._verified.clear()
            self._verified[token] = (expires_at, principal)
        return self._acting(principal, acting_tenant) if principal.has_any("service") else principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            key = self._jwks.get_signing_key_from_jwt(token).key if self._jwks else self._key
            # Times are checked here against `now` (an injected clock), not by PyJWT against the machine's.
            claims = jwt.decode(
                token,
                key,
                algorithms=self.algorithms,
                audience=self.audience,
                issuer=self.issuer,
                options={
                    "require": ["exp", "iat", "iss", "aud", "sub"],
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid token: {exc}") from exc
        self._check_times(claims)
        roles = claims.get("roles", [])
        orgs = claims.get("orgs", [])
        if not isinstance(roles, list) or not isinstance(orgs, list):
            raise Unauthorized("invalid token: malformed roles or orgs claim")
        if "service" in roles:
            return self._service(claims), float(claims["exp"])
        if not isinstance(claims.get("tenant"), str) or not claims["tenant"]:
            raise Unauthorized("invalid token: no tenant claim")
        principal = Principal(
            claims["sub"], claims["tenant"], frozenset(map(str, roles)), frozenset(map(str, orgs))
        )
        return principal, float(claims["exp"])

    def _check_times(self, claims: dict[str, Any]) -> None:
        now = self.now()
        for name in ("exp", "iat", "nbf"):
            if name in claims and not isinstance(claims[name], int | float):
                raise Unauthorized(f"invalid token: the {name} claim is not a number")
        if claims["exp"] <= now:
            raise Unauthorized("invalid token: Signature has expired")
        if claims.get("nbf", claims["iat"]) > now:
            raise Unauthorized("invalid token: The token is not yet valid")

    def _service(self, claims: dict[str, Any]) -> Principal:
        """A service's principal as its token says; the tenant it acts for is settled per request (_acting)."""
        # RFC 9068 names the client `client_id`; Keycloak and others put it in `azp`.
        client = claims.get("client_id") or claims.get("azp")
        if not isinstance(client, str) or client not in self.service_clients:
            raise Unauthorized(
                f"invalid token: the service role is accepted only from known clients, not {client!r}"
            )
        tenant = claims.get("tenant") or ""
        if not isinstance(tenant, str):
            raise Unauthorized("invalid token: malformed tenant claim")
        scope = claims.get("scope", "")
        scopes = frozenset(scope.split()) if isinstance(scope, str) else frozenset(map(str, scope))
        return Principal(claims["sub"], tenant, frozenset({"service"}), client=client, scopes=scopes)

    @staticmethod
    def _acting(service: Principal, acting_tenant: str | None) -> Principal:
        tenant = service.tenant or acting_tenant
        if not tenant:
            raise Unauthorized("a service names the tenant it acts for in the X-Lianxin-Tenant header")
        if acting_tenant and acting_tenant != tenant:
            raise Unauthorized("the X-Lianxin-Tenant header contradicts the token's tenant")
        return service if tenant == service.tenant else replace(service, tenant=tenant)


class TenantRateLimiter:
    """A token bucket per tenant: one tenant's burst does not starve the others on a shared service."""

    def __init__(self, per_minute: int) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(per_minute) / 6  # at most ten seconds' worth at once
        self.buckets: dict[str, tuple[float, float]] = {}

    def allow(self, tenant: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        tokens, last = self.buckets.get(tenant, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - last) * self.rate)
        if tokens < 1:
            self.buckets[tenant] = (tokens, now)
            return False
        self.buckets[tenant] = (tokens - 1, now)
        return True


# Declared so the OpenAPI documents carry the `bearer` scheme on every operation that reads the token; the header is
# parsed below, so a missing or malformed one gets our 401 problem rather than the framework's answer.
BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    bearerFormat="JWT",
    description="an OIDC access token (EdDSA) carrying `tenant`, `roles` and `orgs`",
)


async def current_principal(
    request: Request, _declared: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]
) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("a bearer token is required")
    verifier: TokenVerifier = request.app.state.verifier
    principal = verifier.verify(token.strip(), request.headers.get("x-lianxin-tenant"))
    limiter: TenantRateLimiter | None = getattr(request.app.state, "rate_limiter", None)
    if limiter is not None and not limiter.allow(principal.tenant):
        raise TooManyRequests(f"tenant {principal.tenant} is over its request rate; retry in a moment")
    # A service that records role assignments narrows the token's scope to them on every request, so a
    # revoked role stops working at once rather than when the token expires.
    refine: Callable[[Principal], Awaitable[Principal]] | None = getattr(
        request.app.state, "refine_principal", None
    )
    return await refine(principal) if refine is not None else principal


CurrentUser = Annotated[Principal, Depends(current_principal)]


def require_scope(user: Principal, *scopes: str) -> None:
    """A service reads only what the scopes of its token cover (people are bound by their roles instead)."""
    if user.has_any("service") and not user.scopes.intersection(scopes):
        needs = f"one of the scopes {', '.join(scopes)}" if scopes else "a person's token"
        raise Forbidden(f"client {user.client} needs {needs} for this read")


def require_roles(*roles: str) -> Any:
    # A coroutine: FastAPI runs a plain `def` dependency in the worker threads, a hop there and back on every
    # request that waited behind the event loop and the GIL (tens of milliseconds under load).
    async def check(user: CurrentUser) -> Principal:
        if not user.has_any(*roles):
            raise Forbidden(f"this action needs one of the roles: {', '.join(roles)}")
        return user

    return Depends(check)


# Development keys: a local Ed25519 key pair; production verifies tokens from an OIDC provider's JWKS.


def ensure_dev_keypair(directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    private, public = directory / "dev-signing-key.pem", directory / "dev-signing-key.pub.pem"
    if not private.exists():
        key = Ed25519PrivateKey.generate()
        private.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        private.chmod(0o600)
        public.write_bytes(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
    return private, public


def issue_dev_token(
    private_key_file: Path,
    *,
    tenant: str,
    roles: list[str],
    subject: str | None = None,
    orgs: list[str] | None = None,
    issuer: str = "lianxin-dev",
    audience: str = "lianxin",
    ttl_seconds: int = 8 * 3600,
    extra: dict[str, Any] | None = None,
    now: int | None = None,
) -> str:
    """A token as the development identity provider issues it, at `now` (its own clock when not given)."""
    key = serialization.load_pem_private_key(private_key_file.read_bytes(), password=None)
    now = int(time.time()) if now is None else now
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": subject or f"user-{uuid.uuid4().hex[:8]}",
        "tenant": tenant,
        "roles": roles,
        "orgs": orgs or [],
        "iat": now,
        "nbf": now,
        "exp": now + ttl_seconds,
        "jti": uuid.uuid4().hex,
        **(extra or {}),
    }
    return jwt.encode(claims, key, algorithm="EdDSA")  # type: ignore[arg-type]
