"""Reactions to upstream events (consumers.py chooses which): each returns what it changed, for the consumer to
store with the event's position. And the reminders' firings, which the scheduler runs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from notify.application.planning import Occasion, Planner, named_key
from notify.application.runs import RunReads, planner_for_run
from notify.domain import Delivery, Reminder, reminder_id
from notify.domain.reminder_rules import closed_by, opened_by
from notify.domain.rules import RULES_BY_NAME, owning_tenant, rules_for
from shared.envelope import CloudEvent

if TYPE_CHECKING:
    from notify.application import NotifyApplication


def erase_member(app: NotifyApplication, member_id: UUID) -> list[Aggregate]:
    """The registry erased the member: their key is destroyed (names in titles and bodies read back None)."""
    app.subject_keys().erase(
        member_id, by="service:registry", basis=f"registry erased member {member_id}", at=app.clock.now()
    )
    return []


# (tenant, member id) -> the member's name, or None when erased; read for one run of events and dropped with it.
RunNames = Mapping[tuple[str, str], str | None]


def names_for_run(app: NotifyApplication, events: Iterable[CloudEvent]) -> RunNames:
    """The names the notices of these events will show, read before their run is applied: one read of the
    registry's roll per tenant (per 200 members), with notify's token for that tenant, instead of one per event.
    Kept by the caller for this run only (names are personal data; an erasure is applied alone, never inside a
    run). A member the roll does not list, or a failed read, is left out: the planner asks for it alone, as it
    always did, and renders without the name when that fails too."""
    wanted: dict[str, list[UUID]] = {}
    for event in events:
        if not rules_for(event.type) or not isinstance(event.data, Mapping):
            continue
        if event.notification_id <= app.known_tracked(event.service):
            continue  # a known duplicate: the run skips it without planning
        key = named_key(event.tenantid, event.data)
        if key is None:
            continue
        try:
            member_id = UUID(key[1])
        except ValueError:
            continue  # the contract check refuses it
        wanted.setdefault(key[0], []).append(member_id)
    names: dict[tuple[str, str], str | None] = {}
    for tenant, member_ids in wanted.items():
        for member_id, name in app.directory.member_names(tenant, member_ids).items():
            names[(tenant, str(member_id))] = name
    return names


def notifications_for(
    app: NotifyApplication, event: CloudEvent, data: dict[str, Any], reads: RunReads | None = None
) -> list[Aggregate]:
    """The notifications the rules make of one upstream event (`reads`: what was read for its run, and the plan
    made there for this event, if any)."""
    if reads is None:
        planner = _planner(app)
        planned = None
    else:
        planner = planner_for_run(app, reads)
        planned = reads.planned.pop((event.service, event.notification_id), None)
    if planned is None:
        occasion = Occasion(event.tenantid, event.id, event.type, event.subject, data)
        planned = [a for rule in rules_for(event.type) for a in planner.plan(rule, occasion)]
    created = planner.not_yet_stored(planned)
    if reads is not None:
        reads.handed.update(a.id for a in created)
    return created


def reminders_for(app: NotifyApplication, event: CloudEvent, data: dict[str, Any]) -> list[Aggregate]:
    """Close the reminders this event settles, then open (or move) the ones it announces."""
    now = app.clock.now()
    # A transfer belongs to its sending tenant, whichever tenant published the step.
    tenant = owning_tenant(event.tenantid, data)
    changed: list[Aggregate] = []
    for spec in closed_by(event.type):
        item = spec.item_id(data)
        reminder = app.find(Reminder, reminder_id(tenant, spec.kind, item)) if item else None
        if reminder is not None and reminder.close(at=now, by_event=event.id):
            changed.append(reminder)
            for delivery_id in reminder.pending_deliveries:
                delivery = app.find(Delivery, UUID(delivery_id))
                if delivery is not None:
                    delivery.withdraw_if_pending(reason=f"{spec.kind} closed by {event.type}", at=now)
                    changed.append(delivery)
    for spec in opened_by(event.type):
        item, due_at = spec.item_id(data), spec.due_at(data, event.time)
        if item is None or due_at is None:
            continue
        source = {
            "type": event.type,
            "id": event.id,
            "subject": event.subject,
            "tenant": event.tenantid,
            "data": data,
        }
        existing = app.find(Reminder, reminder_id(tenant, spec.kind, item))
        if existing is None:
            changed.append(
                Reminder.announce(
                    tenant_id=tenant,
                    kind=spec.kind,
                    item_id=item,
                    due_at=due_at,
                    offsets=spec.offsets,
                    repeats=spec.repeats,
                    source=source,
                    now=now,
                )
            )
        else:
            existing.reschedule(due_at=due_at, offsets=spec.offsets, source=source, now=now)
            changed.append(existing)
    return changed


def fire_reminder(app: NotifyApplication, reminder_uuid: UUID, occurrence: int) -> Reminder | None:
    """A scheduled firing; idempotent: a stale or repeated occurrence, or a closed reminder, does nothing."""
    reminder = app.find(Reminder, reminder_uuid)
    if reminder is None or reminder.closed or occurrence != reminder.occurrences + 1:
        return None
    rule = RULES_BY_NAME[f"reminder.{reminder.kind}"]
    source = reminder.source
    occasion = Occasion(
        source["tenant"],
        f"{reminder.id}:{occurrence}",
        rule.event_type,
        source["subject"],
        source["data"],
        reminder_id=str(reminder.id),
        occurrence=occurrence,
    )
    planner = _planner(app)
    created = planner.notifications(rule, occasion)
    policy = planner.policy(reminder.tenant_id)
    interval = timedelta(days=policy.reminder_interval_days if policy else 7)
    deliveries = [str(a.id) for a in created if isinstance(a, Delivery)]
    if not reminder.fire(occurrence=occurrence, at=app.clock.now(), interval=interval, deliveries=deliveries):
        return None
    app.save(reminder, *created)
    return reminder


def _planner(app: NotifyApplication) -> Planner:
    return Planner(app, app.directory, now=app.clock.now(), max_attempts=app.delivery.max_attempts)
