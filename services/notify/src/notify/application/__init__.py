"""Notify's eventsourcing Application: consumed events become notifications exactly once; deliveries are sent,
retried, dead-lettered and replayed; reminders fire until their items close."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from notify.application.base import DeliveryPolicy
from notify.application.configuration import Configuration
from notify.application.mobile import Mobile
from notify.application.planning import Occasion, Planner
from notify.channels.senders import EmailTarget, Outgoing, SendOutcome, WebhookTarget
from notify.channels.targets import MOBILE_CHANNELS, MobileTarget
from notify.domain import Delivery, DeliveryNotFound, InboxItem, InboxItemNotFound, Reminder, reminder_id
from notify.domain.backoff import retry_delay
from notify.domain.reminder_rules import closed_by, opened_by
from notify.domain.rules import RULES_BY_NAME, owning_tenant, rules_for
from shared.auth import Principal
from shared.envelope import CloudEvent

__all__ = ["DeliveryPolicy", "NotifyApplication"]


class NotifyApplication(Mobile, Configuration):
    # eventsourcing names an Application after its class unless the class itself sets `name`: tables
    # notify_events and notify_tracking, and the env prefix, must not follow the class around.
    name = "notify"
    # Reactions to upstream events (consumers.py chooses which): each returns what it changed, for the consumer
    # to store with the event's position.

    def erase_member(self, member_id: UUID) -> list[Aggregate]:
        """The registry erased the member: their key is destroyed (names in titles and bodies read back None)."""
        self.subject_keys().erase(
            member_id, by="service:registry", basis=f"registry erased member {member_id}", at=self.clock.now()
        )
        return []

    def notifications_for(self, event: CloudEvent, data: dict[str, Any]) -> list[Aggregate]:
        """The notifications the rules make of one upstream event."""
        planner = self._planner()
        occasion = Occasion(event.tenantid, event.id, event.type, event.subject, data)
        created: list[Aggregate] = []
        for rule in rules_for(event.type):
            created.extend(planner.notifications(rule, occasion))
        return created

    def _planner(self) -> Planner:
        return Planner(self, self.directory, now=self.clock.now(), max_attempts=self.delivery.max_attempts)

    def reminders_for(self, event: CloudEvent, data: dict[str, Any]) -> list[Aggregate]:
        """Close the reminders this event settles, then open (or move) the ones it announces."""
        now = self.clock.now()
        # A transfer belongs to its sending tenant, whichever tenant published the step.
        tenant = owning_tenant(event.tenantid, data)
        changed: list[Aggregate] = []
        for spec in closed_by(event.type):
            item = spec.item_id(data)
            reminder = self.find(Reminder, reminder_id(tenant, spec.kind, item)) if item else None
            if reminder is not None and reminder.close(at=now, by_event=event.id):
                changed.append(reminder)
                for delivery_id in reminder.pending_deliveries:
                    delivery = self.find(Delivery, UUID(delivery_id))
                    if delivery is not None:
                        delivery.withdraw_if_pending(reason=f"{spec.kind} closed by {event.type}", at=now)
                        changed.append(delivery)
        for spec in opened_by(event.type):
            item, due_at = spec.item_id(data), spec.due_at(data, event.time)
            if item is None or due_at is None:
                continue
            source = {
                "type": event.type,
                "id": event.id,
                "subject": event.subject,
                "tenant": event.tenantid,
                "data": data,
            }
            existing = self.find(Reminder, reminder_id(tenant, spec.kind, item))
            if existing is None:
                changed.append(
                    Reminder.announce(
                        tenant_id=tenant,
                        kind=spec.kind,
                        item_id=item,
                        due_at=due_at,
                        offsets=spec.offsets,
                        repeats=spec.repeats,
                        source=source,
                        now=now,
                    )
                )
            else:
                existing.reschedule(due_at=due_at, offsets=spec.offsets, source=source, now=now)
                changed.append(existing)
        return changed

    def fire_reminder(self, reminder_uuid: UUID, occurrence: int) -> Reminder | None:
        """A scheduled firing; idempotent: a stale or repeated occurrence, or a closed reminder, does nothing."""
        reminder = self.find(Reminder, reminder_uuid)
        if reminder is None or reminder.closed or occurrence != reminder.occurrences + 1:
            return None
        rule = RULES_BY_NAME[f"reminder.{reminder.kind}"]
        source = reminder.source
        occasion = Occasion(
            source["tenant"],
            f"{reminder.id}:{occurrence}",
            rule.event_type,
            source["subject"],
            source["data"],
            reminder_id=str(reminder.id),
            occurrence=occurrence,
        )
        planner = self._planner()
        created = planner.notifications(rule, occasion)
        policy = planner.policy(reminder.tenant_id)
        interval = timedelta(days=policy.reminder_interval_days if policy else 7)
        deliveries = [str(a.id) for a in created if isinstance(a, Delivery)]
        if not reminder.fire(
            occurrence=occurrence, at=self.clock.now(), interval=interval, deliveries=deliveries
        ):
            return None
        self.save(reminder, *created)
        return reminder

    # Sending: the sender loop prepares an attempt, sends outside any transaction, then records it.

    def prepare_attempt(self, delivery_id: UUID, attempt: int) -> Outgoing | None:
        delivery = self.find(Delivery, delivery_id)
        if delivery is None or not delivery.expects(attempt):
            return None
        target: WebhookTarget | EmailTarget | MobileTarget | None = None
        problem: str | None = None
        if delivery.title is None or delivery.body is None:  # the named member was erased before it went out
            problem = "erased: the personal data this message showed was erased"
        else:
            try:
                target = (
                    self.mobile_target(delivery)
                    if delivery.channel in MOBILE_CHANNELS
                    else self._target(delivery)
                )
            except LookupError as exc:
                problem = str(exc)
        return Outgoing(
            delivery_id=delivery.id,
            attempt=attempt,
            tenant_id=delivery.tenant_id,
            rule=delivery.rule,
            event_type=delivery.event_type,
            event_id=delivery.event_id,
            channel=delivery.channel,
            language=delivery.language,
            title=delivery.title,
            body=delivery.body,
            link=delivery.link,
            target=target,
            problem=problem,
        )

    def _target(self, delivery: Delivery) -> WebhookTarget | EmailTarget:
        if delivery.destination == "member":
            subject = delivery.recipient.rsplit("/", 1)[-1]
            prefs = self.preferences_of(delivery.tenant_id, subject)
            if prefs is None or not prefs.email:
                raise LookupError("the member no longer has an email address")
            return EmailTarget(self.box.open(prefs.email, context=f"{delivery.tenant_id}|email|{subject}"))
        policy = self.policy_of(delivery.tenant_id)
        config = policy.channels.get(delivery.destination) if policy else None
        if config is None or config.kind != delivery.channel:
            raise LookupError(f"channel {delivery.destination!r} was removed")
        context = f"{delivery.tenant_id}|channel|{config.name}"
        if config.kind == "email":
            assert config.address is not None
            return EmailTarget(self.box.open(config.address, context=context))
        assert config.url is not None and config.preset is not None
        secret = self.box.open(config.secret, context=context) if config.secret else None
        return WebhookTarget(config.url, config.preset, secret)

    def record_attempt(self, delivery_id: UUID, attempt: int, outcome: SendOutcome) -> Delivery | None:
        delivery = self.find(Delivery, delivery_id)
        if delivery is None:
            return None
        now = self.clock.now()
        if outcome.ok:
            recorded = delivery.record_sent(
                attempt=attempt, at=now, latency_ms=outcome.latency_ms, detail=outcome.detail
            )
        else:
            delay = retry_delay(
                delivery.round_attempts + 1,
                base_seconds=self.delivery.backoff_base_seconds,
                cap_seconds=self.delivery.backoff_cap_seconds,
                jitter=random.random(),
            )
            recorded = delivery.record_failure(
                attempt=attempt, at=now, reason=outcome.detail, retryable=outcome.retryable, retry_in=delay
            )
        if not recorded:
            return None
        self.save(delivery, *self.after_sent(delivery, outcome))
        return delivery

    def replay_delivery(self, tenant_id: str, delivery_id: UUID, *, by: str) -> Delivery:
        delivery = self.get_delivery(tenant_id, delivery_id)
        delivery.replay(by=by, at=self.clock.now())
        self.save(delivery)
        return delivery

    def get_delivery(self, tenant_id: str, delivery_id: UUID) -> Delivery:
        delivery = self.find(Delivery, delivery_id)
        if delivery is None or delivery.tenant_id != tenant_id:
            raise DeliveryNotFound(f"delivery {delivery_id} not found")
        return delivery

    # The inbox.

    def mark_read(self, user: Principal, item_id: UUID) -> InboxItem:
        """Only a recipient of the item marks it read; anyone else is told it does not exist."""
        item = self.find(InboxItem, item_id)
        if (
            item is None
            or item.tenant_id != user.tenant
            or not item.is_for(user.subject, user.roles, user.orgs)
        ):
            raise InboxItemNotFound(f"inbox item {item_id} not found")
        item.mark_read(by=user.subject, at=self.clock.now())
        self.save(item)
        return item
