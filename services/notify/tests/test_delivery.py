"""Deliveries: retried with backoff, dead after the bounded attempts or a permanent refusal, replayed as the same one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest

from notify.application import NotifyApplication
from notify.channels.senders import SendOutcome, WebhookTarget
from notify.consumers import handle
from notify.domain import Delivery, DeliveryStatus, NotDeadLettered
from shared.clock import SettableClock

TENANT = "demo-district"


def webhook_delivery(app: NotifyApplication, cloudevent: Any, *, preset: str = "generic") -> Delivery:
    app.configure_channel(
        TENANT,
        name="hook",
        kind="webhook",
        role="committee",
        org_id=None,
        url="http://127.0.0.1:9/hook",
        preset=preset,
        secret="s3cret-s3cret",
        address=None,
        language="zh-CN",
        quiet_hours=None,
        by="admin",
    )
    data = {
        "member_id": str(uuid4()),
        "organisation_id": str(uuid4()),
        "category": "full",
        "registered_on": "2026-11-22",
    }
    created = handle(app, cloudevent("registry", "member_registered", data, tenant=TENANT))
    (delivery,) = [d for d in created if isinstance(d, Delivery)]
    return delivery


FAIL = SendOutcome(False, True, "HTTP 503: busy")
OK = SendOutcome(True, False, "HTTP 200", latency_ms=12)


def test_the_delivery_id_is_the_notification_key_and_the_secret_opens_only_at_send_time(
    app: NotifyApplication, cloudevent: Any
) -> None:
    delivery = webhook_delivery(app, cloudevent)
    outgoing = app.prepare_attempt(delivery.id, 1)
    assert outgoing is not None and isinstance(outgoing.target, WebhookTarget)
    assert outgoing.target.secret == "s3cret-s3cret"
    policy = app.policy_of(TENANT)
    assert policy is not None and "s3cret" not in str(policy.channels["hook"].secret)


def test_a_failure_is_retried_later_and_a_success_records_sent(
    app: NotifyApplication, cloudevent: Any, clock: SettableClock
) -> None:
    delivery = webhook_delivery(app, cloudevent)
    failed = app.record_attempt(delivery.id, 1, FAIL)
    assert (
        failed is not None and failed.status is DeliveryStatus.Pending and failed.next_attempt_at is not None
    )
    assert timedelta(seconds=5) <= failed.next_attempt_at - clock.now() < timedelta(seconds=10)
    assert app.prepare_attempt(delivery.id, 1) is None, "attempt 1 is done: a second firing of it is stale"
    sent = app.record_attempt(delivery.id, 2, OK)
    assert sent is not None and sent.status is DeliveryStatus.Sent and sent.attempts == 2
    assert app.record_attempt(delivery.id, 2, OK) is None, "recording twice changes nothing"


def test_bounded_attempts_end_dead_and_a_replay_reopens_the_same_delivery(
    app: NotifyApplication, cloudevent: Any
) -> None:
    delivery = webhook_delivery(app, cloudevent)
    for attempt in (1, 2, 3):
        app.record_attempt(delivery.id, attempt, FAIL)
    dead = app.get_delivery(TENANT, delivery.id)
    assert (
        dead.status is DeliveryStatus.Dead
        and dead.last_error
        and "gave up after 3 attempts" in dead.last_error
    )
    replayed = app.replay_delivery(TENANT, delivery.id, by="operator")
    assert replayed.id == delivery.id and replayed.status is DeliveryStatus.Pending
    assert app.prepare_attempt(delivery.id, 4) is not None, "attempt numbers continue across replays"
    assert app.record_attempt(delivery.id, 4, OK) is not None
    with pytest.raises(NotDeadLettered):
        app.replay_delivery(TENANT, delivery.id, by="operator")


def test_a_permanent_refusal_dead_letters_at_once_with_its_reason(
    app: NotifyApplication, cloudevent: Any
) -> None:
    delivery = webhook_delivery(app, cloudevent)
    app.record_attempt(delivery.id, 1, SendOutcome(False, False, "HTTP 404: no such hook"))
    dead = app.get_delivery(TENANT, delivery.id)
    assert dead.status is DeliveryStatus.Dead and dead.last_error == "HTTP 404: no such hook"


def test_a_removed_channel_leaves_nowhere_to_send(app: NotifyApplication, cloudevent: Any) -> None:
    delivery = webhook_delivery(app, cloudevent)
    app.remove_channel(TENANT, "hook", by="admin")
    outgoing = app.prepare_attempt(delivery.id, 1)
    assert outgoing is not None and outgoing.target is None and "removed" in str(outgoing.problem)


def test_quiet_hours_of_the_channel_delay_the_first_attempt(
    app: NotifyApplication, cloudevent: Any, clock: SettableClock
) -> None:
    app.configure_channel(
        TENANT,
        name="night",
        kind="email",
        role="committee",
        org_id=None,
        url=None,
        preset=None,
        secret=None,
        address="c@example.org",
        language="zh-CN",
        quiet_hours={"start": "09:00", "end": "18:00", "timezone": "Asia/Shanghai"},
        by="a",
    )
    data = {
        "member_id": str(uuid4()),
        "organisation_id": str(uuid4()),
        "category": "full",
        "registered_on": "2026-11-22",
    }
    (delivery,) = [
        d
        for d in handle(app, cloudevent("registry", "member_registered", data, tenant=TENANT))
        if isinstance(d, Delivery)
    ]
    assert delivery.next_attempt_at is not None
    assert delivery.next_attempt_at - clock.now() == timedelta(hours=8), "10:00 in Shanghai waits until 18:00"


def test_another_tenant_cannot_see_or_replay_a_delivery(app: NotifyApplication, cloudevent: Any) -> None:
    from notify.domain import DeliveryNotFound

    delivery = webhook_delivery(app, cloudevent)
    with pytest.raises(DeliveryNotFound):
        app.replay_delivery("demo-university", delivery.id, by="operator")
