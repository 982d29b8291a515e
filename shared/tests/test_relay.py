"""The outbox relay against real PostgreSQL and JetStream: order, position after PubAck, duplicates dropped."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
import pytest

from shared.relay import Relay

pytestmark = pytest.mark.integration


def relay(notes: Any, broker: Any, pool: asyncpg.Pool, database_url: str, kit: Any) -> Relay:
    return Relay(
        service="notes",
        app=notes,
        js=broker.js,
        pool=pool,
        listen_url=database_url,
        outbound=kit.outbound,
        batch_size=2,
    )


async def recorded(pool: asyncpg.Pool) -> int | None:
    position: int | None = await pool.fetchval(
        "SELECT position FROM relay_position WHERE name = 'notes-relay'"
    )
    return position


async def relay_until_recorded(
    notes: Any, broker: Any, pool: asyncpg.Pool, database_url: str, kit: Any, position: int
) -> None:
    task = asyncio.create_task(relay(notes, broker, pool, database_url, kit).run())
    try:
        await kit.eventually(lambda: _at(pool, position), f"the relay recorded position {position}")
    finally:
        await kit.stopped(task)


async def published_texts(broker: Any) -> list[str]:
    return [json.loads(m.data)["data"]["text"] for m in await broker.messages()]


async def test_the_relay_publishes_in_order_and_records_the_last_position(
    notes: Any, broker: Any, pool: asyncpg.Pool, database_url: str, kit: Any
) -> None:
    await kit.add_stream(broker)
    written = notes.write(broker.tenant, "one", "two", "three")
    await relay_until_recorded(notes, broker, pool, database_url, kit, notes.recorder.max_notification_id())
    assert await published_texts(broker) == ["one", "two", "three"]
    ids = [m.headers["Nats-Msg-Id"] for m in await broker.messages()]
    assert ids == [f"{note.id}:1" for note in written]


async def test_without_a_puback_the_relay_records_no_position(
    notes: Any, broker: Any, pool: asyncpg.Pool, database_url: str, kit: Any
) -> None:
    notes.write(broker.tenant, "nobody listens")  # no stream takes the subject: JetStream never acknowledges
    with pytest.raises(Exception):  # noqa: B017 - whichever error the client raises for a missing ack
        await asyncio.wait_for(relay(notes, broker, pool, database_url, kit).run(), timeout=60)
    assert await recorded(pool) is None


async def test_after_a_crash_before_the_position_is_recorded_republished_events_are_dropped_as_duplicates(
    notes: Any, broker: Any, pool: asyncpg.Pool, database_url: str, kit: Any
) -> None:
    await kit.add_stream(broker)
    notes.write(broker.tenant, "a", "b", "c")
    last = notes.recorder.max_notification_id()
    await relay_until_recorded(notes, broker, pool, database_url, kit, last)
    # The crash: every PubAck came back, the position write did not survive.
    await pool.execute("DELETE FROM relay_position WHERE name = 'notes-relay'")
    await relay_until_recorded(notes, broker, pool, database_url, kit, last)
    assert await published_texts(broker) == ["a", "b", "c"]


async def _at(pool: asyncpg.Pool, position: int) -> bool:
    return await recorded(pool) == position
