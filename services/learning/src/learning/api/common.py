"""What every learning router shares: roles, the member behind a token, the application, strict input."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Header

from learning.application import LearningApplication
from shared.auth import Principal, require_roles
from shared.errors import Forbidden
from shared.runtime import RuntimeDep
from shared.threads import run_sync
from shared.text import StrictModel

MANAGERS = ("branch_secretary", "committee", "tenant_admin")
TENANT_WIDE = ("committee", "tenant_admin")

Secretaries = Annotated[Principal, require_roles(*MANAGERS)]
Readers = Annotated[Principal, require_roles(*MANAGERS, "auditor")]
Members = Annotated[Principal, require_roles("member")]
Anyone = Annotated[Principal, require_roles("member", *MANAGERS, "auditor")]
Admins = Annotated[Principal, require_roles(*TENANT_WIDE)]
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", description="makes a retried POST safe")
]


def learning_app(runtime: RuntimeDep) -> LearningApplication:
    app: LearningApplication = runtime.app
    return app


Learning = Annotated[LearningApplication, Depends(learning_app)]


# The routers call use cases through the one thread hand-off of shared/.
run = run_sync


class Strict(StrictModel):
    """Request models: the shared text rules (no control characters), unknown fields refused."""


def member_id_of(user: Principal) -> UUID:
    """A member's token carries `sub = member:<member id>`; the member acts only as themself."""
    prefix, _, raw = user.subject.partition(":")
    try:
        if prefix != "member" or not user.has_any("member"):
            raise ValueError
        return UUID(raw)
    except ValueError:
        raise Forbidden("this action is a member's own: the token's subject is member:<member id>") from None


def require_org(user: Principal, organisation_id: UUID | str) -> None:
    """A branch secretary manages the branches in the token's `orgs`; committee and admins the whole tenant."""
    if not user.has_any(*TENANT_WIDE) and str(organisation_id) not in user.orgs:
        raise Forbidden("a branch secretary acts only for the branches they hold", field="organisation_id")


def visible_orgs(user: Principal) -> list[str] | None:
    """None: the whole tenant; else the organisations a secretary holds."""
    return None if user.has_any(*TENANT_WIDE, "auditor") else sorted(user.orgs)


def is_self_or_manager(user: Principal, member_id: UUID) -> bool:
    if user.has_any(*MANAGERS, "auditor"):
        return True
    try:
        return member_id_of(user) == member_id
    except Forbidden:
        return False


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
