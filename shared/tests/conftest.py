"""Real PostgreSQL and NATS for the plumbing's own tests: one embedded server of each per session, a fresh
database per test (random name, nothing to clean up), and a small application that writes notes."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import anyio.to_thread
import asyncpg
import nats
import pytest
from eventsourcing.domain import Aggregate, event
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig

from shared import db
from shared.consumer import ConsumerRunner, Handler
from shared.devstack import EmbeddedNats, EmbeddedPostgres, free_port
from shared.envelope import CloudEvent, IntegrationEvent
from shared.eventstore import ServiceApplication, persistence_env
from shared.messaging import MSG_ID, ConsumerSpec, consumer_config, dead_letter_subject

NATS_CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "nats" / "nats.conf"
T0 = datetime(2026, 11, 2, 1, 30, tzinfo=UTC)  # tests read time from a settable clock started here


class Note(Aggregate):
    TOPIC = "lianxin.sharedtests.Note"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.sharedtests.Note.Created"

    class Written(Created):
        TOPIC = "lianxin.sharedtests.Note.Written"
        tenant: str
        text: str

    @event(Written)
    def __init__(self, tenant: str, text: str) -> None:
        self.tenant = tenant
        self.text = text


class NoteWritten(IntegrationEvent):
    TYPE = "cn.lianxin.notes.note_written.v1"
    text: str


class Notes(ServiceApplication):
    name = "notes"

    def write(self, tenant: str, *texts: str) -> list[Note]:
        notes = [Note(tenant, text) for text in texts]
        self.save(*notes)
        return notes


def note_outbound(domain_event: Any) -> tuple[str, IntegrationEvent] | None:
    if isinstance(domain_event, Note.Written):
        return domain_event.tenant, NoteWritten(text=domain_event.text)
    return None


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    server = EmbeddedPostgres(tmp_path_factory.mktemp("postgres"), port=free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedNats]:
    server = EmbeddedNats(tmp_path_factory.mktemp("nats"), port=free_port(), config_file=NATS_CONFIG)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def database_url(postgres: EmbeddedPostgres) -> str:
    name = f"t_{uuid4().hex[:16]}"
    postgres.run_sql(f"CREATE DATABASE {name}")
    url = postgres.dsn(name)
    await db.migrate(url, "tests", ())
    return url


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    created = await db.create_pool(database_url, max_size=6)
    try:
        yield created
    finally:
        await created.close()


@pytest.fixture
async def notes(database_url: str) -> AsyncIterator[Notes]:
    key = base64.b64encode(os.urandom(32)).decode()
    app = await anyio.to_thread.run_sync(lambda: Notes(persistence_env(database_url, key, create_table=True)))
    try:
        yield app
    finally:
        await anyio.to_thread.run_sync(app.close)


@dataclass
class Broker:
    nc: NATS
    js: JetStreamContext
    tenant: str  # a fresh tenant per test: its subjects are its own
    stream: str

    @property
    def subjects(self) -> str:
        return f"lianxin.notes.{self.tenant}.>"

    async def messages(self) -> list[Any]:
        info = await self.js.stream_info(self.stream)
        return [
            await self.js.get_msg(self.stream, seq)
            for seq in range(info.state.first_seq, info.state.last_seq + 1)
            if info.state.messages
        ]


@pytest.fixture
async def broker(nats_server: EmbeddedNats) -> AsyncIterator[Broker]:
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream(timeout=5)
    tenant = f"t{uuid4().hex[:12]}"
    stream = f"NOTES_{tenant.upper()}"
    try:
        yield Broker(nc, js, tenant, stream)
    finally:
        await nc.close()


async def add_stream(broker: Broker, *subjects: str) -> None:
    await broker.js.add_stream(
        StreamConfig(
            name=broker.stream,
            subjects=list(subjects or [broker.subjects]),
            storage=StorageType.FILE,
            duplicate_window=120,
        )
    )


async def consumer_spec(
    broker: Broker, *, max_deliver: int = 5, ack_wait_seconds: float = 30, max_ack_pending: int = 16
) -> ConsumerSpec:
    """A stream of the test's own subjects (and its consumer's dead letters) and a durable consumer on it."""
    spec = ConsumerSpec(
        service="notes",
        stream=broker.stream,
        durable=f"d{broker.tenant}",
        filter_subjects=(broker.subjects,),
        max_deliver=max_deliver,
        ack_wait_seconds=ack_wait_seconds,
        max_ack_pending=max_ack_pending,
    )
    await broker.js.add_stream(
        StreamConfig(
            name=broker.stream,
            storage=StorageType.FILE,
            duplicate_window=120,
            subjects=[broker.subjects, dead_letter_subject("notes", spec.durable)],
        )
    )
    await broker.js.add_consumer(spec.stream, consumer_config(spec))
    return spec


def cloudevent(broker: Broker, text: str, *, position: int, data: dict[str, Any] | None = None) -> CloudEvent:
    """A NoteWritten from the upstream service "upstream" at that position of its log."""
    return CloudEvent(
        id=f"{uuid4()}:1",
        source="/lianxin/upstream",
        type=NoteWritten.TYPE,
        subject=text,
        time=T0,
        tenantid=broker.tenant,
        sequence=str(position),
        correlationid=text,
        data={"text": text} if data is None else data,
    )


async def publish(broker: Broker, raw: bytes) -> None:
    await broker.js.publish(
        f"lianxin.notes.{broker.tenant}.note_written", raw, headers={MSG_ID: str(uuid4())}
    )


async def dead_letters(broker: Broker, spec: ConsumerSpec) -> list[Any]:
    subject = dead_letter_subject("notes", spec.durable)
    return [m for m in await broker.messages() if m.subject == subject]


async def acked(broker: Broker, spec: ConsumerSpec, messages: int) -> bool:
    info = await broker.js.consumer_info(spec.stream, spec.durable)
    return info.ack_floor.stream_seq >= messages and info.num_ack_pending == 0


async def eventually(check: Callable[[], Awaitable[bool]], what: str, *, within: float = 20.0) -> None:
    """Wait for a background loop to reach a state; fails naming what never happened (never a timing check)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"never happened: {what}")
        await asyncio.sleep(0.05)


async def stopped(task: asyncio.Task[Any]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def consume_until(
    broker: Broker,
    spec: ConsumerSpec,
    handler: Handler,
    *states: tuple[Callable[[], Awaitable[bool]], str],
    lock_url: str | None = None,
) -> None:
    """Run a consumer until each state is reached, in order, then stop it."""
    runner = ConsumerRunner(nc=broker.nc, js=broker.js, spec=spec, handler=handler, lock_url=lock_url)
    task = asyncio.create_task(runner.run())
    try:
        for check, what in states:
            await eventually(check, what)
    finally:
        if task.done():
            task.result()  # a runner that ended on its own: its error is the test's
        await stopped(task)


class Kit:
    """What the plumbing tests share; test modules cannot import this conftest, so a fixture hands it over."""

    T0 = T0
    Note = Note
    NoteWritten = NoteWritten
    outbound = staticmethod(note_outbound)
    add_stream = staticmethod(add_stream)
    consumer_spec = staticmethod(consumer_spec)
    cloudevent = staticmethod(cloudevent)
    publish = staticmethod(publish)
    dead_letters = staticmethod(dead_letters)
    acked = staticmethod(acked)
    consume_until = staticmethod(consume_until)
    eventually = staticmethod(eventually)
    stopped = staticmethod(stopped)


@pytest.fixture
def kit() -> type[Kit]:
    return Kit
