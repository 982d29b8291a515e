"""What a consumer's run of upstream events reads together, inside its transaction, before its events are applied:
the tenants' policies and the members' preferences its notices need, whether the notices it plans exist already,
and the subject keys that seal the names they show. One query each for the run, where each event read its own.

The notices are planned here (rendered once: each event's reaction takes its own plan), so their ids are known
before the existence check. Anything missing from what was read (an event whose planning failed here, a notice a
reaction plans anew) is read by that event as before; a notice an earlier event of the run may have stored is
always looked up again, so a redelivery under a new position in the same run applies nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from pydantic import BaseModel

from notify.application.planning import Occasion, Planner
from notify.domain import RecipientPreferences, TenantPolicy, policy_id, preferences_id
from notify.domain.rules import rules_for
from shared.envelope import CloudEvent

if TYPE_CHECKING:
    from notify.application import NotifyApplication
    from notify.application.reactions import RunNames

Position = tuple[str, int]


@dataclass
class RunReads:
    """One run's reads, kept for that run only (the names are personal data; policies may change between runs)."""

    names: RunNames
    policies: dict[str, TenantPolicy | None] = field(default_factory=dict)
    preferences: dict[tuple[str, str], RecipientPreferences | None] = field(default_factory=dict)
    planned: dict[Position, list[Aggregate]] = field(default_factory=dict)
    existing: set[UUID] = field(default_factory=set)  # of `checked`, those stored before the run
    checked: set[UUID] = field(default_factory=set)
    handed: set[UUID] = field(default_factory=set)  # returned by a reaction of this run: maybe stored by it

    def clear(self) -> None:
        self.policies.clear()
        self.preferences.clear()
        self.planned.clear()
        self.existing.clear()
        self.checked.clear()
        self.handed.clear()


class RunLookups:
    """The planner's look-ups, answered from the run's reads where they hold the answer, else asked of the
    application (one read each, as without them)."""

    def __init__(self, app: NotifyApplication, reads: RunReads) -> None:
        self.app = app
        self.reads = reads

    def policy_of(self, tenant_id: str) -> TenantPolicy | None:
        if tenant_id in self.reads.policies:
            return self.reads.policies[tenant_id]
        return self.app.policy_of(tenant_id)

    def preferences_of(self, tenant_id: str, subject: str) -> RecipientPreferences | None:
        key = (tenant_id, subject)
        if key in self.reads.preferences:
            return self.reads.preferences[key]
        return self.app.preferences_of(tenant_id, subject)

    def exists(self, aggregate_id: UUID) -> bool:
        if aggregate_id in self.reads.checked and aggregate_id not in self.reads.handed:
            return aggregate_id in self.reads.existing
        return self.app.exists(aggregate_id)


def planner_for_run(app: NotifyApplication, reads: RunReads) -> Planner:
    return Planner(
        RunLookups(app, reads),
        app.directory,
        now=app.clock.now(),
        max_attempts=app.delivery.max_attempts,
        names=reads.names,
    )


@contextmanager
def read_for_run(
    app: NotifyApplication,
    events: Sequence[CloudEvent],
    contracts: Mapping[str, type[BaseModel]],
    reads: RunReads,
) -> Iterator[RunReads]:
    """Fill `reads` for these events (inside the run's transaction: `shared.consumer.apply_tracked_in_order`'s
    prepare), hold the subject keys of the names the plans show until the block ends, and empty `reads` then."""
    reads.clear()
    try:
        occasions = list(_occasions(app, events, contracts))
        _read_policies_and_preferences(app, occasions, reads)
        planner = planner_for_run(app, reads)
        named: set[UUID] = set()
        for position, occasion in occasions:
            try:
                plan = [a for rule in rules_for(occasion.event_type) for a in planner.plan(rule, occasion)]
            except Exception:
                continue
            reads.planned[position] = plan
            named.update(UUID(str(m)) for a in plan if (m := getattr(a, "named_member", None)))
        planned_ids = {a.id for plan in reads.planned.values() for a in plan}
        reads.existing = app.existing(planned_ids)
        reads.checked = planned_ids
        with app.subject_keys().held(named):
            yield reads
    finally:
        reads.clear()


def _occasions(
    app: NotifyApplication, events: Sequence[CloudEvent], contracts: Mapping[str, type[BaseModel]]
) -> Iterator[tuple[Position, Occasion]]:
    for event in events:
        contract = contracts.get(event.type)
        if contract is None or not rules_for(event.type):
            continue
        if event.notification_id <= app.known_tracked(event.service):
            continue  # a known duplicate: the run skips it
        try:
            data: dict[str, Any] = contract.model_validate(event.data).model_dump(mode="json")
        except ValueError:
            continue  # the run dead-letters it
        occasion = Occasion(event.tenantid, event.id, event.type, event.subject, data)
        yield (event.service, event.notification_id), occasion


def _read_policies_and_preferences(
    app: NotifyApplication, occasions: Sequence[tuple[Position, Occasion]], reads: RunReads
) -> None:
    tenants: set[str] = set()
    people: set[tuple[str, str]] = set()
    for _, occasion in occasions:
        for rule in rules_for(occasion.event_type):
            for recipient in rule.recipients(occasion.tenant, occasion.data):
                tenants.add(recipient.tenant)
                if recipient.subject:
                    people.add((recipient.tenant, recipient.subject))
    ids: dict[UUID, tuple[str, Any]] = {policy_id(t): ("policy", t) for t in tenants}
    ids.update({preferences_id(t, s): ("preferences", (t, s)) for t, s in people})
    found = app.find_many(Aggregate, ids)
    for aggregate_id, (kind, key) in ids.items():
        aggregate = found.get(aggregate_id)
        if kind == "policy":
            reads.policies[key] = aggregate if isinstance(aggregate, TenantPolicy) else None
        else:
            reads.preferences[key] = aggregate if isinstance(aggregate, RecipientPreferences) else None
