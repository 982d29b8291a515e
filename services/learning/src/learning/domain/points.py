"""The points ledger: one entry per (rule, action, member), capped per rule per member per local day.

Points are an app rule, not a party rule: they never stand in for attendance at 三会一课 (DOMAIN.md section 4).
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

POINTS_NAMESPACE = UUID("2c9e7a41-6d0b-4b8f-a3e5-7f1c2d3b4a50")


def entry_id(rule: str, action_id: str, member_id: UUID) -> UUID:
    """The same action can never be granted twice: a second entry collides on version 1."""
    return uuid5(POINTS_NAMESPACE, f"entry|{rule}|{action_id}|{member_id}")


def daily_id(tenant_id: str, member_id: UUID, rule: str, day: date) -> UUID:
    return uuid5(POINTS_NAMESPACE, f"day|{tenant_id}|{member_id}|{rule}|{day.isoformat()}")


class PointEntry(Aggregate):
    TOPIC = "lianxin.learning.PointEntry"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.learning.PointEntry.Created"

    class Granted(Created):
        """`points` may be below `requested` (or 0) when the day's cap was reached; the cause is kept either way."""

        TOPIC = "lianxin.learning.PointEntry.Granted"
        tenant_id: str
        member_id: UUID
        organisation_id: UUID | None
        rule: str
        action_id: str
        requested: int
        points: int
        local_date: date
        cause: str
        at: datetime

    @event(Granted)
    def __init__(
        self,
        *,
        id: UUID,
        tenant_id: str,
        member_id: UUID,
        organisation_id: UUID | None,
        rule: str,
        action_id: str,
        requested: int,
        points: int,
        local_date: date,
        cause: str,
        at: datetime,
    ) -> None:
        self.tenant_id = tenant_id
        self.member_id = member_id
        self.rule = rule
        self.action_id = action_id
        self.requested = requested
        self.points = points
        self.cause = cause


class DailyPoints(Aggregate):
    """What one member earned under one rule on one local day: the cap's counter, saved with each entry."""

    TOPIC = "lianxin.learning.DailyPoints"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.learning.DailyPoints.Created"

    class Opened(Created):
        TOPIC = "lianxin.learning.DailyPoints.Opened"
        tenant_id: str
        member_id: UUID
        rule: str
        local_date: date

    class Added(Event):
        TOPIC = "lianxin.learning.DailyPoints.Added"
        points: int

    @event(Opened)
    def __init__(self, *, id: UUID, tenant_id: str, member_id: UUID, rule: str, local_date: date) -> None:
        self.total = 0

    @event(Added)
    def _added(self, points: int) -> None:
        self.total += points

    def add(self, points: int) -> None:
        if points > 0:
            self._added(points=points)


def grant(
    *,
    day: DailyPoints | None,
    tenant_id: str,
    member_id: UUID,
    organisation_id: UUID | None,
    rule: str,
    action_id: str,
    points: int,
    daily_cap: int,
    local_date: date,
    cause: str,
    at: datetime,
) -> list[Aggregate]:
    """The entry and the day's counter, to be saved together; a version clash on either means a retry."""
    counter = day or DailyPoints(
        id=daily_id(tenant_id, member_id, rule, local_date),
        tenant_id=tenant_id,
        member_id=member_id,
        rule=rule,
        local_date=local_date,
    )
    awarded = max(0, min(points, daily_cap - counter.total))
    counter.add(awarded)
    entry = PointEntry(
        id=entry_id(rule, action_id, member_id),
        tenant_id=tenant_id,
        member_id=member_id,
        organisation_id=organisation_id,
        rule=rule,
        action_id=action_id,
        requested=points,
        points=awarded,
        local_date=local_date,
        cause=cause,
        at=at,
    )
    return [entry, counter]
