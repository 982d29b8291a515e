"""The durable consumer against real JetStream and the shared tracked reaction against real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import uuid4

import pytest
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig

from shared.consumer import ConsumerRunner, PermanentFailure, tracked_handler
from shared.envelope import CloudEvent
from shared.messaging import DEAD_REASON, MSG_ID, ConsumerSpec, dead_letter_subject

pytestmark = pytest.mark.integration


async def consumer_spec(broker: Any) -> ConsumerSpec:
    spec = ConsumerSpec(
        service="notes",
        stream=broker.stream,
        durable=f"d{broker.tenant}",
        filter_subject=broker.subjects,
        max_deliver=5,
        ack_wait_seconds=30,
        max_ack_pending=16,
    )
    await broker.js.add_stream(
        StreamConfig(
            name=broker.stream,
            storage=StorageType.FILE,
            duplicate_window=120,
            subjects=[broker.subjects, dead_letter_subject("notes", spec.durable)],
        )
    )
    await broker.js.add_consumer(
        spec.stream,
        ConsumerConfig(
            durable_name=spec.durable,
            filter_subject=spec.filter_subject,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            max_deliver=spec.max_deliver,
            ack_wait=spec.ack_wait_seconds,
            max_ack_pending=spec.max_ack_pending,
        ),
    )
    return spec


def cloudevent(broker: Any, kit: Any, text: str, *, position: int) -> CloudEvent:
    return CloudEvent(
        id=f"{uuid4()}:1",
        source="/lianxin/upstream",
        type=kit.NoteWritten.TYPE,
        subject=text,
        time=kit.T0,
        tenantid=broker.tenant,
        sequence=str(position),
        correlationid=text,
        data={"text": text},
    )


async def publish(broker: Any, raw: bytes) -> None:
    await broker.js.publish(
        f"lianxin.notes.{broker.tenant}.note_written", raw, headers={MSG_ID: str(uuid4())}
    )


async def dead_letters(broker: Any, spec: ConsumerSpec) -> list[Any]:
    subject = dead_letter_subject("notes", spec.durable)
    return [m for m in await broker.messages() if m.subject == subject]


def noting(notes: Any, kit: Any, applied: list[str]) -> Any:
    """The shared tracked handler with a reaction that writes a note and remembers what it applied."""

    def react(event: CloudEvent, data: Any) -> list[Any]:
        applied.append(data.text)
        return [kit.Note(event.tenantid, data.text)]

    return tracked_handler(notes, {kit.NoteWritten.TYPE: kit.NoteWritten}, react)


async def consume_until(
    broker: Any,
    spec: ConsumerSpec,
    handler: Any,
    kit: Any,
    *states: tuple[Callable[[], Awaitable[bool]], str],
) -> None:
    """Run the consumer until each state is reached, in order, then stop it."""
    task = asyncio.create_task(ConsumerRunner(nc=broker.nc, js=broker.js, spec=spec, handler=handler).run())
    try:
        for check, what in states:
            await kit.eventually(check, what)
    finally:
        await kit.stopped(task)


async def test_an_event_redelivered_under_a_new_message_id_is_applied_once(
    notes: Any, broker: Any, kit: Any
) -> None:
    spec = await consumer_spec(broker)
    applied: list[str] = []
    event = cloudevent(broker, kit, "once", position=7)
    await publish(broker, event.to_bytes())
    await publish(broker, event.to_bytes())  # the upstream relay re-published it after a crash
    await publish(broker, cloudevent(broker, kit, "after", position=8).to_bytes())
    await consume_until(
        broker,
        spec,
        noting(notes, kit, applied),
        kit,
        (lambda: _true(applied == ["once", "after"]), "both events applied"),
        (lambda: _acked(broker, spec, 3), "all three messages acknowledged"),
    )
    assert applied == ["once", "after"]
    assert notes.already_processed("upstream", 7) and notes.already_processed("upstream", 8)


async def test_an_event_applied_but_not_acknowledged_is_not_applied_again_on_redelivery(
    notes: Any, broker: Any, kit: Any
) -> None:
    spec = await consumer_spec(broker)
    applied: list[str] = []
    deliveries: list[str] = []
    apply = noting(notes, kit, applied)

    async def ack_lost_once(event: CloudEvent) -> None:
        deliveries.append(event.id)
        await apply(event)
        if len(deliveries) == 1:
            raise ConnectionError("stored, but the process died before the ack")

    await publish(broker, cloudevent(broker, kit, "stored", position=3).to_bytes())
    await consume_until(
        broker,
        spec,
        ack_lost_once,
        kit,
        (lambda: _acked(broker, spec, 1), "the redelivered message acknowledged"),
    )
    assert len(deliveries) == 2 and applied == ["stored"]


async def test_a_transient_failure_is_naked_and_applied_on_redelivery(broker: Any, kit: Any) -> None:
    spec = await consumer_spec(broker)
    attempts: Counter[str] = Counter()

    async def flaky(event: CloudEvent) -> None:
        attempts[event.subject] += 1
        if attempts[event.subject] == 1:
            raise ConnectionError("the database went away for a moment")

    await publish(broker, cloudevent(broker, kit, "flaky", position=1).to_bytes())
    await consume_until(
        broker, spec, flaky, kit, (lambda: _acked(broker, spec, 1), "the message acknowledged after a retry")
    )
    assert attempts["flaky"] == 2
    assert await dead_letters(broker, spec) == []


async def test_poison_is_dead_lettered_with_its_reason_and_the_consumer_goes_on(
    broker: Any, kit: Any
) -> None:
    spec = await consumer_spec(broker)
    handled: list[str] = []

    async def handler(event: CloudEvent) -> None:
        if event.subject == "refused":
            raise PermanentFailure("note_written does not match its contract")
        handled.append(event.subject)

    await publish(broker, b"{not a cloudevent")
    await publish(broker, cloudevent(broker, kit, "refused", position=1).to_bytes())
    await publish(broker, cloudevent(broker, kit, "fine", position=2).to_bytes())
    await consume_until(
        broker,
        spec,
        handler,
        kit,
        (lambda: _true(handled == ["fine"]), "the good message after the poison applied"),
        (lambda: _count(dead_letters(broker, spec), 2), "two dead letters"),
    )
    reasons = sorted(m.headers[DEAD_REASON] for m in await dead_letters(broker, spec))
    assert reasons[0].startswith("malformed CloudEvent") and "does not match its contract" in reasons[1]


async def _true(value: bool) -> bool:
    return value


async def _count(pending: Any, expected: int) -> bool:
    return len(await pending) == expected


async def _acked(broker: Any, spec: ConsumerSpec, messages: int) -> bool:
    info = await broker.js.consumer_info(spec.stream, spec.durable)
    return info.ack_floor.stream_seq >= messages and info.num_ack_pending == 0
