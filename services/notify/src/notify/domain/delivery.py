"""A delivery: one notification to one recipient over email or a webhook, with every attempt recorded.

Its id is `notification_id(rule, event id, recipient, channel)`, so redelivery, restarts and replays find the
same delivery and never start a second one. Sending happens outside the database: the sender loop sends, then
records `Sent`; a crash between the two resends once with the same idempotency key (the delivery id).
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from notify.domain.errors import NotDeadLettered


class DeliveryStatus(enum.Enum):
    Pending = "pending"
    Sent = "sent"
    Dead = "dead"
    Withdrawn = "withdrawn"


class Delivery(Aggregate):
    TOPIC = "lianxin.notify.Delivery"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.notify.Delivery.Created"

    class Requested(Created):
        """`destination` names the tenant channel (webhook, email) or `member` (the member's own address)."""

        TOPIC = "lianxin.notify.Delivery.Requested"
        tenant_id: str
        rule: str
        event_type: str
        event_id: str
        recipient: str
        channel: str
        destination: str
        language: str
        title: str
        body: str
        link: str | None
        due_at: datetime
        max_attempts: int
        reminder_id: str | None
        named_member: str | None = None  # whose name the title or body shows: sealed with that member's key

    class AttemptFailed(Event):
        TOPIC = "lianxin.notify.Delivery.AttemptFailed"
        attempt: int
        at: datetime
        reason: str
        next_attempt_at: datetime

    class Sent(Event):
        TOPIC = "lianxin.notify.Delivery.Sent"
        attempt: int
        at: datetime
        latency_ms: int
        detail: str
        tenant_id: str | None = None  # added later, for notify's integration events: None on older events
        channel: str | None = None
        rule: str | None = None
        recipient: str | None = None

    class DeadLettered(Event):
        TOPIC = "lianxin.notify.Delivery.DeadLettered"
        attempt: int
        at: datetime
        reason: str
        tenant_id: str | None = None  # added later, for notify's integration events: None on older events
        channel: str | None = None
        rule: str | None = None
        recipient: str | None = None

    class Replayed(Event):
        TOPIC = "lianxin.notify.Delivery.Replayed"
        by: str
        at: datetime

    class Withdrawn(Event):
        TOPIC = "lianxin.notify.Delivery.Withdrawn"
        reason: str
        at: datetime

    @event(Requested)
    def __init__(
        self,
        *,
        id: UUID,
        tenant_id: str,
        rule: str,
        event_type: str,
        event_id: str,
        recipient: str,
        channel: str,
        destination: str,
        language: str,
        title: str,
        body: str,
        link: str | None,
        due_at: datetime,
        max_attempts: int,
        reminder_id: str | None,
        named_member: str | None = None,
    ) -> None:
        self.named_member = named_member  # added later: older deliveries default to None
        self.tenant_id = tenant_id
        self.rule = rule
        self.event_type = event_type
        self.event_id = event_id
        self.recipient = recipient
        self.channel = channel
        self.destination = destination
        self.language = language
        self.title = title
        self.body = body
        self.link = link
        self.max_attempts = max_attempts
        self.reminder_id = reminder_id
        self.requested_at = due_at
        self.next_attempt_at: datetime | None = due_at
        self.status = DeliveryStatus.Pending
        self.attempts = 0  # every attempt ever made: numbers attempts across replays
        self.round_attempts = 0  # attempts since the delivery was requested or last replayed
        self.last_error: str | None = None

    @property
    def next_attempt(self) -> int:
        return self.attempts + 1

    def expects(self, attempt: int) -> bool:
        """A scheduled attempt is stale when the delivery moved on (sent, dead, withdrawn, attempted again)."""
        return self.status is DeliveryStatus.Pending and attempt == self.next_attempt

    def record_sent(self, *, attempt: int, at: datetime, latency_ms: int, detail: str) -> bool:
        if not self.expects(attempt):
            return False
        self._sent(attempt=attempt, at=at, latency_ms=latency_ms, detail=detail[:500], **self._about())
        return True

    def record_failure(
        self, *, attempt: int, at: datetime, reason: str, retryable: bool, retry_in: timedelta
    ) -> bool:
        """A permanent failure, or the last allowed attempt, dead-letters; anything else is retried later."""
        if not self.expects(attempt):
            return False
        reason = reason[:500]
        if retryable and self.round_attempts + 1 < self.max_attempts:
            self._attempt_failed(attempt=attempt, at=at, reason=reason, next_attempt_at=at + retry_in)
        else:
            why = reason if not retryable else f"gave up after {self.round_attempts + 1} attempts: {reason}"
            self._dead_lettered(attempt=attempt, at=at, reason=why[:500], **self._about())
        return True

    def _about(self) -> dict[str, str]:
        """What notify's integration events (notify.contracts) say of a delivery: ids, never the address."""
        return {
            "tenant_id": self.tenant_id,
            "channel": self.channel,
            "rule": self.rule,
            "recipient": self.recipient,
        }

    def replay(self, *, by: str, at: datetime) -> None:
        """An operator re-opens a dead delivery: the same delivery (same id and key), a fresh round of attempts."""
        if self.status is not DeliveryStatus.Dead:
            raise NotDeadLettered(
                f"delivery {self.id} is {self.status.value}, only a dead delivery is replayed"
            )
        self._replayed(by=by, at=at)

    def withdraw_if_pending(self, *, reason: str, at: datetime) -> None:
        """The item the notification chased has closed: stop retrying. Safe on a delivery that is done."""
        if self.status is DeliveryStatus.Pending:
            self._withdrawn(reason=reason, at=at)

    @event(Sent)
    def _sent(
        self,
        attempt: int,
        at: datetime,
        latency_ms: int,
        detail: str,
        tenant_id: str | None = None,
        channel: str | None = None,
        rule: str | None = None,
        recipient: str | None = None,
    ) -> None:
        self.attempts = attempt
        self.round_attempts += 1
        self.status = DeliveryStatus.Sent
        self.next_attempt_at = None

    @event(AttemptFailed)
    def _attempt_failed(self, attempt: int, at: datetime, reason: str, next_attempt_at: datetime) -> None:
        self.attempts = attempt
        self.round_attempts += 1
        self.last_error = reason
        self.next_attempt_at = next_attempt_at

    @event(DeadLettered)
    def _dead_lettered(
        self,
        attempt: int,
        at: datetime,
        reason: str,
        tenant_id: str | None = None,
        channel: str | None = None,
        rule: str | None = None,
        recipient: str | None = None,
    ) -> None:
        self.attempts = attempt
        self.round_attempts += 1
        self.last_error = reason
        self.status = DeliveryStatus.Dead
        self.next_attempt_at = None

    @event(Replayed)
    def _replayed(self, by: str, at: datetime) -> None:
        self.status = DeliveryStatus.Pending
        self.round_attempts = 0
        self.next_attempt_at = at

    @event(Withdrawn)
    def _withdrawn(self, reason: str, at: datetime) -> None:
        self.status = DeliveryStatus.Withdrawn
        self.next_attempt_at = None
