"""A projection that meets an event it cannot apply parks it (alarm, metric, readiness) and goes on with the next
events of every tenant; a failure that may pass leaves the position where it was."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
import psycopg
import pytest

from shared import db
from shared.logtail import LogShare
from shared.projection import ProjectionRunner, parked_events
from shared.telemetry import PROJECTION_PARKED
from tests.integration.conftest import Infra

pytestmark = pytest.mark.integration


@dataclass
class Note:  # the event a stored notification maps to
    id: int
    topic: str
    tenant: str
    name: str


class JsonMapper:
    def to_domain_event(self, notification: Any) -> Note:
        data = json.loads(notification.state)
        return Note(notification.id, notification.topic, data["tenant"], data["name"])


class Roll:
    name = "test-roll"

    def __init__(self) -> None:
        self.transient = False

    async def apply(self, conn: Any, event: Note, notification_id: int) -> None:
        if self.transient:
            raise ConnectionResetError("the database went away")
        await conn.execute("INSERT INTO roll (tenant_id, name) VALUES ($1, $2)", event.tenant, event.name)


async def _store(pool: asyncpg.Pool, *notes: tuple[int, str, str]) -> None:
    for notification_id, tenant, name in notes:
        state = json.dumps({"tenant": tenant, "name": name}).encode()
        await pool.execute(
            "INSERT INTO notes VALUES ($1, $2, 1, 'Member.Registered', $3)",
            notification_id,
            uuid.uuid4(),
            state,
        )


async def _run(url: str) -> None:
    await db.migrate(
        url,
        "parking",
        [
            "CREATE TABLE roll (tenant_id text NOT NULL, name text NOT NULL);"
            "CREATE TABLE notes (notification_id bigint PRIMARY KEY, originator_id uuid, originator_version int,"
            " topic text, state bytea)"
        ],
    )
    pool = await db.create_pool(url)
    try:
        roll = Roll()
        runner = ProjectionRunner.__new__(ProjectionRunner)
        runner.service, runner.pool, runner.projections, runner.names = "test", pool, [roll], [roll.name]
        runner.batch_size = 100
        runner.share = LogShare()  # nobody takes its batches here
        runner.app = type("App", (), {"mapper": JsonMapper()})()  # type: ignore[assignment]
        runner.select = (
            "SELECT notification_id, originator_id, originator_version, topic, state FROM notes "
            "WHERE notification_id > $1 ORDER BY notification_id LIMIT $2"
        )
        before = PROJECTION_PARKED.labels("test", "test-roll")._value.get()
        # A name PostgreSQL refuses (NUL) from one tenant, a good one from another, in one batch.
        await _store(pool, (1, "tenant-a", "a\x00b"), (2, "tenant-b", "李明"))
        assert await runner.apply_batch() == 2  # refused whole, then event by event, parking the bad one
        assert await pool.fetchval("SELECT array_agg(name) FROM roll") == ["李明"]  # the other tenant goes on
        assert await pool.fetchval("SELECT position FROM projection_position WHERE name = 'test-roll'") == 2
        parked = await pool.fetch("SELECT name, notification_id, error FROM projection_parked")
        assert [(r["name"], r["notification_id"]) for r in parked] == [("test-roll", 1)]
        assert (
            "CharacterNotInRepertoire" in parked[0]["error"]
            or "UntranslatableCharacter" in parked[0]["error"]
        )
        assert PROJECTION_PARKED.labels("test", "test-roll")._value.get() == before + 1
        ready, detail = await parked_events(pool)
        assert not ready and detail == "parked events: test-roll=1"

        roll.transient = True  # a failure that may pass: nothing parked, the position stays for a retry
        await _store(pool, (3, "tenant-a", "x"))
        with pytest.raises(ConnectionResetError):
            await runner.apply_batch()
        assert await pool.fetchval("SELECT count(*) FROM projection_parked") == 1
        assert await pool.fetchval("SELECT position FROM projection_position WHERE name = 'test-roll'") == 2
        roll.transient = False
        assert await runner.apply_batch() == 1
        assert await pool.fetchval("SELECT count(*) FROM roll") == 2

        await pool.execute("DELETE FROM projection_parked")  # the operator has looked
        assert (await parked_events(pool))[0]
    finally:
        await pool.close()


def test_an_event_a_projection_cannot_apply_is_parked_and_the_rest_go_on(infra: Infra) -> None:
    name = f"parking_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(infra.admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = infra.admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        asyncio.run(_run(url))
    finally:
        with psycopg.connect(infra.admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
