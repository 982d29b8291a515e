"""The in-app inbox: one item is one notification to one recipient, keyed so it exists at most once."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

NOTIFICATION_NAMESPACE = UUID("a3d0c4f2-5b8e-4c1a-9f3e-7d2b6c9e1a40")


def notification_id(rule: str, event_id: str, recipient: str, channel: str) -> UUID:
    """(rule, event id, recipient, channel) names one notification: redelivery and replay find the same one."""
    return uuid5(NOTIFICATION_NAMESPACE, f"{rule}|{event_id}|{recipient}|{channel}")


class InboxItem(Aggregate):
    TOPIC = "lianxin.notify.InboxItem"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.notify.InboxItem.Created"

    class Delivered(Aggregate.Created):
        """recipient_subject is set for a person (`member:<id>`); role and org address everyone holding a role."""

        TOPIC = "lianxin.notify.InboxItem.Delivered"
        tenant_id: str
        rule: str
        recipient_role: str
        recipient_org: str | None
        event_type: str
        event_id: str
        subject_id: str
        title: str
        body: str
        link: str | None
        recipient_subject: str | None = None
        named_member: str | None = None  # whose name the title or body shows: sealed with that member's key

    class Read(Event):
        TOPIC = "lianxin.notify.InboxItem.Read"
        by: str
        at: datetime

    @event(Delivered)
    def __init__(
        self,
        *,
        id: UUID,
        tenant_id: str,
        rule: str,
        recipient_role: str,
        recipient_org: str | None,
        event_type: str,
        event_id: str,
        subject_id: str,
        title: str,
        body: str,
        link: str | None,
        recipient_subject: str | None = None,
        named_member: str | None = None,
    ) -> None:
        # recipient_subject and named_member came after the first events were stored: older items default to None.
        self.named_member = named_member
        self.tenant_id = tenant_id
        self.rule = rule
        self.recipient_role = recipient_role
        self.recipient_org = recipient_org
        self.recipient_subject = recipient_subject
        self.event_type = event_type
        self.event_id = event_id
        self.subject_id = subject_id
        self.title = title
        self.body = body
        self.link = link
        self.read_at: datetime | None = None

    def is_for(self, subject: str, roles: frozenset[str], orgs: frozenset[str]) -> bool:
        """The same rule as the inbox listing: a person's item is theirs alone; a role's item every holder's
        (in the organisation, when it names one)."""
        if self.recipient_subject is not None:
            return self.recipient_subject == subject
        return self.recipient_role in roles and (self.recipient_org is None or self.recipient_org in orgs)

    def mark_read(self, *, by: str, at: datetime) -> None:
        if self.read_at is not None:
            return
        self._read(by=by, at=at)

    @event(Read)
    def _read(self, *, by: str, at: datetime) -> None:
        self.read_at = at

    @classmethod
    def deliver(cls, *, recipient_key: str | None = None, **kwargs: Any) -> InboxItem:
        key = recipient_key or f"{kwargs['recipient_role']}@{kwargs['recipient_org'] or '*'}"
        return cls(id=notification_id(kwargs["rule"], kwargs["event_id"], key, "inbox"), **kwargs)
