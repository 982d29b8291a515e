"""A lingering consumer (`ConsumerSpec.linger_seconds`) takes what comes during its linger into the same run, and a
full batch does not wait; only consumers nothing waits on linger. Real JetStream and PostgreSQL."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest

from shared.consumer import Applied, Handler, tracked_handler
from shared.envelope import CloudEvent
from shared.messaging import consumer_specs
from shared.settings import REPO_ROOT

pytestmark = pytest.mark.integration


def counting_runs(notes: Any, kit: Any, runs: list[int]) -> Handler:
    written: Counter[str] = Counter()

    def react(event: CloudEvent, data: Any) -> list[Any]:
        written[data.text] += 1
        return [kit.Note(event.tenantid, data.text)]

    apply = tracked_handler(notes, {kit.NoteWritten.TYPE: kit.NoteWritten}, react)

    async def handle(events: Sequence[CloudEvent]) -> Applied:
        runs.append(len(events))
        return await apply(events)

    return handle


async def test_events_that_come_during_the_linger_join_the_first_ones_run(
    notes: Any, broker: Any, kit: Any
) -> None:
    spec = dataclasses.replace(await kit.consumer_spec(broker), linger_seconds=2.0)
    await kit.publish(broker, kit.cloudevent(broker, "l1", position=1).to_bytes())
    runs: list[int] = []

    async def first_delivered() -> bool:
        # Delivered and not acknowledged: the runner's first fetch brought l1 alone.
        return (await broker.js.consumer_info(spec.stream, spec.durable)).num_ack_pending == 1

    async def two_more() -> bool:
        for position in (2, 3):
            await kit.publish(broker, kit.cloudevent(broker, f"l{position}", position=position).to_bytes())
        return True

    await kit.consume_until(
        broker,
        spec,
        counting_runs(notes, kit, runs),
        (first_delivered, "l1 fetched"),
        (two_more, "l2 and l3 published during the linger"),
        (lambda: kit.acked(broker, spec, 3), "all three acknowledged"),
    )
    assert runs == [3]


async def test_a_full_batch_is_applied_without_waiting_for_the_linger(
    notes: Any, broker: Any, kit: Any
) -> None:
    # A linger longer than the wait for the acks: a full fetch must not linger.
    spec = dataclasses.replace(await kit.consumer_spec(broker, max_ack_pending=4), linger_seconds=3600.0)
    for position in range(1, 5):
        await kit.publish(broker, kit.cloudevent(broker, f"f{position}", position=position).to_bytes())
    runs: list[int] = []
    await kit.consume_until(
        broker,
        spec,
        counting_runs(notes, kit, runs),
        (lambda: kit.acked(broker, spec, 4), "the full batch acknowledged"),
    )
    assert runs == [4]


def test_only_notifys_consumers_linger() -> None:
    """A saga step or a read model another service waits on must not wait for a linger; notices may."""
    layout = REPO_ROOT / "deploy" / "nats" / "jetstream.json"
    for service in ("registry", "transfer", "learning", "analytics", "notify"):
        for spec in consumer_specs(layout, service):
            assert (spec.linger_seconds > 0) == (service == "notify"), spec.durable
