"""Who a command may touch inside the tenant: the whole tenant, or the branches a branch secretary holds.

The token gives the tenant and, for a branch secretary, the organisations (`orgs`); a service says which roles
see the whole tenant. Use cases take a `Scope` and answer "not found" for anything outside it, so a record out
of scope is neither changed nor described (no name, no contact) whichever endpoint asked.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.auth import Principal


@dataclass(frozen=True)
class Scope:
    tenant: str
    orgs: frozenset[str] | None  # None: the whole tenant

    def covers(self, organisation_id: object) -> bool:
        return self.orgs is None or str(organisation_id) in self.orgs

    @classmethod
    def whole(cls, tenant: str) -> Scope:
        return cls(tenant, None)


def scope_of(user: Principal, *tenant_wide: str) -> Scope:
    """The user's scope: the whole tenant for the service's tenant-wide roles, else the token's branches."""
    return Scope(user.tenant, None if user.has_any(*tenant_wide) else frozenset(user.orgs))
