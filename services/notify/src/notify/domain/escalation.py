"""Escalation ladders: after the inbox, a WeChat step and then an SMS step for an item still open near its
deadline. Defaults cover a letter about to expire with the member not yet reported (报到) and a contact case
about to become 失联; a tenant sets any reminder rule's ladder (or switches it off) in its mobile policy. An
`Escalation` is one item's ladder planned against its deadline, each step taken once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from notify.domain.mobile import MOBILE_NAMESPACE
from notify.domain.reminder_rules import ReminderSpec

LOST_CONTACT_AFTER_DAYS = 180  # DOMAIN.md: at risk after 90 silent days, 失联 after 180


@dataclass(frozen=True)
class Ladder:
    enabled: bool = True
    wechat_before_hours: float | None = None  # None: no WeChat step
    sms_before_hours: float | None = None  # None: no SMS step
    urgent: bool = False  # urgent steps ignore quiet hours (never the daily limit or an opt-out)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Ladder:
        return cls(
            **{
                k: data[k]
                for k in ("enabled", "wechat_before_hours", "sms_before_hours", "urgent")
                if k in data
            }
        )


DEFAULT_LADDERS: dict[str, Ladder] = {
    # The letter expires tomorrow and the member has not reported: WeChat three days before, SMS one day before.
    "reminder.letter-expiry": Ladder(wechat_before_hours=72, sms_before_hours=24),
    # An at-risk member about to count as 失联: WeChat two weeks before, SMS one week before.
    "reminder.contact-case": Ladder(wechat_before_hours=14 * 24, sms_before_hours=7 * 24),
}


def deadline_of(
    spec: ReminderSpec, event_type: str, data: Mapping[str, Any], happened_at: datetime
) -> datetime | None:
    """When the item is lost if nobody acts: the reminder's due time, or for an at-risk contact case the day the
    silence reaches 180 days. A case opened as lost contact or self-lapse review is past escalating."""
    if spec.kind == "contact-case":
        if not event_type.endswith(".contact_at_risk.v1"):
            return None
        silent = data.get("silent_days")
        if not isinstance(silent, int):
            return None
        return happened_at + timedelta(days=max(0, LOST_CONTACT_AFTER_DAYS - silent))
    return spec.due_at(data, happened_at)


def plan_steps(ladder: Ladder, deadline: datetime, now: datetime) -> list[dict[str, str]]:
    """WeChat then SMS, each at deadline minus its lead, none before now, SMS never before WeChat; nothing when
    the deadline has passed (the item is lost or closed by its own owner by then)."""
    if not ladder.enabled or deadline <= now:
        return []
    steps: list[dict[str, str]] = []
    earliest = now
    for step, hours in (("wechat", ladder.wechat_before_hours), ("sms", ladder.sms_before_hours)):
        if hours is None:
            continue
        at = max(earliest, deadline - timedelta(hours=hours))
        steps.append({"step": step, "at": at.isoformat()})
        earliest = at
    return steps


def escalation_id(tenant_id: str, kind: str, item_id: str) -> UUID:
    return uuid5(MOBILE_NAMESPACE, f"escalation|{tenant_id}|{kind}|{item_id}")


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
