"""Names for templates, fetched from the registry with notify's own authorisation (events carry none).

Development signs a short-lived service token with the dev key; production should use OAuth2 client
credentials from the OIDC provider (not built yet: see docs/notify.md). When the registry cannot answer, the
notification is rendered without the name: a late or missing notice costs more than an impersonal one, and
retrying would hold up every later event of the ordered consumer.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol
from uuid import UUID

import httpx

from shared.auth import ServiceTokens

logger = logging.getLogger("lianxin.notify.directory")


class Directory(Protocol):
    def member_name(self, tenant: str, member_id: UUID) -> str | None: ...


class NoDirectory:
    def member_name(self, tenant: str, member_id: UUID) -> str | None:
        return None


class RegistryDirectory:
    subject = "service:notify"

    def __init__(
        self, base_url: str, key_file: Path, *, issuer: str, audience: str, timeout_seconds: float = 2.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.key_file = key_file
        self.issuer = issuer
        self.audience = audience
        self.timeout = timeout_seconds
        # One client for the process: a fresh one per call built an SSL context (the CA bundle read and parsed)
        # and a new connection each time, three quarters of notify's CPU per registration.
        self.client = httpx.Client(timeout=timeout_seconds)
        # The registry's `service` role reads members (masked: notify needs the name, nothing more).
        self.tokens = ServiceTokens(key_file, subject=self.subject, issuer=issuer, audience=audience)

    def member_name(self, tenant: str, member_id: UUID) -> str | None:
        try:
            response = self.client.get(
                f"{self.base_url}/v1/members/{member_id}",
                headers={"Authorization": f"Bearer {self.tokens.for_tenant(tenant)}", "X-Purpose": "notification"},
            )
        except (httpx.HTTPError, OSError) as exc:
            logger.warning("registry unreachable; rendering without the name", extra={"error": repr(exc)})
            return None
        if response.status_code != 200:
            logger.warning(
                "registry did not give the member; rendering without the name",
                extra={"status": response.status_code},
            )
            return None
        name = response.json().get("name")
        return str(name) if name else None
