"""What a member allows on their phone (a linked WeChat openid, sealed; the SMS opt-out and its source; the SMS
counted per day for the daily limit), and the keyed digest of a number that finds the member who replies TD."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from notify.domain.mobile import MOBILE_NAMESPACE


def member_reach_id(tenant_id: str, subject: str) -> UUID:
    return uuid5(MOBILE_NAMESPACE, f"reach|{tenant_id}|{subject}")


def phone_index_id(tenant_id: str, digest: str) -> UUID:
    return uuid5(MOBILE_NAMESPACE, f"phone|{tenant_id}|{digest}")


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
