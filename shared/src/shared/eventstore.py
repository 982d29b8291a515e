"""The eventsourcing Application base each service extends: persistence from settings, tracking, transcodings."""

from __future__ import annotations

import datetime as dt
import enum
import functools
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar, Concatenate, ParamSpec, TypeVar, cast
from urllib.parse import unquote, urlparse
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent, project_aggregate
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    IntegrityError,
    JSONTranscoder,
    OperationalError,
    PersistenceError,
    ProcessRecorder,
    StoredEvent,
    Tracking,
    Transcoding,
)
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import sql
from psycopg.rows import tuple_row

from shared.unitofwork import UnitInterrupted, UnitOfWorkDatastore, unit_datastore

A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")
P = ParamSpec("P")
S = TypeVar("S")
CLASH_ATTEMPTS = 5
# A command in one transaction whose connection failed runs again on a new one, as the library's recorder retries a
# statement (10 attempts, 0.2 s apart): a restarting PostgreSQL is waited for, not reported.
UNIT_ATTEMPTS = 10
UNIT_RETRY_SECONDS = 0.2

__all__ = [
    "DateAsISO",
    "EnumAsValue",
    "IntegrityError",
    "ServiceApplication",
    "Tracking",
    "in_one_transaction",
    "persistence_env",
    "rerun_on_clash",
]


class DateAsISO(Transcoding):
    type = dt.date
    name = "date_iso"

    def encode(self, obj: dt.date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> dt.date:
        return dt.date.fromisoformat(data)


class EnumAsValue(Transcoding):
    """One transcoding per enum class, named by a string that must never change once events are stored."""

    def __init__(self, enum_class: type[enum.Enum], name: str) -> None:
        self.type = enum_class
        self.name = name

    def encode(self, obj: enum.Enum) -> Any:
        return obj.value

    def decode(self, data: Any) -> enum.Enum:
        return self.type(data)


def persistence_env(
    database_url: str, cipher_key: str, *, create_table: bool, pool_size: int = 5, max_overflow: int = 10
) -> dict[str, str]:
    """eventsourcing's environment for PostgreSQL, from a libpq URL."""
    url = urlparse(database_url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": url.path.lstrip("/"),
        "POSTGRES_HOST": url.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": unquote(url.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(url.password or ""),
        "POSTGRES_CONNECT_TIMEOUT": "5",
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_MAX_OVERFLOW": str(max_overflow),
        "POSTGRES_SCHEMA": "public",
        "CREATE_TABLE": "y" if create_table else "n",
        # The library's AES-GCM layout under a key ring, so CIPHER_KEY can be rotated online (shared.keyring).
        "CIPHER_TOPIC": "shared.keyring:KeyRingCipher",
        "CIPHER_KEY": cipher_key,
    }


class SavesFailed(PersistenceError):
    """The insert of a run's held saves failed (`ServiceApplication.holding_saves`): which event's save it was is
    not known, so the run's transaction rolls back as a whole."""


class _HeldSaves:
    """The saves of a consumer's run, held for one insert: their events in order, and the last position."""

    def __init__(self) -> None:
        self.processing: ProcessingEvent[UUID] | None = None
        self.inserts = 0  # inserts made so far, at the block's end or before a read

    def add(self, tracking: Tracking, aggregates: Iterable[Aggregate | None]) -> None:
        if self.processing is None:
            self.processing = ProcessingEvent[UUID](tracking)
        self.processing.tracking = tracking
        processing = self.processing
        for aggregate in aggregates:
            # What `collect_events` does with an aggregate, without its two runtime-protocol `isinstance` checks
            # (most of its time, and every notice of a run comes here); anything else goes through it.
            if isinstance(aggregate, Aggregate):
                processing.events.extend(aggregate.collect_events())
                processing.aggregates[aggregate.id] = aggregate
            else:
                processing.collect_events(aggregate)


def _events_table(recorder: PostgresApplicationRecorder) -> sql.Composed:
    return sql.SQL("{}.{}").format(
        sql.Identifier(recorder.datastore.schema), sql.Identifier(recorder.events_table_name)
    )


def _insert_events_statement(recorder: PostgresApplicationRecorder, placeholder: str) -> sql.Composed:
    # Built as the library builds it, piece for piece: the swap compares the two.
    return sql.SQL(
        "    INSERT INTO {schema}.{table} AS t ("
        "    originator_id, originator_version, topic, state)"
        "    SELECT originator_id, originator_version, topic, state"
        "    FROM unnest(" + placeholder + "::{schema}.{stored_event_type}[])"
    ).format(
        schema=sql.Identifier(recorder.datastore.schema),
        table=sql.Identifier(recorder.events_table_name),
        stored_event_type=sql.Identifier(recorder.stored_event_type_name),
    ) + sql.SQL(" RETURNING notification_id")


def _insert_events_in_binary(recorder: PostgresApplicationRecorder) -> None:
    """The recorder's insert sends its array of stored events in PostgreSQL's binary format: psycopg dumps it in
    Python, and in text every event's state (bytea) is hex-encoded, then quoted and escaped inside its composite
    and again inside the array (most of a save's CPU in the service). The same statement otherwise; left as it
    is when the library's differs from what this expects."""
    if recorder.insert_events_statement == _insert_events_statement(recorder, "%s"):
        recorder.insert_events_statement = _insert_events_statement(recorder, "%b")


class ServiceApplication(Application[UUID]):
    """One per service. Uses the process recorder so consumed messages are tracked in the save's transaction."""

    enums: ClassVar[Mapping[str, type[enum.Enum]]] = {}

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(env)
        self._tracked: dict[str, int] = {}
        self._tracked_lock = threading.Lock()
        self._held = threading.local()  # `holding_saves`: this thread's run's saves, not yet inserted
        datastore = getattr(self.recorder, "datastore", None)
        if isinstance(datastore, PostgresDatastore):
            UnitOfWorkDatastore.install(datastore)
        # Every aggregate read goes through the recorder's select_events: held saves are inserted before one, so
        # a reaction reads what the reactions before it in its run changed (a reminder announced, then closed).
        select_events = self.recorder.select_events

        def flushed_select_events(*args: Any, **kwargs: Any) -> Any:
            self._insert_held()
            return select_events(*args, **kwargs)

        self.recorder.select_events = flushed_select_events  # type: ignore[method-assign]
        if isinstance(self.recorder, PostgresApplicationRecorder):
            _insert_events_in_binary(self.recorder)

    def construct_recorder(self) -> ProcessRecorder:
        return self.factory.process_recorder()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
        for name, enum_class in self.enums.items():
            transcoder.register(EnumAsValue(enum_class, name))

    @property
    def process_recorder(self) -> ProcessRecorder:
        recorder = self.recorder
        assert isinstance(recorder, ProcessRecorder)
        return recorder

    def save_tracked(self, tracking: Tracking, *aggregates: Aggregate | None) -> None:
        """Store the aggregates' new events and the upstream position in one transaction; inside
        `holding_saves`, at its end (or before the next aggregate read) with the others of the run."""
        held: _HeldSaves | None = getattr(self._held, "saves", None)
        if held is not None:
            held.add(tracking, aggregates)
            return
        processing = ProcessingEvent[UUID](tracking)
        processing.collect_events(*aggregates)
        self._record_tracked(processing)

    @contextmanager
    def holding_saves(self) -> Iterator[None]:
        """Inside one transaction (shared.unitofwork), this thread's `save_tracked` calls are held and inserted
        together, in their order, with the last position: one insert (one table lock, one NOTIFY, one tracking
        row) for a consumer's run instead of one per event. They are inserted when the block ends and before any
        aggregate read inside it. An insert that fails raises `SavesFailed` (whichever save was at fault), and the
        block's transaction must roll back as a whole: the caller runs it again without holding saves."""
        if getattr(self._held, "saves", None) is not None:
            yield
            return
        self._held.saves = _HeldSaves()
        try:
            yield
            self._insert_held()
        finally:
            self._held.saves = None

    def held_inserts(self) -> int:
        """How many times `holding_saves` has inserted what it held so far (0 outside it): a consumer's event
        whose savepoint rolls back after its read inserted earlier events' saves takes those with it."""
        held: _HeldSaves | None = getattr(self._held, "saves", None)
        return 0 if held is None else held.inserts

    def _insert_held(self) -> None:
        held: _HeldSaves | None = getattr(self._held, "saves", None)
        if held is None or held.processing is None:
            return
        processing, held.processing = held.processing, None
        held.inserts += 1
        try:
            self._record_tracked(processing)
        except Exception as exc:
            raise SavesFailed(f"the held saves of a run failed: {exc!r}") from exc

    def _record_tracked(self, processing: ProcessingEvent[UUID]) -> None:
        tracking = processing.tracking
        assert tracking is not None
        recordings = self._record(processing)
        # Known as stored only once committed: inside one transaction for the command (shared.unitofwork) a
        # commit that fails must leave the redelivery to be applied, not skipped as a known duplicate.
        noted = functools.partial(self._note_tracked, tracking.application_name, tracking.notification_id)
        datastore = unit_datastore(self)
        if datastore is None:
            noted()
        else:
            datastore.after_commit(noted)
        self._take_snapshots(processing)
        self._notify(recordings)

    def existing(self, aggregate_ids: Iterable[UUID]) -> set[UUID]:
        """Which of these aggregates exist: one query on PostgreSQL, one read each in memory."""
        wanted = list(set(aggregate_ids))
        recorder = self.recorder
        if not wanted:
            return set()
        if not isinstance(recorder, PostgresApplicationRecorder):
            return {aggregate_id for aggregate_id in wanted if aggregate_id in self.repository}
        self._insert_held()
        statement = sql.SQL("SELECT DISTINCT originator_id FROM {} WHERE originator_id = ANY(%s)").format(
            _events_table(recorder)
        )
        with recorder.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
            return {row[0] for row in cur.execute(statement, (wanted,)).fetchall()}

    def find_many(self, cls: type[A], aggregate_ids: Iterable[UUID]) -> dict[UUID, A | None]:
        """`find` of many aggregates, their events read in one query on PostgreSQL (none of the service's
        aggregates is snapshotted: their events are the whole of them)."""
        wanted = list(set(aggregate_ids))
        recorder = self.recorder
        if self.snapshots is not None or not isinstance(recorder, PostgresApplicationRecorder):
            return {aggregate_id: self.find(cls, aggregate_id) for aggregate_id in wanted}
        found: dict[UUID, A | None] = dict.fromkeys(wanted)
        if not wanted:
            return found
        self._insert_held()
        statement = sql.SQL(
            "SELECT originator_id, originator_version, topic, state FROM {} WHERE originator_id = ANY(%s)"
            " ORDER BY originator_id, originator_version"
        ).format(_events_table(recorder))
        with recorder.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
            rows = cur.execute(statement, (wanted,)).fetchall()
        stored: dict[UUID, list[StoredEvent]] = {}
        for originator_id, version, topic, state in rows:
            stored.setdefault(originator_id, []).append(
                StoredEvent(originator_id, version, topic, bytes(state))
            )
        for aggregate_id, events in stored.items():
            aggregate = project_aggregate(None, (self.mapper.to_domain_event(e) for e in events))
            found[aggregate_id] = aggregate if isinstance(aggregate, cls) else None
        return found

    def find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        """The aggregate of that id and class, or None: a missing one and one of another class look alike."""
        try:
            found: object = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, cls) else None

    def retrying(self, command: Callable[[], T], *, attempts: int = CLASH_ATTEMPTS) -> T:
        """The one version-clash policy: a command that lost a race to another writer reloads its aggregates and
        re-checks its rules by running again, a bounded number of times; the last clash goes up (HTTP 409,
        or a redelivery for a consumer). The command must load what it changes, so each run sees the winner."""
        datastore = unit_datastore(self)
        if datastore is not None and datastore.in_unit:
            # Inside one transaction for a whole command (a consumer's reaction): each attempt in a savepoint.
            return self._retrying_in(datastore, command, attempts)
        for _ in range(attempts - 1):
            try:
                return command()
            except IntegrityError:
                continue
        return command()

    @staticmethod
    def _retrying_in(datastore: UnitOfWorkDatastore, command: Callable[[], T], attempts: int) -> T:
        for _ in range(attempts - 1):
            try:
                with datastore.savepoint():
                    return command()
            except IntegrityError:
                continue
        with datastore.savepoint():
            return command()

    def in_one_transaction(self, command: Callable[[], T]) -> T:
        """Run a command's reads, the keys it creates and its save in one transaction (shared.unitofwork): one
        commit instead of one per read. A lost connection runs the command again from the start on a new one; a
        command whose first run committed before its answer was lost then meets its own events (IntegrityError),
        exactly as the library's own retried insert would. On in-memory persistence it simply runs."""
        datastore = unit_datastore(self)
        if datastore is None or datastore.in_unit:
            return command()
        for _ in range(UNIT_ATTEMPTS - 1):
            try:
                with datastore.unit():
                    return command()
            except UnitInterrupted:
                time.sleep(UNIT_RETRY_SECONDS)
        try:
            with datastore.unit():
                return command()
        except UnitInterrupted as exc:
            raise OperationalError(str(exc)) from exc

    def find_in_tenant(self, cls: type[A], aggregate_id: UUID, tenant_id: str) -> A | None:
        """As find, and another tenant's aggregate looks missing too."""
        found = self.find(cls, aggregate_id)
        return found if found is not None and getattr(found, "tenant_id", None) == tenant_id else None

    def already_processed(self, upstream: str, notification_id: int) -> bool:
        processed = self.process_recorder.has_tracking_id(upstream, notification_id)
        if processed:
            self._note_tracked(upstream, notification_id)
        return processed

    def known_tracked(self, upstream: str) -> int:
        """The upstream position this process knows to be stored (read once, then kept from its own saves): a
        lower bound of the stored one, since another instance may have moved it on."""
        known = self._tracked.get(upstream)
        if known is None:
            known = self.process_recorder.max_tracking_id(upstream) or 0
            self._note_tracked(upstream, known)
        return known

    def _note_tracked(self, upstream: str, notification_id: int) -> None:
        with self._tracked_lock:
            self._tracked[upstream] = max(self._tracked.get(upstream, 0), notification_id)


def rerun_on_clash(method: Callable[Concatenate[S, P], T]) -> Callable[Concatenate[S, P], T]:
    """A use case that loads, changes and saves, run under `ServiceApplication.retrying`."""

    @functools.wraps(method)
    def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        # `self` is the service's application; use-case mixins are typed as themselves.
        app = cast(ServiceApplication, self)
        return app.retrying(lambda: method(self, *args, **kwargs))

    return wrapper


def in_one_transaction(method: Callable[Concatenate[S, P], T]) -> Callable[Concatenate[S, P], T]:
    """A use case whose reads and save commit together (`ServiceApplication.in_one_transaction`)."""

    @functools.wraps(method)
    def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        app = cast(ServiceApplication, self)
        return app.in_one_transaction(lambda: method(self, *args, **kwargs))

    return wrapper
