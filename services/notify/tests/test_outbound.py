"""Notify's integration events: ids only, from the stored event alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from notify.domain.delivery import Delivery
from notify.domain.inbox import InboxItem
from notify.outbound import NotificationDelivered, NotificationFailed, outbound

AT = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def delivery(channel: str = "email") -> Delivery:
    return Delivery(
        id=uuid4(),
        tenant_id="demo-university",
        rule="transfer_letter_issued",
        event_type="cn.lianxin.transfer.letter_issued.v1",
        event_id="e-1",
        recipient="member:7",
        channel=channel,
        destination="member",
        language="zh-CN",
        title="介绍信已开具 张三",
        body="请于12月8日前报到",
        link=None,
        due_at=AT,
        max_attempts=2,
        reminder_id=None,
        named_member=None,
    )


def test_a_sent_delivery_is_delivered_with_ids_only() -> None:
    d = delivery()
    d.record_sent(attempt=1, at=AT, latency_ms=12, detail="250 ok")
    requested, sent = d.collect_events()
    assert outbound(requested) is None
    tenant, contract = outbound(sent) or ("", None)
    assert tenant == "demo-university"
    assert contract == NotificationDelivered(
        notification_id=d.id, channel="email", kind="transfer_letter_issued", recipient_id="member:7"
    )
    dumped = str(contract.model_dump())
    assert "张三" not in dumped and "member" in dumped and "@" not in dumped


def test_a_dead_lettered_delivery_failed() -> None:
    d = delivery("webhook")
    d.record_failure(attempt=1, at=AT, reason="timeout", retryable=True, retry_in=timedelta(minutes=1))
    d.record_failure(attempt=2, at=AT, reason="timeout", retryable=True, retry_in=timedelta(minutes=1))
    events = d.collect_events()
    mapped = [outbound(e) for e in events]
    assert mapped[1] is None  # a retried attempt is not an outcome
    _, failed = mapped[2] or ("", None)
    assert isinstance(failed, NotificationFailed) and failed.channel == "webhook"


def test_an_inbox_item_is_delivered_to_its_person_or_role() -> None:
    person = InboxItem(
        id=uuid4(),
        tenant_id="demo-district",
        rule="meeting_scheduled",
        recipient_role="person",
        recipient_org=None,
        event_type="cn.lianxin.learning.meeting_scheduled.v1",
        event_id="e-2",
        subject_id="m-1",
        title="t",
        body="b",
        link=None,
        recipient_subject="member:9",
        named_member=None,
    )
    (created,) = person.collect_events()
    tenant, contract = outbound(created) or ("", None)
    assert tenant == "demo-district"
    assert isinstance(contract, NotificationDelivered)
    assert (contract.channel, contract.recipient_id) == ("inbox", "member:9")


def test_an_older_sent_event_without_its_tenant_is_not_published() -> None:
    d = delivery()
    d.record_sent(attempt=1, at=AT, latency_ms=1, detail="ok")
    sent = d.collect_events()[1]
    object.__setattr__(sent, "tenant_id", None)
    assert outbound(sent) is None
