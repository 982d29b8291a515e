"""A consumer with many messages in flight keeps what one at a time kept: order per upstream, apply once, nothing
lost, poison dead-lettered, one instance applying a durable at a time. Real JetStream and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from typing import Any

import anyio.to_thread
import pytest

from shared.consumer import Applied, ConsumerRunner, Handler, tracked_handler
from shared.envelope import CloudEvent
from shared.messaging import DEAD_REASON

pytestmark = pytest.mark.integration


async def publish_notes(broker: Any, kit: Any, texts: list[str], *, first_position: int = 1) -> None:
    for position, text in enumerate(texts, first_position):
        await kit.publish(broker, kit.cloudevent(broker, text, position=position).to_bytes())


def writing(notes: Any, kit: Any, attempts: Counter[str], *, fails: Any = None) -> Handler:
    """The shared tracked handler with a reaction that counts its attempts and writes a note; `fails(text,
    attempt)` may raise instead."""

    def react(event: CloudEvent, data: Any) -> list[Any]:
        attempts[data.text] += 1
        if fails is not None:
            fails(data.text, attempts[data.text])
        return [kit.Note(event.tenantid, data.text)]

    return tracked_handler(notes, {kit.NoteWritten.TYPE: kit.NoteWritten}, react)


async def stored_texts(notes: Any) -> list[str]:
    """The notes in the order they were committed (the notification log's order)."""

    def read() -> list[str]:
        log = notes.recorder.select_notifications(start=1, limit=1000)
        return [notes.mapper.to_domain_event(n).text for n in log]

    return await anyio.to_thread.run_sync(read)


async def _true(value: bool) -> bool:
    return value


async def test_a_failure_mid_batch_stops_it_and_the_redelivery_applies_everything_once_in_order(
    notes: Any, broker: Any, kit: Any
) -> None:
    spec = await kit.consumer_spec(broker)
    texts = [f"n{i}" for i in range(1, 11)]
    await publish_notes(broker, kit, texts)
    attempts: Counter[str] = Counter()

    def n5_fails_once(text: str, attempt: int) -> None:
        if text == "n5" and attempt == 1:
            raise ConnectionError("the database went away for a moment")

    await kit.consume_until(
        broker,
        spec,
        writing(notes, kit, attempts, fails=n5_fails_once),
        (lambda: kit.acked(broker, spec, 10), "all ten acknowledged"),
    )
    assert await stored_texts(notes) == texts
    # Nothing after n5 was tried before n5 was applied: a later position tracked first would have made n5 look
    # like a duplicate when it came back.
    assert attempts == Counter({**dict.fromkeys(texts, 1), "n5": 2})
    assert await anyio.to_thread.run_sync(notes.process_recorder.max_tracking_id, "upstream") == 10


async def test_a_batch_stored_but_not_acknowledged_is_not_applied_again(
    notes: Any, broker: Any, kit: Any
) -> None:
    spec = await kit.consumer_spec(broker)
    texts = [f"d{i}" for i in range(1, 6)]
    await publish_notes(broker, kit, texts)
    attempts: Counter[str] = Counter()
    apply = writing(notes, kit, attempts)
    runs: list[int] = []

    async def acks_lost_once(events: Sequence[CloudEvent]) -> Applied:
        applied = await apply(events)
        runs.append(len(events))
        if len(runs) == 1:
            return Applied(0, ConnectionError("stored, but the process died before the acks"))
        return applied

    await kit.consume_until(
        broker,
        spec,
        acks_lost_once,
        (lambda: kit.acked(broker, spec, 5), "the redelivered batch acknowledged"),
    )
    assert runs[0] == 5 and sum(runs) >= 10  # the whole batch came back
    assert attempts == Counter(dict.fromkeys(texts, 1))
    assert await stored_texts(notes) == texts


async def test_an_instance_killed_mid_batch_leaves_its_messages_to_the_next_in_order(
    notes: Any, broker: Any, kit: Any, database_url: str
) -> None:
    # A short ack_wait: the killed instance's messages come back to the server's redelivery queue soon.
    spec = await kit.consumer_spec(broker, ack_wait_seconds=2)
    before = [f"a{i}" for i in range(1, 7)]
    after = [f"b{i}" for i in range(1, 7)]
    await publish_notes(broker, kit, before)
    attempts: Counter[str] = Counter()
    apply = writing(notes, kit, attempts)
    stored_part = asyncio.Event()

    async def dies_mid_batch(events: Sequence[CloudEvent]) -> Applied:
        await apply(events[:3])  # committed, never acknowledged
        stored_part.set()
        await asyncio.Event().wait()  # killed here
        raise AssertionError("unreachable")

    first = ConsumerRunner(
        nc=broker.nc, js=broker.js, spec=spec, handler=dies_mid_batch, lock_url=database_url
    )
    killed = asyncio.create_task(first.run())
    await kit.eventually(lambda: _true(stored_part.is_set()), "the first instance stored part of its batch")
    # Newer messages, which the next instance's first fetch brings while the killed one's are still pending.
    await publish_notes(broker, kit, after, first_position=7)
    await kit.stopped(killed)  # its lock goes with its connection; its six messages stay unacknowledged

    await kit.consume_until(
        broker,
        spec,
        apply,
        (lambda: kit.acked(broker, spec, 12), "every message acknowledged by the next instance"),
        lock_url=database_url,
    )
    assert await stored_texts(notes) == before + after
    assert await anyio.to_thread.run_sync(notes.process_recorder.max_tracking_id, "upstream") == 12


async def test_poison_in_a_batch_is_dead_lettered_and_the_others_are_applied_in_order(
    notes: Any, broker: Any, kit: Any
) -> None:
    spec = await kit.consumer_spec(broker, max_deliver=3)
    for position, text in enumerate(["p1", "p2", "p3", "p4", "p5", "p6"], 1):
        # p3 does not match its contract; p5's reaction fails on every delivery.
        data = {"wrong": 1} if text == "p3" else None
        await kit.publish(broker, kit.cloudevent(broker, text, position=position, data=data).to_bytes())
    attempts: Counter[str] = Counter()

    def p5_always_fails(text: str, attempt: int) -> None:
        if text == "p5":
            raise ConnectionError(f"p5 fails, attempt {attempt}")

    await kit.consume_until(
        broker,
        spec,
        writing(notes, kit, attempts, fails=p5_always_fails),
        (lambda: kit.acked(broker, spec, 6), "all six settled"),
        (lambda: _count(kit.dead_letters(broker, spec), 2), "two dead letters"),
    )
    assert await stored_texts(notes) == ["p1", "p2", "p4", "p6"]
    assert attempts == Counter({"p1": 1, "p2": 1, "p4": 1, "p5": 3, "p6": 1})
    reasons = sorted(m.headers[DEAD_REASON] for m in await kit.dead_letters(broker, spec))
    assert "does not match its contract" in reasons[0] and reasons[1].startswith("max_deliver (3) exhausted")


async def test_of_two_instances_of_a_durable_one_applies(
    notes: Any, broker: Any, kit: Any, database_url: str
) -> None:
    spec = await kit.consumer_spec(broker)
    attempts: Counter[str] = Counter()
    apply = writing(notes, kit, attempts)
    by_instance: dict[str, list[str]] = {"one": [], "two": []}

    def instance(name: str) -> Handler:
        async def handle(events: Sequence[CloudEvent]) -> Applied:
            by_instance[name].extend(event.subject for event in events)
            return await apply(events)

        return handle

    runners = [
        ConsumerRunner(nc=broker.nc, js=broker.js, spec=spec, handler=instance(name), lock_url=database_url)
        for name in by_instance
    ]
    tasks = [asyncio.create_task(runner.run()) for runner in runners]
    texts = [f"t{i}" for i in range(1, 41)]
    try:
        await publish_notes(broker, kit, texts)
        await kit.eventually(lambda: kit.acked(broker, spec, 40), "all forty acknowledged")
    finally:
        for task in tasks:
            await kit.stopped(task)
    assert sorted(len(applied) for applied in by_instance.values()) == [0, 40]
    assert await stored_texts(notes) == texts


async def _count(pending: Any, expected: int) -> bool:
    return len(await pending) == expected
