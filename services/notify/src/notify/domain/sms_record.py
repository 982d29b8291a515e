"""One SMS the provider accepted, then its receipt: the billed units per month are the tenant's cost."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from notify.domain.mobile import MOBILE_NAMESPACE


def sms_record_id(tenant_id: str, provider: str, message_id: str) -> UUID:
    return uuid5(MOBILE_NAMESPACE, f"sms|{tenant_id}|{provider}|{message_id}")


class SmsRecord(Aggregate):
    """One SMS the provider accepted: its id there, billed units and month (the cost count), then its receipt."""

    TOPIC = "lianxin.notify.SmsRecord"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.notify.SmsRecord.Created"

    class Accepted(Created):
        TOPIC = "lianxin.notify.SmsRecord.Accepted"
        tenant_id: str
        provider: str
        message_id: str
        delivery_id: str
        recipient: str
        month: str
        units: int
        at: datetime

    class Receipted(Event):
        """`units`: the billed units the report gives (Alibaba's `sms_size`), else those counted when accepted."""

        TOPIC = "lianxin.notify.SmsRecord.Receipted"
        delivered: bool
        code: str
        at: datetime
        units: int

    @event(Accepted)
    def __init__(
        self,
        *,
        id: UUID,
        tenant_id: str,
        provider: str,
        message_id: str,
        delivery_id: str,
        recipient: str,
        month: str,
        units: int,
        at: datetime,
    ) -> None:
        self.tenant_id = tenant_id
        self.provider = provider
        self.message_id = message_id
        self.delivery_id = delivery_id
        self.recipient = recipient
        self.month = month
        self.units = units
        self.status = "accepted"
        self.receipt_code: str | None = None

    def receipt(self, *, delivered: bool, code: str, at: datetime, units: int | None = None) -> bool:
        """Providers repeat reports: the first final report counts, repeats change nothing."""
        if self.status != "accepted":
            return False
        self._receipted(delivered=delivered, code=code[:100], at=at, units=units if units else self.units)
        return True

    @event(Receipted)
    def _receipted(self, delivered: bool, code: str, at: datetime, units: int) -> None:
        self.status = "delivered" if delivered else "failed"
        self.receipt_code = code
        self.units = units
