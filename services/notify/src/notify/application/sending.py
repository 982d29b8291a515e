"""Sending: the sender loop prepares an attempt, sends outside any transaction, then records it; an operator
replays a dead letter."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING
from uuid import UUID

from notify.application.sms_records import after_sent
from notify.application.targets import target_of
from notify.channels.senders import EmailTarget, Outgoing, SendOutcome, WebhookTarget
from notify.channels.targets import MobileTarget
from notify.domain import Delivery, DeliveryNotFound
from notify.domain.backoff import retry_delay

if TYPE_CHECKING:
    from notify.application import NotifyApplication


def prepare_attempt(app: NotifyApplication, delivery_id: UUID, attempt: int) -> Outgoing | None:
    delivery = app.find(Delivery, delivery_id)
    if delivery is None or not delivery.expects(attempt):
        return None
    target: WebhookTarget | EmailTarget | MobileTarget | None = None
    problem: str | None = None
    if delivery.title is None or delivery.body is None:  # the named member was erased before it went out
        problem = "erased: the personal data this message showed was erased"
    else:
        try:
            target = target_of(app, delivery)
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


def record_attempt(
    app: NotifyApplication, delivery_id: UUID, attempt: int, outcome: SendOutcome
) -> Delivery | None:
    delivery = app.find(Delivery, delivery_id)
    if delivery is None:
        return None
    now = app.clock.now()
    if outcome.ok:
        recorded = delivery.record_sent(
            attempt=attempt, at=now, latency_ms=outcome.latency_ms, detail=outcome.detail
        )
    else:
        delay = retry_delay(
            delivery.round_attempts + 1,
            base_seconds=app.delivery.backoff_base_seconds,
            cap_seconds=app.delivery.backoff_cap_seconds,
            jitter=random.random(),
        )
        recorded = delivery.record_failure(
            attempt=attempt, at=now, reason=outcome.detail, retryable=outcome.retryable, retry_in=delay
        )
    if not recorded:
        return None
    app.save(delivery, *after_sent(app, delivery, outcome))
    return delivery


def replay_delivery(app: NotifyApplication, tenant_id: str, delivery_id: UUID, *, by: str) -> Delivery:
    delivery = get_delivery(app, tenant_id, delivery_id)
    delivery.replay(by=by, at=app.clock.now())
    app.save(delivery)
    return delivery


def get_delivery(app: NotifyApplication, tenant_id: str, delivery_id: UUID) -> Delivery:
    delivery = app.find(Delivery, delivery_id)
    if delivery is None or delivery.tenant_id != tenant_id:
        raise DeliveryNotFound(f"delivery {delivery_id} not found")
    return delivery
