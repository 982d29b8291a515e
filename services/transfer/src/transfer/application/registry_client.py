"""The registry over HTTP, with the transfer service's own authorisation: the letter's fields, a node's name.

Production asks the OpenID provider for a client-credentials token with the one scope transfer needs
(`registry:letter-facts`); development without a provider signs it with the dev key (shared.oauth). Reads of
unmasked data are recorded by the registry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import date
from typing import Any
from uuid import UUID

import httpx

from shared.errors import Invalid, NotFound, Unavailable
from shared.oauth import SCOPE_LETTER_FACTS, ServiceIdentityError, ServiceTokens


class RegistryUnavailable(Unavailable):
    type, title = "registry-unavailable", "The registry did not answer"


class RegistryClient:
    def __init__(self, base_url: str, tokens: ServiceTokens | None) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        # One client per event loop, kept: a fresh one per call built an SSL context and a connection each time.
        self._client: tuple[asyncio.AbstractEventLoop, httpx.AsyncClient] | None = None

    async def _headers(self, tenant: str) -> dict[str, str]:
        if self.tokens is None:
            raise RegistryUnavailable("no service identity is configured for calls to the registry")
        try:
            return await self.tokens.aheaders(tenant, [SCOPE_LETTER_FACTS])
        except ServiceIdentityError as exc:
            raise RegistryUnavailable(f"no token for the registry: {exc}") from exc

    def _http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._client[0] is not loop:
            self._client = (loop, httpx.AsyncClient(base_url=self.base_url, timeout=5))
        return self._client[1]

    async def _get(self, tenant: str, path: str, **params: str) -> dict[str, Any]:
        headers = await self._headers(tenant)
        try:
            response = await self._http().get(path, headers=headers, params=params)
        except httpx.HTTPError as exc:
            raise RegistryUnavailable(f"the registry did not answer: {exc}") from exc
        if response.status_code == 404:
            raise NotFound(response.json().get("detail", "not found"))
        if response.status_code != 200:
            raise RegistryUnavailable(f"the registry answered {response.status_code}")
        body: dict[str, Any] = response.json()
        return body

    async def member(self, tenant: str, member_id: UUID, *, unmasked: bool = False) -> dict[str, Any]:
        params = {"unmasked": "true", "purpose": "开具组织关系介绍信"} if unmasked else {}
        return await self._get(tenant, f"/v1/members/{member_id}", **params)

    async def dues_paid_through(self, tenant: str, member_id: UUID) -> str | None:
        """党费已交到, computed by the registry from its dues ledger; None when the ledger shows nothing paid."""
        ledger = await self._get(tenant, f"/v1/members/{member_id}/dues")
        paid_through = ledger.get("paid_through")
        return str(paid_through) if paid_through else None

    async def organisation(self, tenant: str, organisation_id: UUID) -> dict[str, Any]:
        return await self._get(tenant, f"/v1/organisations/{organisation_id}")

    async def issuing_committee(self, tenant: str, branch: dict[str, Any]) -> dict[str, Any]:
        """The committee above the branch that issues and numbers its letters (at most six levels up)."""
        issuer = branch
        for _ in range(6):
            if issuer["kind"] in ISSUING_KINDS or not issuer["parent_id"]:
                break
            issuer = await self.organisation(tenant, UUID(issuer["parent_id"]))
        return issuer


ISSUING_KINDS = ("primary_committee", "org_department", "street_committee")


async def in_order(*reads: Awaitable[Any]) -> list[Any]:
    """Reads at once; when any fails, the first failure in argument order is raised (as if they had run one after
    the other), once all have ended."""
    results = await asyncio.gather(*reads, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


async def letter_facts(
    registry: RegistryClient,
    tenant: str,
    member_id: UUID,
    sending_org_id: UUID,
    today: date,
    *,
    dues_paid_through: str | None,
    issuer_address: str | None,
    issuer_phone: str | None,
) -> dict[str, Any]:
    """The letter's fields as of today, read from the registry with the transfer service's own rights; the dues
    from the registry's ledger, else the ones given from the paper records."""

    async def branch_and_issuer() -> tuple[dict[str, Any], dict[str, Any]]:
        branch = await registry.organisation(tenant, sending_org_id)
        return branch, await registry.issuing_committee(tenant, branch)

    # The reads at once (a committee approval waited for four round trips one after the other); a failure is
    # reported as before, the member's first.
    member, (branch, issuer), ledger = await in_order(
        registry.member(tenant, member_id, unmasked=True),
        branch_and_issuer(),
        registry.dues_paid_through(tenant, member_id),
    )
    paid_through = ledger or dues_paid_through
    if paid_through is None:
        raise Invalid(
            "the registry's dues ledger shows nothing paid; record the dues there, or give "
            "dues_paid_through from the paper records",
            field="dues_paid_through",
        )
    return letter_fields(
        member,
        branch["name"],
        today,
        issuer_name=issuer["name"],
        dues_paid_through=paid_through,
        issuer_address=issuer_address,
        issuer_phone=issuer_phone,
    )


def letter_fields(member: dict[str, Any], from_org: str, today: date, **issuer: Any) -> dict[str, Any]:
    """The letter's personal fields, as of today; they stay in transfer's encrypted events only."""
    born = member.get("birth_date")
    age = None
    if born:
        b = date.fromisoformat(born)
        age = today.year - b.year - ((today.month, today.day) < (b.month, b.day))
    return {
        "name": member["name"],
        "gender": {"male": "男", "female": "女"}.get(member.get("gender") or ""),
        "age": age,
        "ethnicity": member.get("ethnicity"),
        "category": {"full": "正式党员", "probationary": "预备党员"}[member["category"]],
        "national_id_number": member.get("national_id_number"),
        "from_org": from_org,
        **issuer,
    }
