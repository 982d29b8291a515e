"""Dependencies and small models shared by the registry's routers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Request

from registry.application import RegistryApplication
from registry.application.members import Registration
from registry.domain import Member
from shared.auth import Principal, require_roles
from shared.groupcommit import GroupCommit
from shared.runtime import Runtime, runtime_of
from shared.scope import Scope, scope_of
from shared.text import StrictModel

Admins = Annotated[Principal, require_roles("committee", "tenant_admin")]
Registrars = Annotated[Principal, require_roles("branch_secretary", "committee", "tenant_admin")]
Readers = Annotated[Principal, require_roles("branch_secretary", "committee", "tenant_admin", "auditor")]
# One member, also for the services (transfer, notify): their tokens' scopes then decide which fields they get.
MemberReaders = Annotated[
    Principal, require_roles("branch_secretary", "committee", "tenant_admin", "auditor", "service")
]
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", description="makes a retried POST safe")
]
# Roles whose work needs the full national ID number and phone (issuing letters, the transfer service).
UNMASKING_ROLES = ("committee", "tenant_admin", "service")


# The registry's routes take the runtime typed with the registry's application, through coroutines (FastAPI runs
# a plain `def` dependency in its worker threads, a hop there and back on every request).
async def registry_runtime(request: Request) -> Runtime[RegistryApplication, Any]:
    return runtime_of(request)


RuntimeDep = Annotated[Runtime[RegistryApplication, Any], Depends(registry_runtime)]


async def registry_app(runtime: RuntimeDep) -> RegistryApplication:
    return runtime.app


Registry = Annotated[RegistryApplication, Depends(registry_app)]


async def registrations(runtime: RuntimeDep) -> GroupCommit[Registration, Member]:
    """Registrations that arrive together are stored together (shared.groupcommit): one batcher per process."""
    batcher = runtime.extras.get("registrations")
    if not isinstance(batcher, GroupCommit):
        batcher = runtime.extras["registrations"] = GroupCommit(runtime.app.register_members)
    return batcher


Registrations = Annotated[GroupCommit[Registration, Member], Depends(registrations)]


class Strict(StrictModel):
    """Request models: the shared text rules (no control characters), unknown fields refused."""


# Committee-level roles see the whole tenant; a branch secretary the branches in the token.
TENANT_WIDE = ("committee", "tenant_admin", "auditor", "service")


def scope(user: Principal) -> Scope:
    """What the user's commands and reads may touch; use cases refuse the rest as not found."""
    return scope_of(user, *TENANT_WIDE)


def in_scope(user: Principal, organisation_id: object) -> bool:
    return scope(user).covers(organisation_id)
