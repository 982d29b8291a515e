"""What an accepted SMS leaves behind (the member's count for the day, the tenant's record for the month's bill,
the number's digest pointing at the member for a TD reply) and the provider's receipt of it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from eventsourcing.domain import Aggregate

from notify.application.reach import reach_or_open
from notify.channels.senders import SendOutcome
from notify.channels.sms import Receipt
from notify.domain import Delivery
from notify.domain.quiet import DEFAULT_TIMEZONE
from notify.domain.reach import PhoneIndex, phone_index_id
from notify.domain.sms_record import SmsRecord, sms_record_id

if TYPE_CHECKING:
    from notify.application import NotifyApplication


def local_day(at: datetime) -> str:
    """The day an SMS counts for (the daily limit): in China's time zone."""
    return at.astimezone(ZoneInfo(DEFAULT_TIMEZONE)).date().isoformat()


def record_sms_receipt(
    app: NotifyApplication, tenant_id: str, provider: str, receipt: Receipt
) -> SmsRecord | None:
    record = app.find(SmsRecord, sms_record_id(tenant_id, provider, receipt.message_id))
    if record is None or record.tenant_id != tenant_id:
        return None
    if record.receipt(
        delivered=receipt.delivered, code=receipt.code, at=app.clock.now(), units=receipt.units
    ):
        app.save(record)
    return record


def after_sent(app: NotifyApplication, delivery: Delivery, outcome: SendOutcome) -> list[Aggregate]:
    """An accepted SMS is counted for the member's day and the tenant's month, and its number's digest points at
    the member (for a TD reply)."""
    if delivery.channel != "sms" or not outcome.ok:
        return []
    subject = delivery.recipient.rsplit("/", 1)[-1]
    now = app.clock.now()
    reach = reach_or_open(app, delivery.tenant_id, subject)
    reach.count_sms(day=local_day(now), delivery_id=str(delivery.id))
    changed: list[Aggregate] = [reach]
    if outcome.reference:
        provider = _sms_provider(app, delivery.tenant_id)
        record_id = sms_record_id(delivery.tenant_id, provider, outcome.reference)
        if app.find(SmsRecord, record_id) is None:
            changed.append(
                SmsRecord(
                    id=record_id,
                    tenant_id=delivery.tenant_id,
                    provider=provider,
                    message_id=outcome.reference,
                    delivery_id=str(delivery.id),
                    recipient=delivery.recipient,
                    month=now.astimezone(ZoneInfo(DEFAULT_TIMEZONE)).strftime("%Y-%m"),
                    units=max(1, outcome.units),
                    at=now,
                )
            )
    if outcome.phone_digest:
        index_id = phone_index_id(delivery.tenant_id, outcome.phone_digest)
        index = app.find(PhoneIndex, index_id)
        if index is None:
            changed.append(PhoneIndex(id=index_id, tenant_id=delivery.tenant_id, subject=subject))
        elif index.point_to(subject):
            changed.append(index)
    return changed


def _sms_provider(app: NotifyApplication, tenant_id: str) -> str:
    policy = app.mobile_policy_of(tenant_id)
    sms = policy.parts.get("sms") if policy else None
    return str(sms["provider"]) if sms else "unknown"
