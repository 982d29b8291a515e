"""A run of one event (how events come when they come one at a time) is applied in its own transaction, without a
savepoint, and keeps what a run keeps: applied once, a duplicate told from a failure. Real PostgreSQL."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
import pytest

from shared.consumer import Applied, apply_tracked_in_order
from shared.envelope import CloudEvent
from shared.unitofwork import unit_datastore

pytestmark = pytest.mark.integration


def no_savepoint(notes: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def refused() -> Any:
        raise AssertionError("a savepoint for a run of one event")

    monkeypatch.setattr(unit_datastore(notes), "savepoint", refused)


async def apply_one(notes: Any, kit: Any, event: CloudEvent, *, fails: bool = False) -> Applied:
    def react(e: CloudEvent, data: Any) -> list[Any]:
        if fails:
            raise RuntimeError("the reaction fails")
        return [kit.Note(e.tenantid, data.text)]

    contracts = {kit.NoteWritten.TYPE: kit.NoteWritten}
    return await anyio.to_thread.run_sync(apply_tracked_in_order, notes, [event], contracts, react)


async def texts(notes: Any) -> list[str]:
    def read() -> list[str]:
        return [
            notes.mapper.to_domain_event(n).text
            for n in notes.recorder.select_notifications(start=1, limit=99)
        ]

    return await anyio.to_thread.run_sync(read)


async def test_a_run_of_one_event_is_applied_once_without_a_savepoint(
    notes: Any, kit: Any, broker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_savepoint(notes, monkeypatch)
    event = kit.cloudevent(broker, "独一", position=1)
    assert await apply_one(notes, kit, event) == Applied(1)
    assert await apply_one(notes, kit, event) == Applied(1)  # redelivered: a known duplicate
    notes._tracked.clear()  # as another process, which has not seen it committed
    assert await apply_one(notes, kit, event) == Applied(1)  # the tracking insert refused it: a duplicate
    assert await texts(notes) == ["独一"]


async def test_a_run_of_one_event_that_fails_stores_nothing_and_says_why(
    notes: Any, kit: Any, broker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_savepoint(notes, monkeypatch)
    event = kit.cloudevent(broker, "失败", position=1)
    applied = await apply_one(notes, kit, event, fails=True)
    assert applied.count == 0 and isinstance(applied.failure, RuntimeError)
    assert await texts(notes) == []
    assert await apply_one(notes, kit, event) == Applied(1)  # the redelivery applies it
    assert await texts(notes) == ["失败"]
