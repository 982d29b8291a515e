"""How fast the registry's outbox relay drains a backlog into JetStream.

With the registry stopped, K members are stored straight into its event store (in-process, batched saves, the
same cipher and transcodings); then the service starts and we watch two things until both are complete: its
`relay_position` row reaching the last stored notification id, and the stream LIANXIN_REGISTRY holding every
CloudEvent the backlog maps to.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
import nats

from lianxin.platform import Platform, ServiceProcess
from registry.application import RegistryApplication
from registry.domain import MemberCategory, Organisation, OrgKind
from registry.outbound import outbound
from shared.eventstore import persistence_env
from shared.meta import event_meta

STREAM = "LIANXIN_REGISTRY"
RELAY = "registry-relay"
POLL_S = 0.02
SAVE_MEMBERS = 100  # members per app.save: 200 aggregates, one transaction


@dataclass
class Backlog:
    tenant: str
    first_id: int  # the last notification id before the backlog
    last_id: int
    stored: int  # events written
    published: int  # of which the relay's outbound mapping publishes
    write_seconds: float


async def _position(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT position FROM relay_position WHERE name = $1", RELAY) or 0)


async def _max_id(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT max(notification_id) FROM registry_events") or 0)


async def wait_caught_up(database_url: str, limit_s: float) -> None:
    """Nothing left over from earlier phases: the backlog is exactly what we write next."""
    conn = await asyncpg.connect(database_url)
    try:
        deadline = time.perf_counter() + limit_s
        while await _position(conn) < await _max_id(conn):
            if time.perf_counter() > deadline:
                raise TimeoutError(f"the registry relay did not catch up within {limit_s:.0f} s")
            await asyncio.sleep(POLL_S)
    finally:
        await conn.close()


def store_members(
    app: RegistryApplication,
    tenant: str,
    organisations: list[Organisation],
    members: int,
    *,
    first: list[Any],
) -> tuple[int, int]:
    """`members` registrations through the registry's own aggregates (`new_member_aggregates`: the member, its
    contact status, the same events, cipher and subject keys as POST /v1/members), 100 members per save, spread
    over `organisations` in turn; `first` (aggregates to store too) goes into the first save. Returns the events
    stored and how many of them the relay publishes."""
    meta = event_meta("bench")
    stored = published = 0

    def save(first: list[Any], start: int, count: int) -> list[Any]:
        batch = list(first)
        for n in range(start, start + count):
            batch += app.new_member_aggregates(
                member_id=uuid.uuid4(),
                tenant_id=tenant,
                organisation=organisations[n % len(organisations)],
                category=MemberCategory.Full,
                profile={"name": "压测"},
                person_key=None,
                meta=meta,
            )
        events = [e for aggregate in batch for e in aggregate.pending_events]
        app.save(*batch)
        return events

    for start in range(0, members, SAVE_MEMBERS):
        count = min(SAVE_MEMBERS, members - start)
        # The dues-account reads and the subject keys of the batch commit with its save, as in register_member.
        events = app.in_one_transaction(lambda: save(first if start == 0 else [], start, count))  # noqa: B023
        stored += len(events)
        published += sum(outbound(e) is not None for e in events)
    return stored, published


def registry_app(env: dict[str, str]) -> RegistryApplication:
    """The registry's application in this process, on the service's database and keys."""
    return RegistryApplication(
        persistence_env(env["DATABASE_URL"], env["CIPHER_KEY"], create_table=False),
        platform_secret=env["PLATFORM_SECRET"],
    )


def write_backlog(env: dict[str, str], members: int) -> Backlog:
    app = registry_app(env)
    try:
        first_id = app.recorder.max_notification_id() or 0
        tenant, meta = f"bench-relay-{uuid.uuid4().hex[:6]}", event_meta("bench")
        committee = Organisation.found(
            tenant_id=tenant,
            code="R",
            name="党委",
            kind=OrgKind.PrimaryCommittee,
            parent=None,
            meta=dict(meta),
        )
        branch = Organisation.found(
            tenant_id=tenant, code="B", name="支部", kind=OrgKind.Branch, parent=committee, meta=dict(meta)
        )
        started = time.perf_counter()
        stored, published = store_members(app, tenant, [branch], members, first=[committee, branch])
        write_seconds = time.perf_counter() - started
        last_id = app.recorder.max_notification_id() or 0
    finally:
        app.close()
    return Backlog(tenant, first_id, last_id, stored, published, write_seconds)


async def _watch(
    service: ServiceProcess, database_url: str, nats_url: str, backlog: Backlog, limit_s: float
) -> dict[str, Any]:
    conn = await asyncpg.connect(database_url)
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()

        async def messages() -> int:
            return int((await js.stream_info(STREAM)).state.messages)

        messages_before = await messages()
        messages_target = messages_before + backlog.published
        started = time.perf_counter()
        service.start()
        first: tuple[float, int] | None = None  # time, messages when the first batch was acked
        position_done: float | None = None
        stream_done: float | None = None
        while True:
            if not service.alive:
                raise RuntimeError(f"the registry exited while draining:\n{service.log_tail()}")
            if time.perf_counter() - started > limit_s:
                raise TimeoutError(f"the relay did not drain {backlog.stored} events within {limit_s:.0f} s")
            position, count = await _position(conn), await messages()
            now = time.perf_counter()
            # The relay writes its position at most once a second: the first message in the stream marks the
            # first acknowledged batch, not the first position write.
            if first is None and count > messages_before:
                first = (now, count)
            if position_done is None and position >= backlog.last_id:
                position_done = now
            if stream_done is None and count >= messages_target:
                stream_done = now
            if first is not None and position_done is not None and stream_done is not None:
                break
            await asyncio.sleep(POLL_S)
    finally:
        await nc.close()
        await conn.close()
    # Rates after the first acknowledged batch: process start-up (imports, migrations, connections) excluded.
    # The stored events are all read when the last of them is acknowledged, so both rates run to the stream's
    # completion; the position write trails it by up to a second (reported as position_caught_up_after_s).
    first_at, first_messages = first
    drain = publish = stream_done - first_at
    return {
        "first_batch_after_s": first_at - started,
        "position_caught_up_after_s": position_done - started,
        "stream_complete_after_s": stream_done - started,
        "stored_events_per_second": (backlog.last_id - backlog.first_id) / drain if drain > 0 else None,
        "published_per_second": (messages_target - first_messages) / publish if publish > 0 else None,
        "stored_events_per_second_with_startup": backlog.stored / (position_done - started),
        "measured_over_stored_events": backlog.last_id - backlog.first_id,
        "measured_over_published": messages_target - first_messages,
    }


async def pipelined_publish(nats_url: str, count: int, size: int) -> dict[str, Any]:
    """The relay's own baseline: `count` messages of `size` bytes, Nats-Msg-Id set, every PubAck awaited at the
    end of a window of 500 (the relay's batch), into a stream of the same kind (file storage)."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        await js.add_stream(name="BENCH_PIPELINED", subjects=["bench.pipelined.>"])
        payload = b"x" * size
        started = time.perf_counter()
        for window in range(0, count, 500):
            futures = [
                await js.publish_async(
                    f"bench.pipelined.{n % 16}", payload, headers={"Nats-Msg-Id": f"{started}:{n}"}
                )
                for n in range(window, min(count, window + 500))
            ]
            await asyncio.gather(*futures)
        elapsed = time.perf_counter() - started
    finally:
        await nc.close()
    return {"messages": count, "bytes_each": size, "per_second": count / elapsed}


async def _average_size(nats_url: str) -> int:
    nc = await nats.connect(nats_url)
    try:
        state = (await nc.jetstream().stream_info(STREAM)).state
        return max(1, int(state.bytes / max(1, state.messages)))
    finally:
        await nc.close()


def relay_drain(platform: Platform, nats_url: str, members: int, timeout: float = 300) -> dict[str, Any]:
    service = platform.services["registry"]
    env = service.env
    asyncio.run(wait_caught_up(env["DATABASE_URL"], timeout))
    service.stop()
    backlog = write_backlog(env, members)
    watched = asyncio.run(_watch(service, env["DATABASE_URL"], nats_url, backlog, timeout))
    service.wait_ready()
    baseline = asyncio.run(
        pipelined_publish(nats_url, backlog.published, asyncio.run(_average_size(nats_url)))
    )
    return {
        "stream": STREAM,
        "members": members,
        "tenant": backlog.tenant,
        "stored_events": backlog.stored,
        "pipelined_baseline": baseline,
        "published_events": backlog.published,
        "in_process_save_events_per_second": backlog.stored / backlog.write_seconds,
        **watched,
    }
