"""Role assignments recorded in the registry narrow what a token may do, from the moment they are revoked."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from shared.auth import Principal
from shared.db import tenant_transaction

# Committee-level roles held on a root node; revoking one there takes the role away tenant-wide.
TENANT_WIDE = {"committee", "tenant_admin", "auditor"}


def principal_refiner(runtime_of: Any) -> Any:
    async def refine(principal: Principal) -> Principal:
        if principal.has_any("service"):
            return principal
        async with tenant_transaction(runtime_of().pool, principal.tenant) as conn:
            revoked = await conn.fetch(
                "SELECT organisation_id::text AS org, role FROM role_assignments "
                "WHERE tenant_id = $1 AND subject = $2 AND NOT active", principal.tenant, principal.subject)
        if not revoked:
            return principal
        orgs = principal.orgs - {r["org"] for r in revoked}
        roles = principal.roles - {r["role"] for r in revoked if r["role"] in TENANT_WIDE}
        return replace(principal, orgs=frozenset(orgs), roles=frozenset(roles))

    return refine
