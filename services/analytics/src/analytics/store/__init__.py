"""The analytics store: one DuckDB file; landing writes the raw row, its facts and the position in one transaction."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
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
                result = Landed()
                for one in batch:
                    try:
                        single = self._land([one])
                    except Exception as exc:
                        single = self._park_alone(one, f"could not be landed: {exc}")
                    result.landed += single.landed
                    result.duplicates += single.duplicates
                    result.parked += single.parked
                return result

    def _land(self, batch: Sequence[Incoming]) -> Landed:
        w = self._writer
        result = Landed()
        w.execute("BEGIN TRANSACTION")
        try:
            tracked = self._tracked(batch)
            rows: dict[str, tuple[Any, ...]] = {}
            tracking: list[tuple[str, int, str | None]] = []
            parked: list[tuple[str, int, str, str]] = []
            for message in batch:
                key = (message.stream, message.stream_seq)
                if key in tracked:
                    result.duplicates += 1
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
                    result.parked.append((message.stream_seq, reason))
                    continue
                tracking.append((message.stream, message.stream_seq, event.id))
                if event.id in rows:
                    result.duplicates += 1
                else:
                    rows[event.id] = _row(event)
            if rows:
                existing = {
                    r[0]
                    for r in w.execute(
                        f"SELECT id FROM events WHERE id IN ({', '.join('?' * len(rows))})", list(rows)
                    ).fetchall()
                }
                for event_id in existing:
                    del rows[event_id]
                result.duplicates += len(existing)
            if tracking:
                _insert(w, "tracking", 3, tracking)
            if parked:
                _insert(w, "parked", 4, parked)
            if rows:
                w.execute("DELETE FROM staged")
                _insert(w, "staged", len(EVENT_COLUMNS), list(rows.values()))
                w.execute("INSERT INTO events SELECT * FROM staged")
                types = {r[1] for r in rows.values()}
                for table, select in FACTS.items():
                    if feeds(table, types):
                        w.execute(f"INSERT INTO {table} {select}")
            w.execute("COMMIT")
        except BaseException:
            w.execute("ROLLBACK")
            raise
        result.landed = len(rows)
        return result

    def _tracked(self, batch: Sequence[Incoming]) -> set[tuple[str, int]]:
        keys = [(m.stream, m.stream_seq) for m in batch]
        placeholders = ", ".join("(?, ?)" for _ in keys)
        found = self._writer.execute(
            f"SELECT stream, stream_seq FROM tracking WHERE (stream, stream_seq) IN ({placeholders})",
            [v for key in keys for v in key],
        ).fetchall()
        return {(s, int(q)) for s, q in found}

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
        return Landed(parked=[(message.stream_seq, reason)])

    # ---- positions and digests ----------------------------------------------------------------------------------

    def positions(self) -> dict[str, int]:
        with self.reader() as r:
            return {
                s: int(q)
                for s, q in r.execute(
                    "SELECT stream, max(stream_seq) FROM tracking GROUP BY stream"
                ).fetchall()
            }

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
    cursor: duckdb.DuckDBPyConnection, table: str, width: int, rows: Sequence[tuple[Any, ...]]
) -> None:
    """Multi-row VALUES in chunks: far faster in DuckDB than executemany's row-at-a-time statements."""
    chunk = max(1, 2000 // width)
    row = "(" + ", ".join("?" * width) + ")"
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        cursor.execute(
            f"INSERT INTO {table} VALUES {', '.join([row] * len(part))}", [v for r in part for v in r]
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
