"""Group commit on real PostgreSQL: commands that arrive together commit in one transaction, each answered only
after it; one that fails rolls back alone; a commit that fails answers every command of its batch with it."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest

from shared.groupcommit import GroupCommit

pytestmark = pytest.mark.integration


def writing(notes: Any, text: str, *, then_fail: bool = False) -> Any:
    def command() -> Any:
        (note,) = notes.write("t-one", text)
        if then_fail:
            raise RuntimeError("the command fails after its save")
        return note

    return command


def counting_units(notes: Any, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many commands each transaction of several (`in_one_transaction`) held."""
    units: list[int] = []
    original = type(notes).in_one_transaction

    def counted(app: Any, command: Any) -> Any:
        before = len(app.recorder.select_notifications(start=1, limit=99))
        result = original(app, command)
        units.append(len(app.recorder.select_notifications(start=1, limit=99)) - before)
        return result

    monkeypatch.setattr(type(notes), "in_one_transaction", counted)
    return units


async def test_commands_that_arrive_together_commit_together_and_a_failing_one_rolls_back_alone(
    notes: Any, kit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    units = counting_units(notes, monkeypatch)
    batcher = GroupCommit(notes)
    answers: Any = await asyncio.gather(
        batcher.run(writing(notes, "一")),
        batcher.run(writing(notes, "回滚", then_fail=True)),
        batcher.run(writing(notes, "二")),
        return_exceptions=True,
    )
    first, failed, second = answers
    assert isinstance(failed, RuntimeError)
    assert (first.text, second.text) == ("一", "二")
    assert await kit.stored_texts(notes) == ["一", "二"]
    assert units == [2]  # one transaction: the two that succeeded


async def test_a_command_alone_commits_on_its_own_and_the_next_batch_after_it(
    notes: Any, kit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    units = counting_units(notes, monkeypatch)
    batcher = GroupCommit(notes)
    await batcher.run(writing(notes, "独"))
    await asyncio.gather(batcher.run(writing(notes, "甲")), batcher.run(writing(notes, "乙")))
    assert await kit.stored_texts(notes) == ["独", "甲", "乙"]
    assert units == [2]  # the one alone saved as it would without the batcher; the two after it together


async def test_a_failed_commit_answers_every_command_of_the_batch_and_stores_none(
    notes: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def commit_fails(app: Any, command: Any) -> Any:
        command()
        raise psycopg.errors.SerializationFailure("the commit failed")

    monkeypatch.setattr(type(notes), "in_one_transaction", commit_fails)
    batcher = GroupCommit(notes)
    answers = await asyncio.gather(
        batcher.run(writing(notes, "甲")), batcher.run(writing(notes, "乙")), return_exceptions=True
    )
    assert all(isinstance(answer, psycopg.errors.SerializationFailure) for answer in answers)
