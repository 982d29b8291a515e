"""A run whose saves are held for one insert (`apply_tracked_in_order(..., hold_saves=True)`) keeps what a save per
event kept: a failing event rolls back alone and ends the run, the events before it stay stored, a reaction reads
what the events before it in the run changed. Real PostgreSQL, no broker: the handler is called directly."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

import anyio.to_thread
import pytest
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError

from shared.consumer import Applied, apply_tracked_in_order
from shared.envelope import CloudEvent

from .conftest import Note, Notes, NoteWritten, note_written

pytestmark = pytest.mark.integration

CONTRACTS = {NoteWritten.TYPE: NoteWritten}


class Mark(Aggregate):
    """An aggregate with an id from its name: two made apart collide on the insert, as a redelivered notice would."""

    TOPIC = "lianxin.sharedtests.Mark"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.sharedtests.Mark.Created"

    class Made(Created):
        TOPIC = "lianxin.sharedtests.Mark.Made"
        name: str

    @staticmethod
    def create_id(name: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"mark|{name}")

    @event(Made)
    def __init__(self, name: str) -> None:
        self.name = name


def stored_texts(notes: Notes) -> list[str]:
    return [
        notes.mapper.to_domain_event(n).text
        for n in notes.recorder.select_notifications(start=1, limit=1000)
        if n.topic.endswith("Note.Written")
    ]


@contextmanager
def counted_inserts(notes: Notes) -> Iterator[list[int]]:
    calls: list[int] = []
    insert = notes.recorder.insert_events

    def counting(stored: Any, **kwargs: Any) -> Any:
        calls.append(len(stored))
        return insert(stored, **kwargs)

    notes.recorder.insert_events = counting  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        notes.recorder.insert_events = insert  # type: ignore[method-assign]


def run(notes: Notes, texts: list[str], react: Callable[[CloudEvent, Any], list[Any]]) -> Applied:
    events = [note_written("tenant-one", text, position=p) for p, text in enumerate(texts, 1)]
    return apply_tracked_in_order(notes, events, CONTRACTS, react, hold_saves=True)


async def test_a_run_stores_its_events_in_one_insert_with_its_last_position(notes: Notes) -> None:
    texts = [f"n{i}" for i in range(1, 9)]
    with counted_inserts(notes) as inserts:
        applied = await anyio.to_thread.run_sync(
            lambda: run(notes, texts, lambda e, c: [Note(e.tenantid, c.text)])
        )
    assert applied == Applied(8)
    assert inserts == [8]
    assert await anyio.to_thread.run_sync(stored_texts, notes) == texts
    assert await anyio.to_thread.run_sync(notes.process_recorder.max_tracking_id, "upstream") == 8


async def test_a_reaction_reads_what_the_events_before_it_in_its_run_stored(notes: Notes) -> None:
    made: dict[str, UUID] = {}
    seen: list[bool] = []

    def react(event: CloudEvent, contract: Any) -> list[Any]:
        if contract.text == "second":
            seen.append(notes.find(Note, made["first"]) is not None)
        note = Note(event.tenantid, contract.text)
        made[contract.text] = note.id
        return [note]

    applied = await anyio.to_thread.run_sync(lambda: run(notes, ["first", "second", "third"], react))
    assert applied == Applied(3)
    assert seen == [True]
    assert await anyio.to_thread.run_sync(stored_texts, notes) == ["first", "second", "third"]


async def test_a_failed_insert_of_the_runs_saves_finds_the_event_at_fault(notes: Notes) -> None:
    attempts: Counter[str] = Counter()

    def react(event: CloudEvent, contract: Any) -> list[Any]:
        attempts[contract.text] += 1
        made = [Note(event.tenantid, contract.text)]
        if contract.text in ("a", "c"):  # c's mark collides with a's: the insert of c's save fails
            made.append(Mark("one"))
        return made

    applied = await anyio.to_thread.run_sync(lambda: run(notes, ["a", "b", "c", "d"], react))
    assert applied.count == 2 and isinstance(applied.failure, IntegrityError)
    assert await anyio.to_thread.run_sync(stored_texts, notes) == ["a", "b"]
    assert await anyio.to_thread.run_sync(notes.process_recorder.max_tracking_id, "upstream") == 2
    # Each reacted once with saves held (all rolled back), then again one save at a time up to the failure: nothing
    # after the failed event is stored, nor tried in the pass that stores.
    assert attempts == Counter({"a": 2, "b": 2, "c": 2, "d": 1})


async def test_an_event_failing_after_its_read_inserted_the_runs_saves_leaves_them_stored(
    notes: Notes,
) -> None:
    def react(event: CloudEvent, contract: Any) -> list[Any]:
        if contract.text == "reads-then-fails":
            notes.find(Note, uuid4())  # inserts the held saves of "kept" inside this event's savepoint
            raise ValueError("refused after reading")
        return [Note(event.tenantid, contract.text)]

    applied = await anyio.to_thread.run_sync(lambda: run(notes, ["kept", "reads-then-fails", "after"], react))
    assert applied.count == 1 and isinstance(applied.failure, ValueError)
    assert await anyio.to_thread.run_sync(stored_texts, notes) == ["kept"]
    assert await anyio.to_thread.run_sync(notes.process_recorder.max_tracking_id, "upstream") == 1


async def test_a_redelivered_run_applies_nothing_twice(notes: Notes) -> None:
    texts = ["x", "y", "z"]

    def react(event: CloudEvent, contract: Any) -> list[Any]:
        return [Note(event.tenantid, contract.text)]

    assert await anyio.to_thread.run_sync(lambda: run(notes, texts, react)) == Applied(3)
    with counted_inserts(notes) as inserts:
        assert await anyio.to_thread.run_sync(lambda: run(notes, texts, react)) == Applied(3)
    assert inserts == []
    assert await anyio.to_thread.run_sync(stored_texts, notes) == texts


async def test_a_runs_events_go_in_binary_and_read_back_as_they_were(notes: Notes) -> None:
    # Text that the text format would have to quote and escape inside the composite and the array.
    texts = ['引号"与反斜杠\\', "(a,b)", "{x,y}", "NULL", "", "x" * 5000, "\x01 tab\t newline\n"]
    assert "%b::" in notes.recorder.insert_events_statement.as_string(None)  # type: ignore[attr-defined]
    applied = await anyio.to_thread.run_sync(
        lambda: run(notes, texts, lambda e, c: [Note(e.tenantid, c.text)])
    )
    assert applied == Applied(len(texts))
    assert await anyio.to_thread.run_sync(stored_texts, notes) == texts
