"""A reminder chases one open item (a letter about to expire, a receipt overdue, a report due) until it closes.

Announced by another service's event, it fires at planned times and then, if it repeats, every interval the
tenant set, until an event closes the item. The firing times are computed in command methods and recorded in
events, so a replay re-creates the same schedule.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

REMINDER_NAMESPACE = UUID("8b4e2f6a-1c3d-4a5b-9e7f-6d0c2b1a3e95")


def reminder_id(tenant_id: str, kind: str, item_id: str) -> UUID:
    return uuid5(REMINDER_NAMESPACE, f"reminder|{tenant_id}|{kind}|{item_id}")


class Reminder(Aggregate):
    TOPIC = "lianxin.notify.Reminder"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.notify.Reminder.Created"

    class Announced(Created):
        """`source` is the announcing CloudEvent (ids and dates only): templates and recipients come from it."""

        TOPIC = "lianxin.notify.Reminder.Announced"
        tenant_id: str
        kind: str
        item_id: str
        due_at: datetime
        planned: list[datetime]
        repeats: bool
        source: dict[str, Any]

    class Rescheduled(Event):
        TOPIC = "lianxin.notify.Reminder.Rescheduled"
        due_at: datetime
        planned: list[datetime]
        source: dict[str, Any]

    class Reminded(Event):
        TOPIC = "lianxin.notify.Reminder.Reminded"
        occurrence: int
        at: datetime
        next_at: datetime | None
        deliveries: list[str]

    class Closed(Event):
        TOPIC = "lianxin.notify.Reminder.Closed"
        at: datetime
        by_event: str

    @event(Announced)
    def __init__(
        self,
        *,
        id: UUID,
        tenant_id: str,
        kind: str,
        item_id: str,
        due_at: datetime,
        planned: list[datetime],
        repeats: bool,
        source: dict[str, Any],
    ) -> None:
        self.tenant_id = tenant_id
        self.kind = kind
        self.item_id = item_id
        self.repeats = repeats
        self.occurrences = 0
        self.closed = False
        self.pending_deliveries: list[str] = []
        self._plan(due_at, planned, source)

    def _plan(self, due_at: datetime, planned: list[datetime], source: dict[str, Any]) -> None:
        self.due_at = due_at
        self.planned = list(planned)
        self.source = source
        self.next_at: datetime | None = planned[0] if planned else None

    @classmethod
    def announce(
        cls,
        *,
        tenant_id: str,
        kind: str,
        item_id: str,
        due_at: datetime,
        offsets: tuple[timedelta, ...],
        repeats: bool,
        source: dict[str, Any],
        now: datetime,
    ) -> Reminder:
        return cls(
            id=reminder_id(tenant_id, kind, item_id),
            tenant_id=tenant_id,
            kind=kind,
            item_id=item_id,
            due_at=due_at,
            planned=plan(due_at, offsets, now),
            repeats=repeats,
            source=source,
        )

    def reschedule(
        self, *, due_at: datetime, offsets: tuple[timedelta, ...], source: dict[str, Any], now: datetime
    ) -> None:
        """The item's due date moved (a reissued letter): plan again from the occurrences still to come."""
        if self.closed or due_at == self.due_at:
            return
        self._rescheduled(due_at=due_at, planned=plan(due_at, offsets, now), source=source)

    @event(Rescheduled)
    def _rescheduled(self, due_at: datetime, planned: list[datetime], source: dict[str, Any]) -> None:
        self._plan(due_at, [*self.planned[: self.occurrences], *planned], source)
        self.next_at = planned[0] if planned else None

    def fire(self, *, occurrence: int, at: datetime, interval: timedelta, deliveries: list[str]) -> bool:
        """Returns False for a stale or closed firing: the scheduler may fire an occurrence again after a crash."""
        if self.closed or occurrence != self.occurrences + 1:
            return False
        if occurrence < len(self.planned):
            next_at: datetime | None = max(self.planned[occurrence], at)
        elif self.repeats:
            next_at = at + interval
        else:
            next_at = None
        self._reminded(occurrence=occurrence, at=at, next_at=next_at, deliveries=deliveries)
        return True

    @event(Reminded)
    def _reminded(
        self, occurrence: int, at: datetime, next_at: datetime | None, deliveries: list[str]
    ) -> None:
        self.occurrences = occurrence
        self.next_at = next_at
        self.pending_deliveries = [*self.pending_deliveries, *deliveries]

    def close(self, *, at: datetime, by_event: str) -> bool:
        if self.closed:
            return False
        self._closed(at=at, by_event=by_event)
        return True

    @event(Closed)
    def _closed(self, at: datetime, by_event: str) -> None:
        self.closed = True
        self.next_at = None


def plan(due_at: datetime, offsets: tuple[timedelta, ...], now: datetime) -> list[datetime]:
    """Firing times at due + offset, those already past collapsed into one firing now (never a burst)."""
    times = sorted(due_at + offset for offset in offsets)
    future = [t for t in times if t > now]
    return ([now] if len(future) < len(times) else []) + future
