"""The relay takes the projection runner's batches (one read of the log per commit) and loses nothing when they do
not come: every note is published, in order, whether the runner reads first, never, or from further ahead."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
import pytest

from shared.db import Connection
from shared.logtail import log_share
from shared.projection import ProjectionRunner
from shared.relay import Relay

pytestmark = pytest.mark.integration


class Seen:
    name = "seen-notes"

    async def apply(self, conn: Connection, event: Any, notification_id: int) -> None:
        return None


def relay(notes: Any, broker: Any, pool: asyncpg.Pool, database_url: str, kit: Any, wait: float) -> Relay:
    made = Relay(
        service="notes",
        app=notes,
        js=broker.js,
        pool=pool,
        listen_url=database_url,
        outbound=kit.outbound,
        batch_size=3,
        record_seconds=0.1,
    )
    made.tail.share_wait = wait
    return made


def runner(notes: Any, pool: asyncpg.Pool, database_url: str) -> ProjectionRunner:
    return ProjectionRunner(
        service="notes", app=notes, pool=pool, listen_url=database_url, projections=[Seen()], batch_size=3
    )


def counting_decodes(notes: Any, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    decodes: list[int] = []
    original = notes.mapper.to_domain_event

    def counted(notification: Any) -> Any:
        decodes.append(notification.id)
        return original(notification)

    monkeypatch.setattr(notes.mapper, "to_domain_event", counted)
    return decodes


async def published(broker: Any) -> list[str]:
    return [json.loads(m.data)["data"]["text"] for m in await broker.messages()]


async def write_one_by_one(notes: Any, broker: Any, kit: Any, texts: list[str], relayed: Relay) -> None:
    """Each note once the relay has published the one before: a NOTIFY per commit, as under a trickle."""
    for text in texts:
        await asyncio.to_thread(notes.write, broker.tenant, text)
        last = notes.recorder.max_notification_id()

        async def caught_up(position: int = last) -> bool:
            return relayed.acked >= position

        await kit.eventually(caught_up, f"the relay published up to {last}")


async def test_with_the_projection_runner_the_relay_reads_the_log_once_then_takes_its_batches(
    notes: Any,
    broker: Any,
    pool: asyncpg.Pool,
    database_url: str,
    kit: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await kit.add_stream(broker)
    notes.write(broker.tenant, "before", "the", "start", "of", "both")  # more than one batch of three
    projections = runner(notes, pool, database_url)
    relayed = relay(notes, broker, pool, database_url, kit, wait=60)  # never falls back within this test
    tasks = [asyncio.create_task(projections.run()), asyncio.create_task(relayed.run())]
    try:
        started_at = notes.recorder.max_notification_id()

        async def caught_up() -> bool:
            return relayed.acked >= started_at

        await kit.eventually(caught_up, "the relay read what was there before it started")
        own_reads = relayed.tail.selects  # its read to the end at start (two or three selects of three)
        decodes = counting_decodes(notes, monkeypatch)
        texts = [f"trickle {n}" for n in range(8)]
        await write_one_by_one(notes, broker, kit, texts, relayed)
        assert await published(broker) == ["before", "the", "start", "of", "both", *texts]
        assert relayed.tail.selects == own_reads  # every trickled note came in the runner's batches
        assert len(decodes) == len(texts)  # each decoded once, by the runner: the relay published its events
    finally:
        for task in tasks:
            await kit.stopped(task)


async def test_when_the_runner_takes_no_batch_the_relay_reads_the_log_itself(
    notes: Any, broker: Any, pool: asyncpg.Pool, database_url: str, kit: Any
) -> None:
    """As when another instance of the service holds the projections: a runner exists here, and reads nothing."""
    await kit.add_stream(broker)
    log_share(notes).readers += 1
    relayed = relay(notes, broker, pool, database_url, kit, wait=0.05)
    task = asyncio.create_task(relayed.run())
    try:
        texts = [f"alone {n}" for n in range(5)]
        await write_one_by_one(notes, broker, kit, texts, relayed)
        assert await published(broker) == texts
    finally:
        await kit.stopped(task)


async def test_batches_that_start_beyond_the_relay_are_skipped_and_the_relay_catches_up_alone(
    notes: Any, broker: Any, pool: asyncpg.Pool, database_url: str, kit: Any
) -> None:
    """The runner already far ahead (the relay restarted from a position recorded a second ago): its batches leave
    a hole after the relay's position, so the relay reads that part itself; nothing is skipped or sent twice."""
    await kit.add_stream(broker)
    notes.write(broker.tenant, "one", "two", "three", "four")
    projections = runner(notes, pool, database_url)
    await projections.apply_batch()
    await projections.apply_batch()  # the runner is at four; the relay starts from zero
    relayed = relay(notes, broker, pool, database_url, kit, wait=0.05)
    tasks = [asyncio.create_task(projections.run()), asyncio.create_task(relayed.run())]
    try:
        await write_one_by_one(notes, broker, kit, ["five", "six"], relayed)
        assert await published(broker) == ["one", "two", "three", "four", "five", "six"]
        ids = [m.headers["Nats-Msg-Id"] for m in await broker.messages()]
        assert len(ids) == len(set(ids))
    finally:
        for task in tasks:
            await kit.stopped(task)


class Gated:
    """A projection that applies nothing until its gate opens: the runner's transaction stays open meanwhile."""

    name = "gated-notes"

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.applied: list[int] = []

    async def apply(self, conn: Connection, event: Any, notification_id: int) -> None:
        await self.gate.wait()
        self.applied.append(notification_id)


async def test_the_relay_publishes_a_batch_the_runner_read_before_the_projections_have_applied_it(
    notes: Any, broker: Any, pool: asyncpg.Pool, database_url: str, kit: Any
) -> None:
    """The runner offers a batch as soon as it has read it (the log it read is committed), so a slow projection no
    longer delays the publish; the relay still reads nothing itself."""
    await kit.add_stream(broker)
    gated = Gated()
    projections = ProjectionRunner(
        service="notes", app=notes, pool=pool, listen_url=database_url, projections=[gated], batch_size=3
    )
    relayed = relay(notes, broker, pool, database_url, kit, wait=60)  # never falls back within this test
    # The relay first, alone: its read to the end of the empty log at start. Started together, the runner's first
    # batch may answer that read instead, and the relay then never reads at all.
    tasks = [asyncio.create_task(relayed.run())]
    try:

        async def started() -> bool:
            return relayed.tail.selects > 0

        await kit.eventually(started, "the relay's first read")
        tasks.append(asyncio.create_task(projections.run()))
        own_reads = relayed.tail.selects
        await write_one_by_one(notes, broker, kit, ["held"], relayed)
        assert await published(broker) == ["held"]
        assert gated.applied == []  # published while the projection's transaction was still open
        assert relayed.tail.selects == own_reads
        gated.gate.set()

        async def projected() -> bool:
            return bool(gated.applied)

        await kit.eventually(projected, "the projection applied the note once its gate opened")
    finally:
        for task in tasks:
            await kit.stopped(task)
