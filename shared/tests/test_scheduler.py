"""Deadlines against real PostgreSQL: due ones fire once, even with two schedulers taking rows together."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from shared.clock import SettableClock
from shared.db import system_transaction
from shared.scheduler import (
    CANCEL_FOR,
    DEADLINES_CHANNEL,
    Deadline,
    DeadlineScheduler,
    cancel,
    cancel_for,
    schedule,
    schedule_all,
)

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


async def test_a_subjects_open_deadlines_are_cancelled_by_index_not_a_scan_of_all(
    pool: asyncpg.Pool, kit: Any
) -> None:
    """cancel_for runs on every contact event of the registry: without the index it read every row of the table,
    50 ms at 10,000 members, growing with the roll."""
    clock = SettableClock(kit.T0)
    subjects = [f"member-{n}" for n in range(2000)]
    async with system_transaction(pool) as conn:
        await conn.executemany(
            "INSERT INTO deadlines (tenant_id, id, kind, subject_id, due_at) VALUES ('t-one', $1, $2, $3, $4) "
            "ON CONFLICT (id) DO NOTHING",
            [(f"{s}:{k}", k, s, clock.now() + timedelta(days=30)) for s in subjects for k in ("a", "b", "c")],
        )
        await conn.execute("ANALYZE deadlines")
        plan = "\n".join(
            r[0] for r in await conn.fetch(f"EXPLAIN {CANCEL_FOR}", subjects[1234], clock.now(), ["a", "b"])
        )
        await cancel_for(conn, subjects[1234], clock.now(), ["a", "b"])
        left = await conn.fetch(
            "SELECT kind FROM deadlines WHERE subject_id = $1 AND cancelled_at IS NULL", subjects[1234]
        )
    assert "deadlines_open_by_subject" in plan and "Seq Scan" not in plan, plan
    assert [r["kind"] for r in left] == ["c"]


async def test_a_deadline_committed_while_the_scheduler_plans_its_sleep_wakes_it(
    database_url: str, pool: asyncpg.Pool, kit: Any
) -> None:
    """Notify's retries are scheduled by its projection, so their commit can fall while the scheduler is between
    reading the soonest deadline and planning its wake-up. That NOTIFY must wake it: it was ignored, and the
    retry waited for the idle timeout (30 s), which made a webhook retry test in CI time out."""
    clock = SettableClock(kit.T0)
    fired: Counter[str] = Counter()
    heard = asyncio.Event()

    async def remind(deadline: Deadline) -> None:
        fired[deadline.id] += 1

    class LateCommit(DeadlineScheduler):
        planned = False

        async def _sleep_seconds(self) -> float:
            sleep = await super()._sleep_seconds()  # reads "nothing due" ...
            if not self.planned:
                self.planned = True
                listener = await asyncpg.connect(database_url)
                await listener.add_listener(DEADLINES_CHANNEL, lambda *_: heard.set())
                try:
                    # ... then a deadline due now commits, and its NOTIFY arrives before the wake-up is planned.
                    await deadlines(pool, clock, 1, in_=timedelta(0))
                    await asyncio.wait_for(heard.wait(), 5)
                    await asyncio.sleep(0.2)
                finally:
                    await listener.close()
            return sleep

    worker = LateCommit(
        service="notes", pool=pool, clock=clock, handlers={"remind": remind}, listen_url=database_url
    )
    task = asyncio.create_task(worker.run())
    try:
        for _ in range(50):
            if fired:
                break
            await asyncio.sleep(0.1)
        assert fired == Counter({"remind:0": 1}), "the deadline waited for the idle timeout"
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_deadlines_scheduled_together_move_as_one_at_a_time_but_never_revive(
    pool: asyncpg.Pool, kit: Any
) -> None:
    clock = SettableClock(kit.T0)
    soon, later = clock.now() + timedelta(minutes=1), clock.now() + timedelta(days=1)
    async with system_transaction(pool) as conn:
        await schedule_all(
            conn, tenant_id="t-one", subject_id="m", due={"a": ("remind", soon), "b": ("remind", soon)}
        )
        await cancel(conn, "b", clock.now())
        await schedule_all(
            conn, tenant_id="t-one", subject_id="m", due={"a": ("remind", later), "b": ("remind", later)}
        )
        await schedule_all(conn, tenant_id="t-one", subject_id="m", due={})
    rows = await pool.fetch(
        "SELECT id, due_at, cancelled_at IS NOT NULL AS cancelled FROM deadlines ORDER BY id"
    )
    assert [(r["id"], r["due_at"], r["cancelled"]) for r in rows] == [("a", later, False), ("b", soon, True)]
