"""One transaction for a whole command on real PostgreSQL: reads, the subject key and the save commit together or
not at all; a key of a rolled-back command is neither stored nor cached; a lost connection runs the command again."""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import anyio.to_thread
import psycopg
import pytest
from eventsourcing.domain import Aggregate, event

from shared import logtail
from shared.eventstore import (
    IntegrityError,
    ServiceApplication,
    in_one_transaction,
    persistence_env,
    rerun_on_clash,
)
from shared.shredding import PersonalData, PersonalDataApplication, PostgresKeyStore, install
from shared.unitofwork import UnitOfWorkDatastore, unit_datastore

pytestmark = pytest.mark.integration


class Diary(Aggregate):
    TOPIC = "lianxin.sharedtests.Diary"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.sharedtests.Diary.Created"

    class Opened(Created):
        TOPIC = "lianxin.sharedtests.Diary.Opened"
        owner: str

    class Entry(Event):
        TOPIC = "lianxin.sharedtests.Diary.Entry"
        text: str

    @event(Opened)
    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.entries: list[str] = []

    @event(Entry)
    def write(self, text: str) -> None:
        self.entries.append(text)


class Diaries(PersonalDataApplication, ServiceApplication):
    """The owner's name and every entry sealed with the diary's own subject key."""

    name = "diaries"
    personal_data = (PersonalData("lianxin.sharedtests.Diary.", ("owner", "text")),)

    def __init__(self, env: dict[str, str]) -> None:
        super().__init__(env)
        self.runs = 0
        self.fail_after_save = False
        self.kill_first_run: str | None = None  # a database URL to terminate the first run's connection from

    @in_one_transaction
    def open_and_write(self, owner: str, text: str, *, also: UUID | None = None) -> Diary:
        """Reads another diary first (as a use case reads its organisation), then saves a new one."""
        self.runs += 1
        if also is not None:
            self.repository.get(also)
        if self.kill_first_run and self.runs == 1:
            with self.datastore().get_connection() as conn:
                row: Any = conn.execute("SELECT pg_backend_pid() AS pid").fetchone()
            with psycopg.connect(self.kill_first_run, autocommit=True) as other:
                other.execute("SELECT pg_terminate_backend(%s)", (row["pid"],))
        diary = Diary(owner)
        diary.write(text)
        self.save(diary)
        if self.fail_after_save:
            raise RuntimeError("the command fails after its save")
        return diary

    @in_one_transaction
    def write_both(self, first: Diary, second: Diary) -> None:
        first.write("one")
        second.write("two")
        self.save(first)
        self.save(second)

    @in_one_transaction
    def react(self, diary_id: UUID, text: str) -> Diary:
        """As a consumer's reaction calling a use case that reruns on a clash, all in one transaction."""
        return self.write_after_a_rival(diary_id, text)

    @rerun_on_clash
    def write_after_a_rival(self, diary_id: UUID, text: str) -> Diary:
        self.runs += 1
        diary = self.repository.get(diary_id)
        if self.runs == 1:  # another writer, on a connection of its own, saves first
            rival = self.repository.get(diary_id)
            rival.write("抢先")
            writer = threading.Thread(target=self.save, args=(rival,))
            writer.start()
            writer.join()
        diary.write(text)
        self.save(diary)
        return diary

    def datastore(self) -> UnitOfWorkDatastore:
        found = unit_datastore(self)
        assert found is not None
        return found

    def keys(self) -> PostgresKeyStore:
        store = self.subject_keys()
        assert isinstance(store, PostgresKeyStore)
        return store


@pytest.fixture
async def diaries(database_url: str) -> AsyncIterator[Diaries]:
    install(database_url, None)
    key = base64.b64encode(os.urandom(32)).decode()
    app = await anyio.to_thread.run_sync(
        lambda: Diaries(persistence_env(database_url, key, create_table=True))
    )
    try:
        yield app
    finally:
        await anyio.to_thread.run_sync(app.close)


@contextmanager
def connections_seen(app: Diaries) -> Iterator[list[tuple[int, Any]]]:
    """Every connection the recorders and the key store were handed, with its transaction status then."""
    datastore = app.datastore()
    seen: list[tuple[int, Any]] = []
    original = datastore.get_connection

    @contextmanager
    def spying() -> Iterator[Any]:
        with original() as conn:
            seen.append((conn.info.backend_pid, conn.info.transaction_status))
            yield conn

    datastore.get_connection = spying  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        del datastore.get_connection


def key_rows(database_url: str, subject: UUID) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM subject_keys WHERE subject_id = %s", (subject,)).fetchone()
    return int(row[0]) if row else 0


def test_reads_key_and_save_run_on_one_connection_in_one_transaction(
    diaries: Diaries, database_url: str
) -> None:
    earlier = Diary("甲")
    diaries.save(earlier)
    with connections_seen(diaries) as seen:
        diary = diaries.open_and_write("乙", "第一篇", also=earlier.id)
    # The read of the other diary and the save: one session, each inside the open transaction.
    assert len(seen) == 2
    assert {conn for conn, _ in seen} == {seen[0][0]}
    assert {status for _, status in seen} == {psycopg.pq.TransactionStatus.INTRANS}
    # The new subject key and the events were written by one transaction (the same xmin).
    with psycopg.connect(database_url) as conn:
        key_xmin = conn.execute(
            "SELECT xmin::text FROM subject_keys WHERE subject_id = %s", (diary.id,)
        ).fetchall()
        event_xmins = conn.execute(
            "SELECT DISTINCT xmin::text FROM diaries_events WHERE originator_id = %s", (diary.id,)
        ).fetchall()
    assert len(key_xmin) == 1 and event_xmins == key_xmin
    stored = diaries.repository.get(diary.id)
    assert (stored.owner, stored.entries) == ("乙", ["第一篇"])


def test_a_command_that_fails_after_its_save_leaves_no_event_and_no_key(
    diaries: Diaries, database_url: str
) -> None:
    diaries.fail_after_save = True
    with pytest.raises(RuntimeError):
        diaries.open_and_write("丙", "不会留下")
    assert diaries.recorder.max_notification_id() is None  # nothing in the log
    assert diaries.keys()._cache == {}  # the key of the rolled-back command was never cached
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM subject_keys").fetchone()
    assert row is not None and row[0] == 0  # nor stored
    diaries.fail_after_save = False
    diary = diaries.open_and_write("丙", "这次留下")
    assert key_rows(database_url, diary.id) == 1
    assert diary.id in diaries.keys()._cache  # cached once committed
    diaries.keys()._cache.clear()
    assert diaries.repository.get(diary.id).entries == ["这次留下"]  # opened with the stored key


def test_a_clash_in_one_transaction_stores_none_of_its_aggregates(diaries: Diaries) -> None:
    first, second = Diary("丁"), Diary("戊")
    diaries.save(first, second)
    stale = diaries.repository.get(second.id)
    rival = diaries.repository.get(second.id)
    rival.write("抢先")
    diaries.save(rival)
    position = diaries.recorder.max_notification_id()
    with pytest.raises(IntegrityError):
        diaries.write_both(diaries.repository.get(first.id), stale)
    assert diaries.recorder.max_notification_id() == position
    assert diaries.repository.get(first.id).entries == []  # its first save rolled back with the clash
    assert diaries.repository.get(second.id).entries == ["抢先"]


def test_a_lost_connection_runs_the_whole_command_again(diaries: Diaries, database_url: str) -> None:
    earlier = Diary("己")
    diaries.save(earlier)
    diaries.kill_first_run = database_url
    diary = diaries.open_and_write("庚", "断线之后", also=earlier.id)
    assert diaries.runs == 2
    assert diaries.repository.get(diary.id).entries == ["断线之后"]
    assert key_rows(database_url, diary.id) == 1


def test_a_use_case_that_reruns_on_a_clash_reruns_inside_one_transaction(diaries: Diaries) -> None:
    diary = Diary("辛")
    diaries.save(diary)
    diaries.react(diary.id, "之后")
    assert (
        diaries.runs == 2
    )  # the clash rolled back its attempt only (a savepoint), and the rerun saw the rival
    assert diaries.repository.get(diary.id).entries == ["抢先", "之后"]


@pytest.mark.parametrize("kind", ["savepoint", "lazy_savepoint"])
def test_a_key_created_in_a_savepoint_that_rolls_back_is_not_cached_when_the_rest_commits(
    diaries: Diaries, database_url: str, kind: str
) -> None:
    kept, dropped = Diary("壬"), Diary("癸")
    datastore = diaries.datastore()
    savepoint = getattr(datastore, kind)

    def batch() -> None:  # as a consumer's batch: one event in a savepoint each, the third one fails
        with savepoint():
            pass  # a reaction with no database work (a lazy savepoint then sends nothing)
        with savepoint():
            diaries.save(kept)
        with pytest.raises(RuntimeError), savepoint():
            diaries.save(dropped)
            raise RuntimeError("the third event's reaction fails after its save")

    diaries.in_one_transaction(batch)
    assert kept.id in diaries.repository and dropped.id not in diaries.repository
    assert key_rows(database_url, kept.id) == 1 and kept.id in diaries.keys()._cache
    # Cached, the rolled-back key would seal a redelivery's events with a key that exists nowhere.
    assert key_rows(database_url, dropped.id) == 0 and dropped.id not in diaries.keys()._cache


def test_a_savepoint_inside_a_lazy_one_opens_it_first(diaries: Diaries) -> None:
    inner, outer = Diary("寅"), Diary("卯")
    datastore = diaries.datastore()

    def batch() -> None:
        with pytest.raises(RuntimeError), datastore.lazy_savepoint():
            with (
                datastore.savepoint()
            ):  # a rerun-on-clash inside a reaction: nested in the reaction's savepoint
                diaries.save(inner)
            diaries.save(outer)
            raise RuntimeError("the reaction fails after both saves")

    diaries.in_one_transaction(batch)
    assert inner.id not in diaries.repository and outer.id not in diaries.repository


def test_keys_held_for_a_run_seal_its_saves_and_roll_back_with_it(
    diaries: Diaries, database_url: str
) -> None:
    first, second, lost = Diary("辰"), Diary("巳"), Diary("午")
    keys = diaries.keys()

    def run() -> None:
        with keys.held([first.id, second.id]):
            with connections_seen(diaries) as seen:
                diaries.save(first, second)
            assert len(seen) == 1  # the save's insert only: both keys came from the one statement before

    diaries.in_one_transaction(run)
    assert key_rows(database_url, first.id) == key_rows(database_url, second.id) == 1
    assert diaries.repository.get(first.id).owner == "辰"

    def rolled_back() -> None:
        with keys.held([lost.id]):
            raise RuntimeError("the run fails")

    with pytest.raises(RuntimeError):
        diaries.in_one_transaction(rolled_back)
    assert key_rows(database_url, lost.id) == 0 and lost.id not in keys._cache


def test_keys_held_for_a_run_take_cached_keys_from_the_cache(
    diaries: Diaries, monkeypatch: pytest.MonkeyPatch
) -> None:
    known = diaries.open_and_write("未", "已缓存")  # its key created and cached by the command
    keys = diaries.keys()
    assert known.id in keys._cache
    expiry = keys._cache[known.id][1]
    newcomer = Diary("申")
    wrapped: list[bytes] = []
    encrypt = keys.ring.encrypt

    def counted(plain: bytes, aad: bytes) -> bytes:
        wrapped.append(aad)
        return encrypt(plain, aad)

    monkeypatch.setattr(keys.ring, "encrypt", counted)

    def run() -> None:
        with keys.held([known.id, newcomer.id]):
            assert keys.key_for(known.id, create=False) == keys._cache[known.id][0]
            diaries.save(newcomer)

    diaries.in_one_transaction(run)
    # Only the newcomer's key was made and wrapped; the cached one was neither wrapped anew nor re-cached.
    assert wrapped == [keys._aad(newcomer.id)]
    assert keys._cache[known.id][1] == expiry
    assert diaries.repository.get(newcomer.id).owner == "申"


async def test_a_batch_whose_keys_are_cached_is_warmed_without_a_worker_thread(
    diaries: Diaries, monkeypatch: pytest.MonkeyPatch
) -> None:
    diary = await anyio.to_thread.run_sync(lambda: diaries.open_and_write("子", "已缓存"))
    batch = await anyio.to_thread.run_sync(
        lambda: list(diaries.recorder.select_notifications(start=1, limit=9))
    )
    hops: list[Any] = []
    original = logtail.anyio.to_thread.run_sync

    async def counted(*args: Any) -> Any:
        hops.append(args)
        return await original(*args)

    monkeypatch.setattr(logtail.anyio.to_thread, "run_sync", counted)
    await logtail.warm_keys(diaries, batch)
    assert hops == []  # the command cached the key it created: nothing to fetch, no hop
    diaries.keys()._cache.clear()
    await logtail.warm_keys(diaries, batch)
    assert len(hops) == 1 and diary.id in diaries.keys()._cache  # fetched in a worker thread
