"""What every learning router shares: roles, the member behind a token, the application, strict input."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Header
from pydantic import Field

from learning.application import LearningApplication
from learning.domain.errors import MemberNotKnown
from shared.auth import Principal, require_roles
from shared.errors import Forbidden, NotFound
from shared.runtime import RuntimeDep
from shared.text import StrictModel
from shared.threads import run_sync

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


async def learning_app(runtime: RuntimeDep) -> LearningApplication:
    app: LearningApplication = runtime.app
    return app


Learning = Annotated[LearningApplication, Depends(learning_app)]


class Strict(StrictModel):
    """Request models: the shared text rules (no control characters), unknown fields refused."""


# Responses carry instants exactly as `datetime.isoformat()` writes them (an offset, `+00:00` for UTC, never `Z`),
# and local days as `date.isoformat()`: text in the models, documented by their format.
Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
Day = Annotated[str, Field(json_schema_extra={"format": "date"})]


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


async def require_member_scope(user: Principal, learning: LearningApplication, member_id: UUID) -> None:
    """A member's points, check-ins and history: the member themself; a branch secretary for the members of the
    branches they hold; committee, administrators and auditors for the tenant's members. Else not found."""
    if _is_self(user, member_id):
        return
    if not user.has_any(*MANAGERS, "auditor"):
        raise Forbidden("a member sees their own record", field="member_id")
    _, branch = await run_sync(learning.participant, user.tenant, member_id)  # not found outside the tenant
    if not user.has_any(*TENANT_WIDE, "auditor") and str(branch) not in user.orgs:
        raise MemberNotKnown(f"member {member_id} is not known in this tenant")


def _uuids(values: frozenset[str]) -> set[UUID]:
    """The organisation ids of a token's `orgs` claim; a value that is no id names no branch."""
    found: set[UUID] = set()
    for value in values:
        try:
            found.add(UUID(value))
        except ValueError:
            continue
    return found


async def content_scope(user: Principal, learning: LearningApplication) -> list[UUID] | None:
    """The branches whose content (courses, quizzes) a person reads besides the tenant-wide content: None for
    committee, administrators and auditors (everything); a branch secretary's branches; a member's own branch."""
    if user.has_any(*TENANT_WIDE, "auditor"):
        return None
    mine = _uuids(user.orgs) if user.has_any("branch_secretary") else set()
    if user.has_any("member"):
        try:
            _, branch = await run_sync(learning.participant, user.tenant, member_id_of(user))
            mine.add(branch)
        except (Forbidden, MemberNotKnown):
            pass
    return sorted(mine)


async def require_visible(
    user: Principal, learning: LearningApplication, organisation_ids: list[UUID], missing: NotFound
) -> None:
    """Content assigned to branches (empty: the whole tenant) is read by those branches' secretaries and
    members, and by committee, administrators and auditors; anyone else is told it does not exist. The lists
    apply the same rule (`content_scope`), so nothing is listed that would then not be found."""
    if not organisation_ids:
        return
    scope = await content_scope(user, learning)
    if scope is not None and not set(scope) & set(organisation_ids):
        raise missing


def _is_self(user: Principal, member_id: UUID) -> bool:
    try:
        return member_id_of(user) == member_id
    except Forbidden:
        return False


def is_self_or_manager(user: Principal, member_id: UUID) -> bool:
    if user.has_any(*MANAGERS, "auditor"):
        return True
    try:
        return member_id_of(user) == member_id
    except Forbidden:
        return False


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
