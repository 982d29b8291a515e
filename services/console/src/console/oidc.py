"""Production sign-in: OpenID Connect authorization code flow with PKCE (S256), state and nonce, against the
provider the four services already trust (their AUTH_ISSUER).

* Discovery from `<issuer>/.well-known/openid-configuration` (its `issuer` must be the configured one), kept for
  an hour; the provider's keys from its `jwks_uri`, fetched again when a token names a key not yet seen.
* The flow's secrets (state, nonce, code verifier, where to return) wait in an encrypted HttpOnly cookie that
  lives ten minutes and is spent by the callback; nothing of them is logged.
* The ID token is verified (signature, issuer, audience = our client, expiry, nonce); the access token too
  (signature, issuer, the APIs' audience, expiry, a tenant), and its claims become the session. The tokens stay
  in the encrypted session cookie; when the access token expires the person signs in again (the provider's own
  session makes that a pair of redirects without a form).
* Logout clears the session and, where the provider announces an `end_session_endpoint`, ends the provider's
  session too (RP-initiated logout) and comes back to the sign-in page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
from cryptography.fernet import Fernet, InvalidToken

logger = logging.getLogger("console.oidc")
ALLOWED_ALGORITHMS = {"RS256", "PS256", "ES256", "EdDSA"}
PENDING_SECONDS = 600
DISCOVERY_SECONDS = 3600
LEEWAY_SECONDS = 30


class SignInRefused(Exception):
    """The flow failed; the message is for the log (never a token or a claim's value)."""


@dataclass
class Pending:
    state: str
    nonce: str
    verifier: str
    next: str
    started: float

    @property
    def challenge(self) -> str:
        digest = hashlib.sha256(self.verifier.encode()).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class Signed:
    """What the provider vouched for: the access token the APIs take and the person it names."""

    access_token: str
    expires: float
    subject: str
    tenant: str
    roles: list[str]
    orgs: list[str]
    display: str


@dataclass
class OidcClient:
    issuer: str
    client_id: str
    client_secret: str | None
    audience: str
    scopes: str
    http: httpx.AsyncClient
    now: Any = time.time
    _discovery: dict[str, Any] | None = None
    _discovered_at: float = 0.0
    _keys: dict[str, Any] = field(default_factory=dict)

    # -- discovery and keys -------------------------------------------------------------------------------------
    async def discovery(self) -> dict[str, Any]:
        if self._discovery is None or self.now() - self._discovered_at > DISCOVERY_SECONDS:
            url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
            response = await self.http.get(url)
            if response.status_code != 200:
                raise SignInRefused(f"discovery answered {response.status_code}")
            document: dict[str, Any] = response.json()
            if document.get("issuer") != self.issuer:
                raise SignInRefused("the discovery document names another issuer")
            methods = document.get("code_challenge_methods_supported")
            if methods is not None and "S256" not in methods:
                raise SignInRefused("the provider does not support PKCE with S256")
            self._discovery, self._discovered_at = document, self.now()
        return self._discovery

    async def _key(self, token: str) -> Any:
        header = jwt.get_unverified_header(token)
        if header.get("alg") not in ALLOWED_ALGORITHMS:
            raise SignInRefused("a token signed with an algorithm not allowed")
        kid = header.get("kid", "")
        if kid not in self._keys:
            document = await self.discovery()
            response = await self.http.get(document["jwks_uri"])
            if response.status_code != 200:
                raise SignInRefused(f"the provider's keys answered {response.status_code}")
            for jwk in response.json().get("keys", []):
                if jwk.get("use", "sig") == "sig":
                    self._keys[jwk.get("kid", "")] = jwt.PyJWK(jwk)
        if kid not in self._keys:
            raise SignInRefused("a token signed by a key the provider does not publish")
        return self._keys[kid]

    async def _verify(self, token: str, audience: str) -> dict[str, Any]:
        key = await self._key(token)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[key.algorithm_name] if key.algorithm_name in ALLOWED_ALGORITHMS else [],
                audience=audience,
                issuer=self.issuer,
                options={
                    "require": ["exp", "iat", "iss", "aud", "sub"],
                    "verify_exp": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError as exc:
            raise SignInRefused(f"a token failed verification: {type(exc).__name__}") from exc
        if float(claims["exp"]) <= self.now() - LEEWAY_SECONDS:
            raise SignInRefused("a token has expired")
        return claims

    # -- the flow -----------------------------------------------------------------------------------------------
    def begin(self, next_path: str) -> Pending:
        return Pending(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            verifier=secrets.token_urlsafe(64),  # 86 characters: within RFC 7636's 43..128
            next=next_path,
            started=self.now(),
        )

    async def authorization_url(self, pending: Pending, redirect_uri: str) -> str:
        document = await self.discovery()
        query = {
            "client_id": self.client_id,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "scope": self.scopes,
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": pending.challenge,
            "code_challenge_method": "S256",
        }
        return f"{document['authorization_endpoint']}?{urlencode(query)}"

    async def finish(self, pending: Pending, *, state: str, code: str, redirect_uri: str) -> Signed:
        if not state or not hmac.compare_digest(pending.state, state):
            raise SignInRefused("the state does not match the one this browser was given")
        if self.now() - pending.started > PENDING_SECONDS:
            raise SignInRefused("the sign-in took too long")
        document = await self.discovery()
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": self.client_id,
            "code_verifier": pending.verifier,
        }
        if self.client_secret:  # a confidential client also authenticates; a public one relies on PKCE
            response = await self.http.post(
                document["token_endpoint"], data=data, auth=(self.client_id, self.client_secret)
            )
        else:
            response = await self.http.post(document["token_endpoint"], data=data)
        if response.status_code != 200:
            raise SignInRefused(f"the code exchange answered {response.status_code}")
        tokens: dict[str, Any] = response.json()
        if "id_token" not in tokens or "access_token" not in tokens:
            raise SignInRefused("the provider returned no ID token or no access token")
        identity = await self._verify(str(tokens["id_token"]), self.client_id)
        if not hmac.compare_digest(str(identity.get("nonce", "")), pending.nonce):
            raise SignInRefused("the ID token's nonce is not the one sent")
        access = await self._verify(str(tokens["access_token"]), self.audience)
        if access["sub"] != identity["sub"]:
            raise SignInRefused("the access token names another person than the ID token")
        roles, orgs, tenant = access.get("roles", []), access.get("orgs", []), access.get("tenant")
        if (
            not isinstance(roles, list)
            or not isinstance(orgs, list)
            or not isinstance(tenant, str)
            or not tenant
        ):
            raise SignInRefused("the access token carries no tenant, roles or organisations")
        return Signed(
            access_token=str(tokens["access_token"]),
            expires=float(access["exp"]),
            subject=str(access["sub"]),
            tenant=tenant,
            roles=[str(r) for r in roles],
            orgs=[str(o) for o in orgs],
            display=str(identity.get("name") or ""),
        )

    async def logout_url(self, post_logout_redirect_uri: str) -> str | None:
        """The provider's end-session address (RP-initiated logout 1.0), if it has one."""
        try:
            endpoint = (await self.discovery()).get("end_session_endpoint")
        except (SignInRefused, httpx.HTTPError):
            return None
        if not endpoint:
            return None
        query = {"client_id": self.client_id, "post_logout_redirect_uri": post_logout_redirect_uri}
        return f"{endpoint}?{urlencode(query)}"


class PendingBox:
    """The flow's secrets in an encrypted cookie between the redirect to the provider and its callback."""

    COOKIE = "lx_oidc"

    def __init__(self, fernet: Fernet) -> None:
        self.fernet = fernet

    def seal(self, pending: Pending) -> str:
        return self.fernet.encrypt(json.dumps(vars(pending)).encode()).decode()

    def open(self, raw: str | None) -> Pending | None:
        if not raw:
            return None
        try:
            return Pending(**json.loads(self.fernet.decrypt(raw.encode(), ttl=PENDING_SECONDS)))
        except (InvalidToken, ValueError, TypeError):
            return None
