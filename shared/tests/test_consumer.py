"""The durable consumer against real JetStream and the shared tracked reaction against real PostgreSQL."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from shared.consumer import PermanentFailure, one_at_a_time, tracked_handler
from shared.envelope import CloudEvent
from shared.messaging import DEAD_REASON

pytestmark = pytest.mark.integration


def noting(notes: Any, kit: Any, applied: list[str]) -> Any:
    """The shared tracked handler with a reaction that writes a note and remembers what it applied."""

    def react(event: CloudEvent, data: Any) -> list[Any]:
        applied.append(data.text)
        return [kit.Note(event.tenantid, data.text)]

    return tracked_handler(notes, {kit.NoteWritten.TYPE: kit.NoteWritten}, react)


async def test_an_event_redelivered_under_a_new_message_id_is_applied_once(
    notes: Any, broker: Any, kit: Any
) -> None:
    spec = await kit.consumer_spec(broker)
    applied: list[str] = []
    event = kit.cloudevent(broker, "once", position=7)
    await kit.publish(broker, event.to_bytes())
    await kit.publish(broker, event.to_bytes())  # the upstream relay re-published it after a crash
    await kit.publish(broker, kit.cloudevent(broker, "after", position=8).to_bytes())
    await kit.consume_until(
        broker,
        spec,
        noting(notes, kit, applied),
        (lambda: _true(applied == ["once", "after"]), "both events applied"),
        (lambda: kit.acked(broker, spec, 3), "all three messages acknowledged"),
    )
    assert applied == ["once", "after"]
    assert notes.already_processed("upstream", 7) and notes.already_processed("upstream", 8)


async def test_an_event_applied_but_not_acknowledged_is_not_applied_again_on_redelivery(
    notes: Any, broker: Any, kit: Any
) -> None:
    spec = await kit.consumer_spec(broker)
    applied: list[str] = []
    deliveries: list[str] = []
    apply = noting(notes, kit, applied)

    async def ack_lost_once(event: CloudEvent) -> None:
        deliveries.append(event.id)
        assert (await apply([event])).failure is None
        if len(deliveries) == 1:
            raise ConnectionError("stored, but the process died before the ack")

    await kit.publish(broker, kit.cloudevent(broker, "stored", position=3).to_bytes())
    await kit.consume_until(
        broker,
        spec,
        one_at_a_time(ack_lost_once),
        (lambda: kit.acked(broker, spec, 1), "the redelivered message acknowledged"),
    )
    assert len(deliveries) == 2 and applied == ["stored"]


async def test_a_transient_failure_is_naked_and_applied_on_redelivery(broker: Any, kit: Any) -> None:
    spec = await kit.consumer_spec(broker)
    attempts: Counter[str] = Counter()

    async def flaky(event: CloudEvent) -> None:
        attempts[event.subject] += 1
        if attempts[event.subject] == 1:
            raise ConnectionError("the database went away for a moment")

    await kit.publish(broker, kit.cloudevent(broker, "flaky", position=1).to_bytes())
    await kit.consume_until(
        broker,
        spec,
        one_at_a_time(flaky),
        (lambda: kit.acked(broker, spec, 1), "the message acknowledged after a retry"),
    )
    assert attempts["flaky"] == 2
    assert await kit.dead_letters(broker, spec) == []


async def test_poison_is_dead_lettered_with_its_reason_and_the_consumer_goes_on(
    broker: Any, kit: Any
) -> None:
    spec = await kit.consumer_spec(broker)
    handled: list[str] = []

    async def handler(event: CloudEvent) -> None:
        if event.subject == "refused":
            raise PermanentFailure("note_written does not match its contract")
        handled.append(event.subject)

    await kit.publish(broker, b"{not a cloudevent")
    await kit.publish(broker, kit.cloudevent(broker, "refused", position=1).to_bytes())
    await kit.publish(broker, kit.cloudevent(broker, "fine", position=2).to_bytes())
    await kit.consume_until(
        broker,
        spec,
        one_at_a_time(handler),
        (lambda: _true(handled == ["fine"]), "the good message after the poison applied"),
        (lambda: _count(kit.dead_letters(broker, spec), 2), "two dead letters"),
    )
    reasons = sorted(m.headers[DEAD_REASON] for m in await kit.dead_letters(broker, spec))
    assert reasons[0].startswith("malformed CloudEvent") and "does not match its contract" in reasons[1]


async def _true(value: bool) -> bool:
    return value


async def _count(pending: Any, expected: int) -> bool:
    return len(await pending) == expected
