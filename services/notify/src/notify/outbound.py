"""The integration events notify publishes (its own contracts) and the outbound mapping that makes them.

Ids only: the tenant, the notification's id, the channel, the kind (the rule that sent it) and the recipient's
id (`member:<id>` or `<role>@<organisation id>`), never an address, a name, a title or a body. A delivery over
the inbox is delivered when it is created; one over email, a webhook, SMS or WeChat when the channel accepted it
(`Sent`), and failed when it was given up (`DeadLettered`). An operator's replay of a dead delivery can make it
delivered later: both events then exist, and the later one by event time is the outcome.
"""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID

from notify.domain.delivery import Delivery
from notify.domain.inbox import InboxItem
from shared.envelope import IntegrationEvent


class NotificationOutcome(IntegrationEvent):
    notification_id: UUID
    channel: str
    kind: str
    recipient_id: str


class NotificationDelivered(NotificationOutcome):
    """A notification reached its channel: the inbox has it, or the provider accepted it."""

    TYPE: ClassVar[str] = "cn.lianxin.notify.notification_delivered.v1"


class NotificationFailed(NotificationOutcome):
    """A notification was given up after its attempts (dead-lettered); an operator may replay it."""

    TYPE: ClassVar[str] = "cn.lianxin.notify.notification_failed.v1"


def _inbox_recipient(event: Any) -> str:
    return event.recipient_subject or f"{event.recipient_role}@{event.recipient_org or '*'}"


def outbound(event: Any) -> tuple[str, IntegrationEvent] | None:
    """A pure mapping of one stored event: every field comes from the event itself."""
    if isinstance(event, InboxItem.Delivered):
        return event.tenant_id, NotificationDelivered(
            notification_id=event.originator_id,
            channel="inbox",
            kind=event.rule,
            recipient_id=_inbox_recipient(event),
        )
    if isinstance(event, Delivery.Sent | Delivery.DeadLettered):
        if not event.tenant_id:  # stored before the events carried it: nothing to say whose it was
            return None
        contract = NotificationDelivered if isinstance(event, Delivery.Sent) else NotificationFailed
        return event.tenant_id, contract(
            notification_id=event.originator_id,
            channel=event.channel or "",
            kind=event.rule or "",
            recipient_id=event.recipient or "",
        )
    return None


PUBLISHED: tuple[type[IntegrationEvent], ...] = (NotificationDelivered, NotificationFailed)
