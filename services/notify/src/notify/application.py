"""Notify's eventsourcing Application: turns consumed integration events into notifications, exactly once."""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from shared.clock import Clock, SystemClock
from shared.consumer import PermanentFailure
from shared.envelope import CloudEvent
from shared.eventstore import IntegrityError, ServiceApplication, Tracking

from notify.contracts import CONSUMED
from notify.domain import InboxItem, InboxItemNotFound
from notify.rules import rules_for


class NotifyApplication(ServiceApplication):
    name = "notify"

    def __init__(self, env: Mapping[str, str] | None = None, clock: Clock | None = None) -> None:
        super().__init__(env)
        self.clock = clock or SystemClock()

    def handle(self, event: CloudEvent) -> list[InboxItem]:
        """Apply one upstream event; its position is tracked in the same transaction as the items it creates."""
        upstream, position = event.service, event.notification_id
        if self.already_processed(upstream, position):
            return []
        contract = CONSUMED.get(event.type)
        items: list[InboxItem] = []
        if contract is not None:
            try:
                data = contract.model_validate(event.data)
            except ValueError as exc:
                raise PermanentFailure(f"{event.type} does not match its contract: {exc}") from exc
            for rule in rules_for(event.type):
                rendered = rule.render(data)
                for recipient in rule.recipients(data):
                    items.append(InboxItem.deliver(
                        tenant_id=event.tenantid, rule=rule.name, recipient_role=recipient.role,
                        recipient_org=recipient.org, event_type=event.type, event_id=event.id,
                        subject_id=event.subject, title=rendered.title, body=rendered.body, link=rendered.link))
        try:
            self.save_tracked(Tracking(upstream, position), *items)
        except IntegrityError:
            # A concurrent or earlier application of this very event: fine if it is tracked, else retry.
            if not self.already_processed(upstream, position):
                raise
            return []
        return items

    def mark_read(self, tenant_id: str, item_id: UUID, *, by: str) -> InboxItem:
        item: object
        try:
            item = self.repository.get(item_id)
        except AggregateNotFoundError:
            item = None
        if not isinstance(item, InboxItem) or item.tenant_id != tenant_id:
            raise InboxItemNotFound(f"inbox item {item_id} not found")
        item.mark_read(by=by, at=self.clock.now())
        self.save(item)
        return item
