"""Names for templates, fetched from the registry with notify's own authorisation (events carry none).

Production asks the OpenID provider for a client-credentials token with the scopes of the one read
(`registry:names`, and `registry:phones` for a phone); development without a provider signs it with the dev key
(shared.oauth). When the registry cannot answer, the
notification is rendered without the name: a late or missing notice costs more than an impersonal one, and
retrying would hold up every later event of the ordered consumer.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Protocol
from uuid import UUID

import httpx

from shared.oauth import SCOPE_NAMES, SCOPE_PHONES, ServiceIdentityError, ServiceTokens

logger = logging.getLogger("lianxin.notify.directory")

NAMES_PER_READ = 200  # the registry's names read takes at most this many ids


class Directory(Protocol):
    def member_name(self, tenant: str, member_id: UUID) -> str | None: ...

    def member_names(self, tenant: str, member_ids: Sequence[UUID]) -> dict[UUID, str | None]: ...


class NoDirectory:
    def member_name(self, tenant: str, member_id: UUID) -> str | None:
        return None

    def member_names(self, tenant: str, member_ids: Sequence[UUID]) -> dict[UUID, str | None]:
        return {}

    def member_phone(self, tenant: str, member_id: UUID) -> str | None:
        return None


class RegistryDirectory:
    def __init__(self, base_url: str, tokens: ServiceTokens, *, timeout_seconds: float = 2.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.timeout = timeout_seconds
        # One client for the process: a fresh one per call built an SSL context (the CA bundle read and parsed)
        # and a new connection each time, three quarters of notify's CPU per registration.
        self.client = httpx.Client(timeout=timeout_seconds)

    def _get(self, tenant: str, path: str, scopes: list[str], params: Any) -> dict[str, Any] | None:
        try:
            headers = self.tokens.headers(tenant, scopes)
            response = self.client.get(
                f"{self.base_url}{path}", params=params, headers={**headers, "X-Purpose": "notification"}
            )
        except (httpx.HTTPError, OSError, ServiceIdentityError) as exc:
            logger.warning("registry unreachable; rendering without the member", extra={"error": repr(exc)})
            return None
        if response.status_code != 200:
            logger.warning(
                "registry did not give the member; rendering without it",
                extra={"status": response.status_code},
            )
            return None
        body: dict[str, Any] = response.json()
        return body

    def _member(
        self, tenant: str, member_id: UUID, scopes: list[str], **params: str
    ) -> dict[str, Any] | None:
        return self._get(tenant, f"/v1/members/{member_id}", scopes, params)

    def member_name(self, tenant: str, member_id: UUID) -> str | None:
        """From the registry's roll of names (its read model: one select there, where the member itself is
        rebuilt from its events in a worker thread); a member the roll does not hold yet, its projection behind
        the event that brought it here, is asked for itself."""
        names = self._get(tenant, "/v1/members/-/names", [SCOPE_NAMES], {"id": str(member_id)})
        listed = [item for item in (names or {}).get("items", []) if item.get("id") == str(member_id)]
        if listed:
            name = listed[0].get("name")  # None once the member's personal data is erased
        else:
            member = self._member(tenant, member_id, [SCOPE_NAMES])
            name = member.get("name") if member else None
        return str(name) if name else None

    def member_names(self, tenant: str, member_ids: Sequence[UUID]) -> dict[UUID, str | None]:
        """The names the registry's roll holds for these members of one tenant, in one read per 200 (None for an
        erased one). A member the roll does not list, or every member of a read that failed, is left out: the
        caller asks `member_name` for it, as for a single member."""
        unique = list(dict.fromkeys(member_ids))
        found: dict[UUID, str | None] = {}
        for start in range(0, len(unique), NAMES_PER_READ):
            chunk = unique[start : start + NAMES_PER_READ]
            answer = self._get(tenant, "/v1/members/-/names", [SCOPE_NAMES], {"id": [str(i) for i in chunk]})
            asked = set(chunk)
            for item in (answer or {}).get("items", []):
                try:
                    member_id = UUID(str(item.get("id")))
                except ValueError:
                    continue
                if member_id in asked:
                    name = item.get("name")
                    found[member_id] = str(name) if name else None
        return found

    def member_phone(self, tenant: str, member_id: UUID) -> str | None:
        """For a text message: the full number, so the read is recorded in the member's history."""
        member = self._member(
            tenant, member_id, [SCOPE_NAMES, SCOPE_PHONES], unmasked="true", purpose="发送通知短信"
        )
        phone = member.get("phone") if member else None
        return str(phone) if phone else None
