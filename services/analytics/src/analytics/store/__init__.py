"""The analytics store: one DuckDB file; landing writes the raw row, its facts and the position in one transaction.

One process writes a file (DuckDB's file lock, see analytics.standby), so the store keeps in memory, per stream,
the highest position tracked in it: a message above it cannot be tracked yet, and only the rest (redeliveries)
are looked up. The facts' INSERT ... SELECT statements are prepared once per writer, not planned per batch.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

import duckdb
from pydantic import ValidationError

from analytics.store.schema import FACT_TABLES, FACTS, TABLES, ddl, feeds, replaced_tables
from shared.envelope import CloudEvent

EVENT_COLUMNS = ("id", "type", "source", "subject", "tenant", "time", "sequence", "data")
# The types of the columns landing writes, in table order (the JSON column is written as its text).
EVENT_TYPES = ("VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "TIMESTAMP", "BIGINT", "VARCHAR")
TRACKING_TYPES = ("VARCHAR", "BIGINT", "VARCHAR")
PARKED_TYPES = ("VARCHAR", "BIGINT", "VARCHAR", "VARCHAR")


@dataclass(frozen=True)
class Incoming:
    """One message as JetStream delivered it: its stream position and its bytes."""

    stream: str
    stream_seq: int
    payload: bytes


@dataclass
class Landed:
    landed: int = 0  # new events written
    duplicates: int = 0  # already tracked (a redelivery) or an event id already landed (a re-publish)
    parked: list[tuple[int, str]] = field(default_factory=list)  # (stream_seq, reason)
    # the same counts, per stream (a batch may mix them)
    streams: dict[str, Landed] = field(default_factory=dict)

    def add(
        self, stream: str, *, landed: int = 0, duplicates: int = 0, parked: tuple[int, str] | None = None
    ) -> None:
        """Counts messages of `stream`, in the totals and in that stream's part."""
        for part in (self, self.streams.setdefault(stream, Landed())):
            part.landed += landed
            part.duplicates += duplicates
            if parked is not None:
                part.parked.append(parked)

    def merge(self, other: Landed) -> None:
        for stream, part in other.streams.items():
            self.add(stream, landed=part.landed, duplicates=part.duplicates)
            for one in part.parked:
                self.add(stream, parked=one)


def _row(event: CloudEvent) -> tuple[Any, ...]:
    at = event.time.astimezone(UTC).replace(tzinfo=None) if event.time.tzinfo else event.time
    sequence = int(event.sequence) if event.sequence.isdigit() else None
    return (
        event.id,
        event.type,
        event.source,
        event.subject,
        event.tenantid,
        at,
        sequence,
        json.dumps(event.data, ensure_ascii=False, sort_keys=True),
    )


def connect(path: Path | None, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection that never reaches for the network (no extension autoload) and reads time in UTC."""
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    config: dict[str, str | bool | int | float | list[str]] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }
    con = duckdb.connect(str(path) if path is not None else ":memory:", read_only=read_only, config=config)
    con.execute("SET TimeZone = 'UTC'")
    return con


class AnalyticsStore:
    """Thread-safe: one writer at a time (landing), readers on their own cursors (statistics)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.con = connect(path)
        for drop in replaced_tables(self.con):
            self.con.execute(drop)
        self.con.execute(ddl())
        self._write_lock = threading.Lock()
        self._writer = self.con.cursor()
        self._writer.execute("SET TimeZone = 'UTC'")
        self._writer.execute("CREATE TEMP TABLE staged AS SELECT * FROM events WITH NO DATA")
        self._prepared: dict[str, str] = {}  # SQL -> the name it is prepared under on the writer
        self._tracked_to = self._positions(self._writer)  # per stream: no position above it is tracked

    def close(self) -> None:
        self._writer.close()
        self.con.close()

    @contextmanager
    def reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        cursor = self.con.cursor()
        try:
            cursor.execute("SET TimeZone = 'UTC'")
            yield cursor
        finally:
            cursor.close()

    # ---- landing ------------------------------------------------------------------------------------------------

    def land(self, batch: Sequence[Incoming]) -> Landed:
        """Exactly once: a position already tracked is skipped; the rest commit with their position, or none do.

        If the batch cannot commit (one message breaks a fact's SELECT), each message is landed alone and the one
        that fails is parked with the reason, so a poison message never stops the stream for everyone.
        """
        if not batch:
            return Landed()
        with self._write_lock:
            try:
                return self._land(batch)
            except Exception:
                self._tracked_to = self._positions(self._writer)  # what the rolled-back batch left stored
                result = Landed()
                for one in batch:
                    try:
                        single = self._land([one])
                    except Exception as exc:
                        single = self._park_alone(one, f"could not be landed: {exc}")
                    result.merge(single)
                return result

    def _land(self, batch: Sequence[Incoming]) -> Landed:
        w = self._writer
        result = Landed()
        w.execute("BEGIN TRANSACTION")
        try:
            tracked = self._tracked(batch)
            rows: dict[str, tuple[Any, ...]] = {}
            origin: dict[str, str] = {}  # event id -> the stream it came from
            tracking: list[tuple[str, int, str | None]] = []
            parked: list[tuple[str, int, str, str]] = []
            for message in batch:
                key = (message.stream, message.stream_seq)
                if key in tracked:
                    result.add(message.stream, duplicates=1)
                    continue
                tracked.add(key)
                try:
                    event = CloudEvent.from_bytes(message.payload)
                except (ValueError, ValidationError) as exc:
                    reason = f"malformed CloudEvent: {exc}"[:1000]
                    parked.append(
                        (
                            message.stream,
                            message.stream_seq,
                            reason,
                            message.payload.decode("utf-8", errors="replace"),
                        )
                    )
                    tracking.append((message.stream, message.stream_seq, None))
                    result.add(message.stream, parked=(message.stream_seq, reason))
                    continue
                tracking.append((message.stream, message.stream_seq, event.id))
                if event.id in rows:
                    result.add(message.stream, duplicates=1)
                else:
                    rows[event.id] = _row(event)
                    origin[event.id] = message.stream
            if rows:
                existing = {
                    r[0]
                    for r in w.execute(
                        f"SELECT id FROM events WHERE id IN ({', '.join('?' * len(rows))})", list(rows)
                    ).fetchall()
                }
                for event_id in existing:
                    del rows[event_id]
                    result.add(origin[event_id], duplicates=1)
            if tracking:
                _insert(w, "tracking", TRACKING_TYPES, tracking)
            if parked:
                _insert(w, "parked", PARKED_TYPES, parked)
            if rows:
                w.execute(self._prepare("DELETE FROM staged"))
                _insert(w, "staged", EVENT_TYPES, list(rows.values()))
                w.execute(self._prepare("INSERT INTO events SELECT * FROM staged"))
                types = {r[1] for r in rows.values()}
                for table, select in FACTS.items():
                    if feeds(table, types):
                        w.execute(self._prepare(f"INSERT INTO {table} {select}"))
            w.execute("COMMIT")
        except BaseException:
            w.execute("ROLLBACK")
            raise
        self._note_tracked((stream, seq) for stream, seq, _ in tracking)
        for event_id in rows:
            result.add(origin[event_id], landed=1)
        return result

    def _tracked(self, batch: Sequence[Incoming]) -> set[tuple[str, int]]:
        """The batch's positions already tracked. Only positions at or below the stream's highest tracked one can
        be: those are looked up per stream over their range (the stream_seq column's zone maps skip the rest of
        the table; a lookup by (stream, stream_seq) pairs scanned all of it)."""
        below: dict[str, set[int]] = {}
        for m in batch:
            if m.stream_seq <= self._tracked_to.get(m.stream, 0):
                below.setdefault(m.stream, set()).add(m.stream_seq)
        found: set[tuple[str, int]] = set()
        for stream, seqs in below.items():
            rows = self._writer.execute(
                "SELECT stream_seq FROM tracking WHERE stream = ? AND stream_seq BETWEEN ? AND ?",
                [stream, min(seqs), max(seqs)],
            ).fetchall()
            found.update((stream, int(q)) for (q,) in rows if int(q) in seqs)
        return found

    def _note_tracked(self, positions: Iterable[tuple[str, int]]) -> None:
        """After a commit: the positions it tracked raise their stream's highest tracked position."""
        for stream, seq in positions:
            if seq > self._tracked_to.get(stream, 0):
                self._tracked_to[stream] = seq

    def _prepare(self, sql: str) -> str:
        """`EXECUTE` of `sql` prepared on the writer: parsed, bound and planned once, not on every batch."""
        name = self._prepared.get(sql)
        if name is None:
            name = f"landing_{len(self._prepared)}"
            self._writer.execute(f"PREPARE {name} AS {sql}")
            self._prepared[sql] = name
        return f"EXECUTE {name}"

    @staticmethod
    def _positions(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
        return {
            s: int(q)
            for s, q in con.execute("SELECT stream, max(stream_seq) FROM tracking GROUP BY stream").fetchall()
        }

    def _park_alone(self, message: Incoming, reason: str) -> Landed:
        w = self._writer
        w.execute("BEGIN TRANSACTION")
        try:
            w.execute(
                "INSERT INTO tracking VALUES (?, ?, NULL) ON CONFLICT DO NOTHING",
                [message.stream, message.stream_seq],
            )
            w.execute(
                "INSERT INTO parked VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [
                    message.stream,
                    message.stream_seq,
                    reason[:1000],
                    message.payload.decode("utf-8", errors="replace"),
                ],
            )
            w.execute("COMMIT")
        except BaseException:
            w.execute("ROLLBACK")
            raise
        self._note_tracked([(message.stream, message.stream_seq)])
        result = Landed()
        result.add(message.stream, parked=(message.stream_seq, reason))
        return result

    # ---- positions and digests ----------------------------------------------------------------------------------

    def positions(self) -> dict[str, int]:
        with self.reader() as r:
            return self._positions(r)

    def digest(self) -> dict[str, dict[str, Any]]:
        with self.reader() as r:
            return table_digest(r)

    def parked_messages(self, limit: int = 100) -> list[dict[str, Any]]:
        with self.reader() as r:
            rows = r.execute(
                "SELECT stream, stream_seq, reason FROM parked ORDER BY stream, stream_seq LIMIT ?", [limit]
            ).fetchall()
        return [{"stream": s, "stream_seq": int(q), "reason": why} for s, q, why in rows]


def _insert(
    cursor: duckdb.DuckDBPyConnection, table: str, types: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """All rows in one statement of one list parameter per column, unnested side by side: DuckDB binds a list
    in one go, where a multi-row VALUES is parsed and bound placeholder by placeholder (five times the CPU at
    256 rows) and executemany runs a statement per row."""
    columns = ", ".join(f"unnest(?::{kind}[])" for kind in types)
    cursor.execute(
        f"INSERT INTO {table} SELECT {columns}", [list(column) for column in zip(*rows, strict=True)]
    )


def table_digest(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    """Per table: its row count and an MD5 of its rows in a fixed order; two stores with equal digests hold the
    same rows."""
    result: dict[str, dict[str, Any]] = {}
    for table in TABLES:
        count, md5 = con.execute(
            f"SELECT count(*), md5(coalesce(string_agg(r, chr(10) ORDER BY r), '')) "
            f"FROM (SELECT CAST({table} AS VARCHAR) AS r FROM {table})"
        ).fetchone() or (0, "")
        result[table] = {"rows": int(count), "md5": md5}
    return result


__all__ = ["FACT_TABLES", "TABLES", "AnalyticsStore", "Incoming", "Landed", "connect", "table_digest"]
