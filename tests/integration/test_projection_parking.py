"""A projection that meets an event it cannot apply parks it (alarm, metric, readiness) and goes on with the next
events of every tenant; a failure that may pass leaves the position where it was."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
import psycopg
import pytest

from shared import db
from shared.projection import ProjectionRunner, parked_events
from shared.telemetry import PROJECTION_PARKED
from tests.integration.conftest import Infra

pytestmark = pytest.mark.integration


@dataclass
class Note:  # stands for both the stored notification and the event it maps to
    id: int
    topic: str
    tenant: str
    name: str


class Identity:
    def to_domain_event(self, notification: Note) -> Note:
        return notification


class Roll:
    name = "test-roll"

    def __init__(self) -> None:
        self.transient = False

    async def apply(self, conn: Any, event: Note, notification_id: int) -> None:
        if self.transient:
            raise ConnectionResetError("the database went away")
        await conn.execute("INSERT INTO roll (tenant_id, name) VALUES ($1, $2)", event.tenant, event.name)


async def _run(url: str) -> None:
    await db.migrate(url, "parking", ["CREATE TABLE roll (tenant_id text NOT NULL, name text NOT NULL)"])
    pool = await db.create_pool(url)
    try:
        runner = ProjectionRunner.__new__(ProjectionRunner)
        runner.service, runner.pool, runner.projection = "test", pool, Roll()
        runner.app = type("App", (), {"mapper": Identity()})()  # type: ignore[assignment]
        before = PROJECTION_PARKED.labels("test", "test-roll")._value.get()
        events = [Note(1, "Member.Registered", "tenant-a", "a\x00b"), Note(2, "Member.Registered", "tenant-b", "李明")]
        with pytest.raises(asyncpg.DataError):  # the whole batch at once: refused, and rolled back whole
            await runner._apply_batch(events, careful=False)
        assert await pool.fetchval("SELECT count(*) FROM roll") == 0
        await runner._apply_batch(events, careful=True)  # what run() does next: event by event
        assert await pool.fetchval("SELECT array_agg(name) FROM roll") == ["李明"]  # the other tenant goes on
        assert await pool.fetchval("SELECT position FROM projection_position WHERE name = 'test-roll'") == 2
        parked = await pool.fetch("SELECT name, notification_id, error FROM projection_parked")
        assert [(r["name"], r["notification_id"]) for r in parked] == [("test-roll", 1)]
        assert "CharacterNotInRepertoire" in parked[0]["error"] or "UntranslatableCharacter" in parked[0]["error"]
        assert PROJECTION_PARKED.labels("test", "test-roll")._value.get() == before + 1
        ready, detail = await parked_events(pool)
        assert not ready and detail == "parked events: test-roll=1"

        runner.projection.transient = True  # type: ignore[attr-defined]
        with pytest.raises(ConnectionResetError):
            async with db.system_transaction(pool) as conn:
                await runner._apply_or_park(conn, Note(3, "Member.Registered", "tenant-a", "x"))
        assert await pool.fetchval("SELECT count(*) FROM projection_parked") == 1  # not parked: retried later

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
