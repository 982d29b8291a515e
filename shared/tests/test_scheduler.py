"""Deadlines against real PostgreSQL: due ones fire once, even with two schedulers taking rows together."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from shared.clock import SettableClock
from shared.db import system_transaction
from shared.scheduler import Deadline, DeadlineScheduler, cancel, schedule

pytestmark = pytest.mark.integration


async def deadlines(pool: asyncpg.Pool, clock: SettableClock, count: int, *, in_: timedelta) -> list[str]:
    ids = [f"remind:{n}" for n in range(count)]
    async with system_transaction(pool) as conn:
        for id_ in ids:
            await schedule(
                conn,
                tenant_id="t-one",
                id=id_,
                kind="remind",
                subject_id=id_,
                due_at=clock.now() + in_,
                payload={"n": id_},
            )
    return ids


def scheduler(pool: asyncpg.Pool, clock: SettableClock, fired: Counter[str]) -> DeadlineScheduler:
    async def remind(deadline: Deadline) -> None:
        fired[deadline.id] += 1
        await asyncio.sleep(0.01)  # holds its rows' locks while the other worker looks for due rows

    return DeadlineScheduler(service="notes", pool=pool, clock=clock, handlers={"remind": remind}, batch=3)


async def drain(worker: DeadlineScheduler) -> None:
    while await worker.fire_due():
        pass


async def test_two_schedulers_fire_each_due_deadline_exactly_once(pool: asyncpg.Pool, kit: Any) -> None:
    clock = SettableClock(kit.T0)
    due = await deadlines(pool, clock, 20, in_=timedelta(minutes=5))
    clock.advance(timedelta(minutes=5))
    fired: Counter[str] = Counter()
    await asyncio.gather(drain(scheduler(pool, clock, fired)), drain(scheduler(pool, clock, fired)))
    assert sorted(fired) == sorted(due) and set(fired.values()) == {1}


async def test_a_deadline_not_yet_due_or_cancelled_does_not_fire(pool: asyncpg.Pool, kit: Any) -> None:
    clock = SettableClock(kit.T0)
    (later,) = await deadlines(pool, clock, 1, in_=timedelta(days=1))
    async with system_transaction(pool) as conn:
        await schedule(
            conn, tenant_id="t-one", id="gone", kind="remind", subject_id="gone", due_at=clock.now()
        )
        await cancel(conn, "gone", clock.now())
    fired: Counter[str] = Counter()
    await drain(scheduler(pool, clock, fired))
    assert fired == Counter()
    clock.advance(timedelta(days=1))
    await drain(scheduler(pool, clock, fired))
    assert fired == Counter({later: 1})


async def test_a_failed_handler_leaves_the_deadline_due_with_its_error(pool: asyncpg.Pool, kit: Any) -> None:
    clock = SettableClock(kit.T0)
    (due,) = await deadlines(pool, clock, 1, in_=timedelta(0))

    async def broken(deadline: Deadline) -> None:
        raise RuntimeError("mail server down")

    worker = DeadlineScheduler(service="notes", pool=pool, clock=clock, handlers={"remind": broken})
    assert await worker.fire_due() == 1
    row = await pool.fetchrow("SELECT fired_at, attempts, last_error FROM deadlines WHERE id = $1", due)
    assert row["fired_at"] is None and row["attempts"] == 1 and "mail server down" in row["last_error"]
