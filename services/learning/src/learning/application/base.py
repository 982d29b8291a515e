"""What every learning use case leans on: loading within a tenant, options, members, points."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from learning.domain import (
    CourseKind,
    DailyPoints,
    Grade,
    MeetingMode,
    MeetingType,
    MemberCategory,
    Options,
    Participant,
    PointEntry,
    QuizKind,
    ShareReason,
    SignInMethod,
    TenantOptions,
    daily_id,
    entry_id,
    grant,
)
from learning.domain.errors import MemberNotKnown
from shared.clock import Clock, SystemClock
from shared.errors import NotFound
from shared.eventstore import ServiceApplication

A = TypeVar("A", bound=Aggregate)


class LearningBase(ServiceApplication):
    name = "learning"
    enums: ClassVar[Mapping[str, type[enum.Enum]]] = {
        "learning.MeetingType": MeetingType,
        "learning.MeetingMode": MeetingMode,
        "learning.SignInMethod": SignInMethod,
        "learning.Grade": Grade,
        "learning.MemberCategory": MemberCategory,
        "learning.ShareReason": ShareReason,
        "learning.CourseKind": CourseKind,
        "learning.QuizKind": QuizKind,
    }

    def __init__(self, env: Mapping[str, str] | None = None, clock: Clock | None = None) -> None:
        super().__init__(env)
        self.clock = clock or SystemClock()

    def now(self) -> datetime:
        return self.clock.now()

    def load(self, kind: type[A], tenant_id: str, aggregate_id: UUID, error: type[NotFound]) -> A:
        """Another tenant's aggregate answers exactly like a missing one."""
        found: object
        try:
            found = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            found = None
        if not isinstance(found, kind) or getattr(found, "tenant_id", None) != tenant_id:
            raise error(f"{kind.__name__} {aggregate_id} not found")
        return found

    def options(self, tenant_id: str) -> Options:
        saved = self.find(TenantOptions, TenantOptions.create_id(tenant_id))
        return saved.options() if saved is not None else Options()

    def participant(self, tenant_id: str, member_id: UUID) -> tuple[Participant, UUID]:
        """The member and the branch they take part in within this tenant (home branch or host branch)."""
        member = self.find(Participant, member_id)
        branch = member.branch_in(tenant_id) if member is not None else None
        if member is None or branch is None:
            raise MemberNotKnown(f"member {member_id} is not known in this tenant")
        return member, branch

    def points_for(
        self,
        *,
        tenant_id: str,
        member_id: UUID,
        organisation_id: UUID | None,
        rule: str,
        action_id: str,
        cause: str,
        at: datetime,
    ) -> list[Aggregate]:
        """Aggregates to save with the action itself; nothing when the rule gives no points or was granted."""
        options = self.options(tenant_id)
        spec = options.rule(rule)
        if spec["points"] <= 0 or self.find(PointEntry, entry_id(rule, action_id, member_id)) is not None:
            return []
        day = options.local_date(at)
        if not options.within_allowed_hours(at, rule):
            # Recorded with 0 points and the reason: the action counts, the points do not.
            cause, daily_cap = f"{cause} (outside the rule's hours)", 0
        else:
            daily_cap = spec["daily_cap"]
        counter = self.find(DailyPoints, daily_id(tenant_id, member_id, rule, day))
        return grant(
            day=counter,
            tenant_id=tenant_id,
            member_id=member_id,
            organisation_id=organisation_id,
            rule=rule,
            action_id=action_id,
            points=spec["points"],
            daily_cap=daily_cap,
            local_date=day,
            cause=cause,
            at=at,
        )

    def change_options(self, tenant_id: str, changes: dict[str, Any], meta: dict[str, Any]) -> Options:
        def command() -> Options:
            saved = self.find(TenantOptions, TenantOptions.create_id(tenant_id)) or TenantOptions(
                tenant_id=tenant_id
            )
            saved.change(changes, meta)
            self.save(saved)
            return saved.options()

        return self.retrying(command)
