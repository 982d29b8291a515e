"""Role assignments recorded in the registry narrow what a token may do, from the moment they are revoked.

The revoked assignments of a (tenant, subject) are kept in memory until the read model changes: the projection
NOTIFYs `ROLES_CHANNEL` in the transaction that writes `role_assignments`, and every instance drops what it
kept when that commits. Without a live LISTEN connection nothing is kept and each request reads the table, as
before; a request therefore sees a revocation as soon as the projection has committed it, either way.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace
from typing import Any

import asyncpg

from shared.auth import Principal
from shared.db import tenant_transaction

# Committee-level roles held on a root node; revoking one there takes the role away tenant-wide.
TENANT_WIDE = {"committee", "tenant_admin", "auditor"}
ROLES_CHANNEL = "lianxin_role_assignments"
MAX_KEPT = 10_000


class RevokedAssignments:
    """(tenant, subject) -> the organisations and roles revoked for it, read once per change of the table."""

    def __init__(self) -> None:
        self.kept: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self.generation = 0  # moves on each change: a read that started before it is not kept
        self.listener: asyncpg.Connection | None = None
        self._connecting = asyncio.Lock()
        self._lock = threading.Lock()

    def changed(self, *_: Any) -> None:
        with self._lock:
            self.generation += 1
            self.kept.clear()

    def _lost(self, *_: Any) -> None:
        self.listener = None
        self.changed()

    async def _listening(self, url: str) -> bool:
        if self.listener is not None and not self.listener.is_closed():
            return True
        async with self._connecting:
            if self.listener is None or self.listener.is_closed():
                try:
                    listener = await asyncpg.connect(url, timeout=5)
                    await listener.add_listener(ROLES_CHANNEL, self.changed)
                    listener.add_termination_listener(self._lost)
                except (OSError, asyncpg.PostgresError, TimeoutError):
                    return False
                self.changed()  # anything kept before the LISTEN began may be stale
                self.listener = listener
        return True

    async def of(self, runtime: Any, tenant: str, subject: str) -> list[tuple[str, str]]:
        listening = await self._listening(runtime.settings.database_url)
        key = (tenant, subject)
        if listening and key in self.kept:
            return self.kept[key]
        generation = self.generation
        async with tenant_transaction(runtime.pool, tenant) as conn:
            rows = await conn.fetch(
                "SELECT organisation_id::text AS org, role FROM role_assignments "
                "WHERE tenant_id = $1 AND subject = $2 AND NOT active",
                tenant,
                subject,
            )
        revoked = [(r["org"], r["role"]) for r in rows]
        with self._lock:
            if listening and generation == self.generation:
                if len(self.kept) >= MAX_KEPT:
                    self.kept.clear()
                self.kept[key] = revoked
        return revoked

    async def close(self) -> None:
        if self.listener is not None:
            await self.listener.close()


def principal_refiner(runtime_of: Any, revocations: RevokedAssignments | None = None) -> Any:
    revoked_for = revocations or RevokedAssignments()

    async def refine(principal: Principal) -> Principal:
        if principal.has_any("service"):
            return principal
        revoked = await revoked_for.of(runtime_of(), principal.tenant, principal.subject)
        if not revoked:
            return principal
        orgs = principal.orgs - {org for org, _ in revoked}
        roles = principal.roles - {role for _, role in revoked if role in TENANT_WIDE}
        return replace(principal, orgs=frozenset(orgs), roles=frozenset(roles))

    return refine
