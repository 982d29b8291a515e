"""Reaching members on their phones: a tenant's SMS, WeChat and WeCom settings, what each member allows (a linked
WeChat openid, SMS opt-out), the SMS sent (for receipts and the monthly count) and escalations of open items.

Credentials and openids arrive here sealed (AES-GCM under CIPHER_KEY). Phone numbers never arrive here at all:
the sender reads them from the registry at send time; only a keyed digest recognises a member who replies TD.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

MOBILE_NAMESPACE = UUID("c6a1f0e2-3b7d-4d8e-9a65-2f4b8c1d7e93")
DEFAULT_SMS_DAILY_LIMIT = 5
DEFAULT_SMS_QUIET_HOURS = {"start": "21:00", "end": "08:00", "timezone": "Asia/Shanghai"}


def mobile_policy_id(tenant_id: str) -> UUID:
    return uuid5(MOBILE_NAMESPACE, f"mobile|{tenant_id}")


def member_reach_id(tenant_id: str, subject: str) -> UUID:
    return uuid5(MOBILE_NAMESPACE, f"reach|{tenant_id}|{subject}")


def phone_index_id(tenant_id: str, digest: str) -> UUID:
    return uuid5(MOBILE_NAMESPACE, f"phone|{tenant_id}|{digest}")


def sms_record_id(tenant_id: str, provider: str, message_id: str) -> UUID:
    return uuid5(MOBILE_NAMESPACE, f"sms|{tenant_id}|{provider}|{message_id}")


def escalation_id(tenant_id: str, kind: str, item_id: str) -> UUID:
    return uuid5(MOBILE_NAMESPACE, f"escalation|{tenant_id}|{kind}|{item_id}")


class MobilePolicy(Aggregate):
    """`sms`, `wechat`, `wecom` hold a tenant's settings (secrets sealed); `escalations` the ladder per rule."""

    TOPIC = "lianxin.notify.MobilePolicy"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.notify.MobilePolicy.Created"

    class Opened(Created):
        TOPIC = "lianxin.notify.MobilePolicy.Opened"
        tenant_id: str

    class Configured(Event):
        """`part` is sms, wechat or wecom; `config` None removes it."""

        TOPIC = "lianxin.notify.MobilePolicy.Configured"
        part: str
        config: dict[str, Any] | None
        by: str

    class EscalationSet(Event):
        TOPIC = "lianxin.notify.MobilePolicy.EscalationSet"
        rule: str
        ladder: dict[str, Any]
        by: str

    @event(Opened)
    def __init__(self, *, id: UUID, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.parts: dict[str, dict[str, Any]] = {}
        self.escalations: dict[str, dict[str, Any]] = {}

    @classmethod
    def open(cls, tenant_id: str) -> MobilePolicy:
        return cls(id=mobile_policy_id(tenant_id), tenant_id=tenant_id)

    def configure(self, part: str, config: dict[str, Any] | None, *, by: str) -> None:
        if self.parts.get(part) != config:
            self._configured(part=part, config=config, by=by)

    @event(Configured)
    def _configured(self, part: str, config: dict[str, Any] | None, by: str) -> None:
        if config is None:
            self.parts.pop(part, None)
        else:
            self.parts[part] = dict(config)

    def set_escalation(self, rule: str, ladder: dict[str, Any], *, by: str) -> None:
        if self.escalations.get(rule) != ladder:
            self._escalation_set(rule=rule, ladder=ladder, by=by)

    @event(EscalationSet)
    def _escalation_set(self, rule: str, ladder: dict[str, Any], by: str) -> None:
        self.escalations[rule] = dict(ladder)


class MemberReach(Aggregate):
    """What one member allows on the phone: a linked WeChat openid (sealed), SMS opt-out, SMS counted per day."""

    TOPIC = "lianxin.notify.MemberReach"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.notify.MemberReach.Created"

    class Opened(Created):
        TOPIC = "lianxin.notify.MemberReach.Opened"
        tenant_id: str
        subject: str

    class LinkStarted(Event):
        TOPIC = "lianxin.notify.MemberReach.LinkStarted"
        state_digest: str
        at: datetime

    class Linked(Event):
        TOPIC = "lianxin.notify.MemberReach.Linked"
        openid: str  # ciphertext
        at: datetime

    class Unlinked(Event):
        TOPIC = "lianxin.notify.MemberReach.Unlinked"
        at: datetime

    class SmsChoice(Event):
        """`source`: `member` (the member's own setting) or `reply:<provider>` (回复TD退订)."""

        TOPIC = "lianxin.notify.MemberReach.SmsChoice"
        opted_out: bool
        source: str
        at: datetime

    class SmsCounted(Event):
        TOPIC = "lianxin.notify.MemberReach.SmsCounted"
        day: str
        delivery_id: str

    @event(Opened)
    def __init__(self, *, id: UUID, tenant_id: str, subject: str) -> None:
        self.tenant_id = tenant_id
        self.subject = subject
        self.openid: str | None = None
        self.linked_at: datetime | None = None
        self.state_digest: str | None = None
        self.sms_opted_out = False
        self.sms_choice_source: str | None = None
        self.sms_days: dict[str, int] = {}

    @classmethod
    def open(cls, tenant_id: str, subject: str) -> MemberReach:
        return cls(id=member_reach_id(tenant_id, subject), tenant_id=tenant_id, subject=subject)

    def start_link(self, *, state_digest: str, at: datetime) -> None:
        self._link_started(state_digest=state_digest, at=at)

    @event(LinkStarted)
    def _link_started(self, state_digest: str, at: datetime) -> None:
        self.state_digest = state_digest

    def link(self, *, openid: str, at: datetime) -> None:
        self._linked(openid=openid, at=at)

    @event(Linked)
    def _linked(self, openid: str, at: datetime) -> None:
        self.openid = openid
        self.linked_at = at
        self.state_digest = None  # a state is good for one exchange

    def unlink(self, *, at: datetime) -> None:
        if self.openid is not None:
            self._unlinked(at=at)

    @event(Unlinked)
    def _unlinked(self, at: datetime) -> None:
        self.openid = None
        self.linked_at = None

    def choose_sms(self, *, opted_out: bool, source: str, at: datetime) -> bool:
        if opted_out == self.sms_opted_out:
            return False
        self._sms_choice(opted_out=opted_out, source=source, at=at)
        return True

    @event(SmsChoice)
    def _sms_choice(self, opted_out: bool, source: str, at: datetime) -> None:
        self.sms_opted_out = opted_out
        self.sms_choice_source = source

    def count_sms(self, *, day: str, delivery_id: str) -> None:
        self._sms_counted(day=day, delivery_id=delivery_id)

    @event(SmsCounted)
    def _sms_counted(self, day: str, delivery_id: str) -> None:
        # Days are ISO dates: the last eight are plenty for a daily limit.
        kept = dict(self.sms_days)
        kept[day] = kept.get(day, 0) + 1
        self.sms_days = dict(sorted(kept.items())[-8:])

    def sms_on(self, day: str) -> int:
        return self.sms_days.get(day, 0)


class PhoneIndex(Aggregate):
    """A keyed digest of a number to the member it was last sent to: a reply (TD) finds its member."""

    TOPIC = "lianxin.notify.PhoneIndex"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.notify.PhoneIndex.Created"

    class Indexed(Created):
        TOPIC = "lianxin.notify.PhoneIndex.Indexed"
        tenant_id: str
        subject: str

    class Reassigned(Event):
        TOPIC = "lianxin.notify.PhoneIndex.Reassigned"
        subject: str

    @event(Indexed)
    def __init__(self, *, id: UUID, tenant_id: str, subject: str) -> None:
        self.tenant_id = tenant_id
        self.subject = subject

    def point_to(self, subject: str) -> bool:
        if subject == self.subject:
            return False
        self._reassigned(subject=subject)
        return True

    @event(Reassigned)
    def _reassigned(self, subject: str) -> None:
        self.subject = subject


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


class Escalation(Aggregate):
    """An open item near its deadline: after the inbox, a WeChat step and then an SMS step, each taken once,
    and none once the item closes. `steps` are `{"step": "wechat"|"sms", "at": iso}` in order."""

    TOPIC = "lianxin.notify.Escalation"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.notify.Escalation.Created"

    class Opened(Created):
        TOPIC = "lianxin.notify.Escalation.Opened"
        tenant_id: str
        rule: str
        kind: str
        item_id: str
        deadline: datetime
        urgent: bool
        steps: list[dict[str, str]]
        source: dict[str, Any]

    class StepTaken(Event):
        TOPIC = "lianxin.notify.Escalation.StepTaken"
        step: str
        at: datetime
        deliveries: list[str]
        note: str

    class Closed(Event):
        TOPIC = "lianxin.notify.Escalation.Closed"
        at: datetime
        by_event: str

    @event(Opened)
    def __init__(
        self,
        *,
        id: UUID,
        tenant_id: str,
        rule: str,
        kind: str,
        item_id: str,
        deadline: datetime,
        urgent: bool,
        steps: list[dict[str, str]],
        source: dict[str, Any],
    ) -> None:
        self.tenant_id = tenant_id
        self.rule = rule
        self.kind = kind
        self.item_id = item_id
        self.deadline = deadline
        self.urgent = urgent
        self.steps = list(steps)
        self.source = source
        self.taken: dict[str, dict[str, Any]] = {}
        self.closed = False

    def take(self, *, step: str, at: datetime, deliveries: list[str], note: str) -> bool:
        if self.closed or step in self.taken or step not in {s["step"] for s in self.steps}:
            return False
        self._step_taken(step=step, at=at, deliveries=deliveries, note=note)
        return True

    @event(StepTaken)
    def _step_taken(self, step: str, at: datetime, deliveries: list[str], note: str) -> None:
        self.taken[step] = {"at": at.isoformat(), "deliveries": list(deliveries), "note": note}

    @property
    def deliveries(self) -> list[str]:
        return [d for taken in self.taken.values() for d in taken["deliveries"]]

    def close(self, *, at: datetime, by_event: str) -> bool:
        if self.closed:
            return False
        self._closed(at=at, by_event=by_event)
        return True

    @event(Closed)
    def _closed(self, at: datetime, by_event: str) -> None:
        self.closed = True
