"""A projection against real PostgreSQL: each event applied once, the position kept across restarts."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from shared.db import Connection
from shared.projection import ProjectionRunner

pytestmark = pytest.mark.integration


class NoteTexts:
    """Writes each note's text; a primary key makes a second application of one event fail loudly."""

    name = "note-texts"

    def __init__(self) -> None:
        self.applied: list[int] = []

    async def apply(self, conn: Connection, event: Any, notification_id: int) -> None:
        await conn.execute(
            "INSERT INTO note_texts (position, text) VALUES ($1, $2)", notification_id, event.text
        )
        self.applied.append(notification_id)


async def run_until(
    notes: Any, pool: asyncpg.Pool, database_url: str, kit: Any, projection: NoteTexts, position: int
) -> None:
    runner = ProjectionRunner(
        service="notes", app=notes, pool=pool, listen_url=database_url, projections=[projection], batch_size=2
    )
    task = asyncio.create_task(runner.run())
    try:
        await kit.eventually(lambda: _at(pool, position), f"the projection reached {position}")
    finally:
        await kit.stopped(task)


async def test_a_projection_applies_each_event_once_and_resumes_after_its_position(
    notes: Any, pool: asyncpg.Pool, database_url: str, kit: Any
) -> None:
    await pool.execute("CREATE TABLE note_texts (position bigint PRIMARY KEY, text text NOT NULL)")
    notes.write("t-one", "first", "second", "third")
    before_restart = notes.recorder.max_notification_id()
    first = NoteTexts()
    await run_until(notes, pool, database_url, kit, first, before_restart)

    notes.write("t-one", "fourth")
    after_restart = NoteTexts()
    await run_until(notes, pool, database_url, kit, after_restart, notes.recorder.max_notification_id())

    assert len(first.applied) == 3 and after_restart.applied == [notes.recorder.max_notification_id()]
    texts = [r["text"] for r in await pool.fetch("SELECT text FROM note_texts ORDER BY position")]
    assert texts == ["first", "second", "third", "fourth"]


async def test_a_second_runner_on_the_same_projection_applies_nothing_twice(
    notes: Any, pool: asyncpg.Pool, database_url: str, kit: Any
) -> None:
    await pool.execute("CREATE TABLE note_texts (position bigint PRIMARY KEY, text text NOT NULL)")
    notes.write("t-two", *[f"note {n}" for n in range(7)])
    last = notes.recorder.max_notification_id()
    one, two = NoteTexts(), NoteTexts()
    await asyncio.gather(
        run_until(notes, pool, database_url, kit, one, last),
        run_until(notes, pool, database_url, kit, two, last),
    )
    assert sorted(one.applied + two.applied) == sorted(set(one.applied + two.applied))
    assert await pool.fetchval("SELECT count(*) FROM note_texts") == 7


async def _at(pool: asyncpg.Pool, position: int) -> bool:
    return (
        await pool.fetchval("SELECT position FROM projection_position WHERE name = 'note-texts'") == position
    )


class NoteLengths(NoteTexts):
    name = "note-lengths"

    async def apply(self, conn: Connection, event: Any, notification_id: int) -> None:
        await conn.execute(
            "INSERT INTO note_lengths (position, length) VALUES ($1, $2)", notification_id, len(event.text)
        )
        self.applied.append(notification_id)


async def test_one_runner_serves_every_projection_and_one_behind_catches_up_alone(
    notes: Any, pool: asyncpg.Pool, database_url: str, kit: Any
) -> None:
    await pool.execute("CREATE TABLE note_texts (position bigint PRIMARY KEY, text text NOT NULL)")
    await pool.execute("CREATE TABLE note_lengths (position bigint PRIMARY KEY, length int NOT NULL)")
    notes.write("t-three", "a", "bb", "ccc")
    first_three = notes.recorder.max_notification_id()
    await run_until(notes, pool, database_url, kit, NoteTexts(), first_three)  # texts alone, up to the third
    notes.write("t-three", "dddd")
    last = notes.recorder.max_notification_id()
    texts, lengths = NoteTexts(), NoteLengths()
    runner = ProjectionRunner(
        service="notes",
        app=notes,
        pool=pool,
        listen_url=database_url,
        projections=[texts, lengths],
        batch_size=2,
    )
    task = asyncio.create_task(runner.run())
    try:
        await kit.eventually(lambda: _both_at(pool, last), f"both projections reached {last}")
    finally:
        await kit.stopped(task)
    assert texts.applied == [last]  # the one ahead got only the new event
    assert len(lengths.applied) == 4 and lengths.applied[-1] == last
    assert [r["length"] for r in await pool.fetch("SELECT length FROM note_lengths ORDER BY position")] == [
        1,
        2,
        3,
        4,
    ]


async def _both_at(pool: asyncpg.Pool, position: int) -> bool:
    rows = await pool.fetch(
        "SELECT position FROM projection_position WHERE name IN ('note-texts', 'note-lengths')"
    )
    return len(rows) == 2 and all(r["position"] == position for r in rows)


class NoteTextsTogether(NoteTexts):
    """Takes a batch's events at once (`apply_many`); `apply` is left for a batch applied carefully."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[int] = []

    async def apply_many(self, conn: Connection, events: Any) -> None:
        self.calls.append(len(events))
        await conn.executemany(
            "INSERT INTO note_texts (position, text) VALUES ($1, $2)", [(n, e.text) for e, n in events]
        )
        self.applied.extend(n for _, n in events)


async def test_a_projection_that_takes_a_batch_at_once_gets_each_event_once_in_order(
    notes: Any, pool: asyncpg.Pool, database_url: str, kit: Any
) -> None:
    await pool.execute("CREATE TABLE note_texts (position bigint PRIMARY KEY, text text NOT NULL)")
    notes.write("t-four", *[f"note {n}" for n in range(5)])
    together = NoteTextsTogether()
    await run_until(notes, pool, database_url, kit, together, notes.recorder.max_notification_id())
    assert sum(together.calls) == 5 and max(together.calls) == 2  # batches of two: one call each
    assert together.applied == sorted(together.applied)
    texts = [r["text"] for r in await pool.fetch("SELECT text FROM note_texts ORDER BY position")]
    assert texts == [f"note {n}" for n in range(5)]
