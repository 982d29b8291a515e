"""Reaching members on their phones: a tenant's SMS, WeChat and WeCom settings and escalation ladders. The rest of
the phone channels' aggregates have their own modules: what each member allows (`reach`), the SMS sent
(`sms_record`), escalations of open items (`escalation`).

Credentials and openids arrive here sealed (AES-GCM under CIPHER_KEY). Phone numbers never arrive here at all:
the sender reads them from the registry at send time; only a keyed digest recognises a member who replies TD.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

# The namespace of every id of the phone channels' aggregates (each a uuid5 of the tenant and what it is for).
MOBILE_NAMESPACE = UUID("c6a1f0e2-3b7d-4d8e-9a65-2f4b8c1d7e93")
DEFAULT_SMS_DAILY_LIMIT = 5
DEFAULT_SMS_QUIET_HOURS = {"start": "21:00", "end": "08:00", "timezone": "Asia/Shanghai"}


def mobile_policy_id(tenant_id: str) -> UUID:
    return uuid5(MOBILE_NAMESPACE, f"mobile|{tenant_id}")


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
