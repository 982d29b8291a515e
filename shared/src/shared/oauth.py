"""Service identity: the tokens one service shows another (RFC 6749 section 4.4, client credentials).

In production a service (transfer, notify) asks the deployment's OpenID provider for an access token with its
own client id and secret, for exactly the scopes one call needs, and keeps it until shortly before it expires.
The token endpoint comes from the issuer's discovery document (`<issuer>/.well-known/openid-configuration`).
A service token names no tenant: the calling service says for which tenant it acts in the `X-Lianxin-Tenant`
header, and the receiving service accepts that only from a known client (`AUTH_SERVICE_CLIENTS`).

Development without a provider signs the same kind of token with the local dev key.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

from shared.auth import issue_dev_token

ACTING_TENANT_HEADER = "X-Lianxin-Tenant"
# Renewed this long before `expires_in` runs out, so a token never expires in flight.
RENEW_BEFORE_SECONDS = 30.0

# What the registry lets a service read, scope by scope.
SCOPE_LETTER_FACTS = "registry:letter-facts"  # transfer: a member's letter fields (unmasked) and node names
SCOPE_NAMES = "registry:names"  # notify: a recipient's name
SCOPE_PHONES = "registry:phones"  # notify's SMS sender: a recipient's phone number
SERVICE_SCOPES = (SCOPE_LETTER_FACTS, SCOPE_NAMES, SCOPE_PHONES)


class ServiceIdentityError(RuntimeError):
    """The provider refused or did not answer: the caller maps it to its own "registry unavailable"."""


class ServiceTokens(Protocol):
    def headers(self, tenant: str, scopes: Iterable[str]) -> dict[str, str]: ...

    async def aheaders(self, tenant: str, scopes: Iterable[str]) -> dict[str, str]: ...


@dataclass
class _Cached:
    token: str
    renew_at: float


def _acting_for(tenant: str, token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", ACTING_TENANT_HEADER: tenant}


class ClientCredentials:
    """Tokens from the provider's token endpoint, cached per set of scopes until shortly before expiry."""

    def __init__(
        self,
        issuer: str,
        client_id: str,
        client_secret: str,
        *,
        token_url: str | None = None,
        timeout_seconds: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self._secret = client_secret
        self._token_url = token_url
        self.timeout = timeout_seconds
        self._now = monotonic
        self._cache: dict[frozenset[str], _Cached] = {}
        self._lock = threading.Lock()
        self.requests = 0  # tokens fetched (a test reads it to see the cache work)

    # -- the provider's answers, shared by the sync and async paths ----------------------------------------
    def _discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def _remember_endpoint(self, response: httpx.Response) -> str:
        if response.status_code != 200:
            raise ServiceIdentityError(
                f"discovery at {self._discovery_url()} answered {response.status_code}"
            )
        endpoint = response.json().get("token_endpoint")
        if not isinstance(endpoint, str) or not endpoint:
            raise ServiceIdentityError(f"discovery at {self._discovery_url()} names no token_endpoint")
        self._token_url = endpoint
        return endpoint

    def _form(self, scopes: frozenset[str]) -> dict[str, str]:
        return {"grant_type": "client_credentials", "scope": " ".join(sorted(scopes))}

    def _store(self, scopes: frozenset[str], response: httpx.Response) -> str:
        if response.status_code != 200:
            detail = response.text[:200]
            raise ServiceIdentityError(
                f"the token endpoint refused client {self.client_id}: {response.status_code} {detail}"
            )
        body: dict[str, Any] = response.json()
        token = body.get("access_token")
        if not isinstance(token, str) or body.get("token_type", "").lower() != "bearer":
            raise ServiceIdentityError("the token endpoint answered without a bearer access_token")
        lifetime = float(body.get("expires_in") or 60)
        # Short-lived tokens: renew at 80 % of the lifetime when that comes before the fixed margin.
        renew_in = max(0.0, min(lifetime - RENEW_BEFORE_SECONDS, lifetime * 0.8))
        self.requests += 1
        self._cache[scopes] = _Cached(token, self._now() + renew_in)
        return token

    def _cached(self, scopes: frozenset[str]) -> str | None:
        hit = self._cache.get(scopes)
        return hit.token if hit is not None and self._now() < hit.renew_at else None

    # -- synchronous (notify's directory runs in worker threads) ---------------------------------------
    def token(self, scopes: Iterable[str]) -> str:
        wanted = frozenset(scopes)
        with self._lock:
            hit = self._cached(wanted)
            if hit is not None:
                return hit
            try:
                with httpx.Client(timeout=self.timeout) as client:
                    url = self._token_url or self._remember_endpoint(client.get(self._discovery_url()))
                    return self._store(
                        wanted, client.post(url, data=self._form(wanted), auth=(self.client_id, self._secret))
                    )
            except httpx.HTTPError as exc:
                raise ServiceIdentityError(f"the OpenID provider did not answer: {exc}") from exc

    def headers(self, tenant: str, scopes: Iterable[str]) -> dict[str, str]:
        return _acting_for(tenant, self.token(scopes))

    # -- asynchronous (transfer's request handlers) -------------------------------------------------------
    async def atoken(self, scopes: Iterable[str]) -> str:
        wanted = frozenset(scopes)
        hit = self._cached(wanted)
        if hit is not None:
            return hit
        # A blocking fetch would stall the event loop; the lock keeps concurrent misses to one request.
        return await asyncio.to_thread(self.token, wanted)

    async def aheaders(self, tenant: str, scopes: Iterable[str]) -> dict[str, str]:
        return _acting_for(tenant, await self.atoken(scopes))


class DevServiceTokens:
    """Development without a provider: the same claims, signed with the local dev key for one minute, and reused
    per tenant and scopes for the first half of that minute (signing one per call read the key file every time)."""

    def __init__(
        self,
        key_file: Path,
        client_id: str,
        *,
        issuer: str,
        audience: str,
        ttl_seconds: int = 60,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.key_file = key_file
        self.client_id = client_id
        self.issuer = issuer
        self.audience = audience
        self.ttl_seconds = ttl_seconds
        self._now = monotonic
        self._wall = wall  # the issuing clock the tokens' iat and exp come from
        self._issued: dict[tuple[str, frozenset[str]], _Cached] = {}

    def token(self, tenant: str, scopes: Iterable[str]) -> str:
        wanted = frozenset(scopes)
        hit = self._issued.get((tenant, wanted))
        if hit is not None and self._now() < hit.renew_at:
            return hit.token
        token = issue_dev_token(
            self.key_file,
            tenant=tenant,
            roles=["service"],
            subject=self.client_id,
            issuer=self.issuer,
            audience=self.audience,
            ttl_seconds=self.ttl_seconds,
            extra={"client_id": self.client_id, "scope": " ".join(sorted(wanted))},
            now=int(self._wall()),
        )
        self._issued[(tenant, wanted)] = _Cached(token, self._now() + self.ttl_seconds / 2)
        return token

    def headers(self, tenant: str, scopes: Iterable[str]) -> dict[str, str]:
        return _acting_for(tenant, self.token(tenant, scopes))

    async def aheaders(self, tenant: str, scopes: Iterable[str]) -> dict[str, str]:
        return self.headers(tenant, scopes)


def service_tokens(settings: Any, dev_key: Path | None) -> ServiceTokens | None:
    """Client credentials when the service has a client id, else the dev key (development), else None."""
    if settings.service_client_id and settings.service_client_secret:
        return ClientCredentials(
            settings.auth_issuer,
            settings.service_client_id,
            settings.service_client_secret,
            token_url=settings.auth_token_url or None,
        )
    if dev_key is not None:
        return DevServiceTokens(
            dev_key,
            settings.service_client_id or f"lianxin-{settings.service_name}",
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
        )
    return None
