"""What notify does with each upstream event (registry, transfer, learning): one reaction, handed to
shared.consumer, which skips a tracked position, checks the contract and stores the result with the position."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from uuid import UUID

from eventsourcing.domain import Aggregate
from pydantic import BaseModel, ValidationError

from notify.application import NotifyApplication
from notify.application.runs import RunReads, read_for_run
from notify.contracts import CONSUMED, MemberErased
from notify.readmodels.projection import clear_named
from shared.consumer import Applied, Handler, apply_tracked, apply_tracked_in_order, each_alone
from shared.db import system_transaction
from shared.envelope import CloudEvent
from shared.runtime import Runtime
from shared.threads import run_sync

logger = logging.getLogger("lianxin.notify.consumers")

UPSTREAMS = ("notify-from-registry", "notify-from-transfer", "notify-from-learning")


def react(
    app: NotifyApplication, event: CloudEvent, contract: BaseModel, reads: RunReads | None = None
) -> list[Aggregate]:
    """The notifications the rules make of one upstream event, and the reminders and escalations it closes or
    opens; an erasure destroys the member's key. `reads`: what was read for the event's run."""
    if isinstance(contract, MemberErased):
        return app.erase_member(contract.member_id)
    data = contract.model_dump(mode="json")
    return [
        *app.notifications_for(event, data, reads),
        *app.reminders_for(event, data),
        *app.escalations_for(event, data),
    ]


def handle(app: NotifyApplication, event: CloudEvent) -> list[Aggregate]:
    """Apply one upstream event once, synchronously (the unit tests' way in): what it created, stored with its
    position."""
    return apply_tracked(app, event, CONSUMED, lambda e, c: react(app, e, c))


def apply_run(app: NotifyApplication, events: Sequence[CloudEvent]) -> Applied:
    """Apply a run of upstream events in one transaction (shared.consumer.apply_tracked_in_order): the names its
    notices show read first, in one registry read per tenant and outside the transaction; then, inside it, the
    policies, preferences, existing notices and subject keys the run needs, one query each (notify.application.
    runs). All of it is dropped after the run. The reactions only return what they change, so the run's saves are
    held for one insert."""
    try:
        names = app.names_for_run(events)
    except Exception:  # never holds the run up: each event's planner asks for its member alone, as before
        logger.exception("the names of a run could not be read together; asking one member at a time")
        names = {}
    reads = RunReads(names)
    return apply_tracked_in_order(
        app,
        events,
        CONSUMED,
        lambda e, c: react(app, e, c, reads),
        lambda run: read_for_run(app, run, CONSUMED, reads),
        hold_saves=True,
    )


def _erased_member(event: CloudEvent) -> UUID | None:
    if event.type != MemberErased.TYPE:
        return None
    try:
        return MemberErased.model_validate(event.data).member_id
    except ValidationError:
        return None  # the tracked handler dead-letters the contract mismatch


def upstream(runtime: Runtime[NotifyApplication]) -> Handler:
    """The consumer of every upstream stream: runs of events in one transaction each; an erasure alone, because
    it also clears the inbox's copies of the member's names."""
    app = runtime.app

    async def apply(events: Sequence[CloudEvent]) -> Applied:
        return await run_sync(apply_run, app, events)

    async def clear(member_id: UUID) -> None:
        async with system_transaction(runtime.pool) as conn:
            await clear_named(conn, member_id)

    async def erasure(event: CloudEvent) -> None:
        member_id = _erased_member(event)
        assert member_id is not None  # each_alone hands over only what _erased_member names
        await clear(member_id)  # the inbox's copies go before and after the key: a crash between leaves none
        await run_sync(handle, app, event)
        await clear(member_id)

    return each_alone(lambda event: _erased_member(event) is not None, erasure, apply)
