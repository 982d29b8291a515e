"""Re-encryption under the first key of CIPHER_KEY's ring, in the background, resumable, with progress.

Phases per service database, each a keyset walk in primary-key order, one transaction per batch that updates
the rows and the phase's position in `key_rotation` together (so a SIGKILL loses at most the batch in flight,
and the next run resumes after the last committed one):

- `events`: `<name>_events.state`. The hash chain committed to the old ciphertext, so every re-encrypted event
  gets a rotation attestation in `<name>_audit_rekeyed`: (chained state digest, new state digest) signed with the
  service's audit key; the verifier accepts the new ciphertext only under such a signature. The log is verified
  before the phase starts: a rotation never launders a tampered record.
- `snapshots`: `<name>_snapshots.state` (derived data, no chain).
- `subject_keys`: the per-person keys of crypto-shredding, re-wrapped (the keys themselves do not change).
- `sealed:<table>.<column>`: read-model columns ending in `_sealed` (FieldCipher; the associated data is the
  column's stem, e.g. `name` for `name_sealed`).

Rows the first key already opens are skipped, so a run over fresh data, or a second run, changes nothing.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from psycopg import sql

from shared import audit
from shared.fieldcrypt import FieldCipher
from shared.keyring import KeyRing, key_id

PROGRESS_TABLE = """
CREATE TABLE IF NOT EXISTS key_rotation (
    target text NOT NULL,
    phase text NOT NULL,
    position text,
    rows_seen bigint NOT NULL DEFAULT 0,
    rows_changed bigint NOT NULL DEFAULT 0,
    rows_total bigint NOT NULL DEFAULT 0,
    done_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (target, phase)
)
"""

Progress = Callable[[str, int, int, int], None]  # phase, seen, changed, total


class RotationRefused(Exception):
    pass


@dataclass
class Phase:
    name: str
    table: str
    key_columns: list[str]
    column: str
    kind: str  # "events", "state" (bytea under the key ring), "subject_key" (the same, bound to the subject)
    # or "sealed" (FieldCipher text)


def phases(conn: psycopg.Connection[Any], service: str) -> list[Phase]:
    found = [Phase("events", f"{service}_events", ["notification_id"], "state", "events")]
    if _exists(conn, f"{service}_snapshots"):
        found.append(
            Phase(
                "snapshots", f"{service}_snapshots", ["originator_id", "originator_version"], "state", "state"
            )
        )
    if _exists(conn, "subject_keys"):
        found.append(Phase("subject_keys", "subject_keys", ["subject_id"], "wrapped_key", "subject_key"))
    rows = conn.execute(
        "SELECT c.table_name, c.column_name FROM information_schema.columns c"
        " WHERE c.table_schema = 'public' AND c.column_name LIKE '%%\\_sealed' AND c.data_type = 'text'"
        " ORDER BY 1, 2"
    ).fetchall()
    for table, column in rows:
        keys = _primary_key(conn, table)
        if keys:
            found.append(Phase(f"sealed:{table}.{column}", table, keys, column, "sealed"))
    return found


def _exists(conn: psycopg.Connection[Any], table: str) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"public.{table}",)).fetchone() == (True,)


def _primary_key(conn: psycopg.Connection[Any], table: str) -> list[str]:
    rows = conn.execute(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
        " AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary"
        " ORDER BY array_position(i.indkey, a.attnum)",
        (f"public.{table}",),
    ).fetchall()
    return [r[0] for r in rows]


class Rotation:
    def __init__(
        self,
        *,
        service: str,
        owner_url: str,
        cipher_key: str,
        signing_key: str | None,
        batch: int = 500,
        pause: float = 0.0,
        progress: Progress | None = None,
    ) -> None:
        self.service = service
        self.owner_url = owner_url
        self.ring = KeyRing.from_text(cipher_key)
        self.fields = FieldCipher(cipher_key)
        self.signing: Ed25519PrivateKey | None = audit.load_signing_key(signing_key) if signing_key else None
        self.batch = batch
        self.pause = pause
        self.progress = progress or (lambda *_: None)
        self.target = key_id(self.ring.current)

    def run(self) -> dict[str, tuple[int, int]]:
        """Every phase to the end; returns (rows seen, rows changed) per phase, counted over all runs."""
        with psycopg.connect(self.owner_url) as conn:
            conn.execute(PROGRESS_TABLE)
            conn.commit()
            todo = phases(conn, self.service)
            if self._pending(conn, "events"):
                self._check_log(conn)
            result = {}
            for phase in todo:
                result[phase.name] = self._run_phase(conn, phase)
        return result

    def _pending(self, conn: psycopg.Connection[Any], phase: str) -> bool:
        row = conn.execute(
            "SELECT done_at FROM key_rotation WHERE target = %s AND phase = %s", (self.target, phase)
        ).fetchone()
        return row is None or row[0] is None

    def _check_log(self, conn: psycopg.Connection[Any]) -> None:
        if self.signing is None:
            raise RotationRefused("AUDIT_SIGNING_KEY is needed: re-encrypted events must be attested")
        result = audit.verify(conn, self.service, [audit.public_key_text(self.signing)])
        conn.commit()
        if not result.ok:
            raise RotationRefused(
                f"the event log does not verify, so it is not re-encrypted: {result.finding}"
            )

    def _run_phase(self, conn: psycopg.Connection[Any], phase: Phase) -> tuple[int, int]:
        table, column = sql.Identifier(phase.table), sql.Identifier(phase.column)
        keys = sql.SQL(", ").join(sql.Identifier(k) for k in phase.key_columns)
        with conn.transaction():
            total = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table)).fetchone()
            conn.execute(
                "INSERT INTO key_rotation (target, phase, rows_total) VALUES (%s, %s, %s)"
                " ON CONFLICT (target, phase) DO UPDATE SET rows_total = EXCLUDED.rows_total",
                (self.target, phase.name, total[0] if total else 0),
            )
        while True:
            with conn.transaction():
                state = conn.execute(
                    "SELECT position, rows_seen, rows_changed, rows_total, done_at"
                    " FROM key_rotation WHERE target = %s AND phase = %s FOR UPDATE",
                    (self.target, phase.name),
                ).fetchone()
                assert state is not None
                position, seen, changed, total_rows, done_at = state
                if done_at is not None:
                    return seen, changed
                after: sql.Composable = sql.SQL("")
                params: list[Any] = []
                if position is not None:
                    after = sql.SQL(" WHERE ({}) > ({})").format(
                        keys, sql.SQL(", ").join(sql.Placeholder() for _ in phase.key_columns)
                    )
                    params = _decode_position(position)
                rows = conn.execute(
                    sql.SQL(
                        "SELECT {keys}, {column} FROM {table}{after} ORDER BY {keys} LIMIT %s FOR UPDATE"
                    ).format(keys=keys, column=column, table=table, after=after),
                    [*params, self.batch],
                ).fetchall()
                if not rows:
                    conn.execute(
                        "UPDATE key_rotation SET done_at = now(), updated_at = now()"
                        " WHERE target = %s AND phase = %s",
                        (self.target, phase.name),
                    )
                    self.progress(phase.name, seen, changed, total_rows)
                    return seen, changed
                width = len(phase.key_columns)
                for row in rows:
                    try:
                        changed += self._rotate_row(conn, phase, row[:width], row[width])
                    except (ValueError, InvalidTag) as exc:
                        raise RotationRefused(
                            f"{phase.name}: the row {row[:width]} opens with no key of the "
                            f"ring ({exc}); nothing of this batch was changed"
                        ) from exc
                seen += len(rows)
                conn.execute(
                    "UPDATE key_rotation SET position = %s, rows_seen = %s, rows_changed = %s,"
                    " updated_at = now() WHERE target = %s AND phase = %s",
                    (_encode_position(rows[-1][:width]), seen, changed, self.target, phase.name),
                )
            self.progress(phase.name, seen, changed, total_rows)
            if self.pause:
                time.sleep(self.pause)

    def _rotate_row(
        self, conn: psycopg.Connection[Any], phase: Phase, key: tuple[Any, ...], value: Any
    ) -> int:
        if value is None:
            return 0
        if phase.kind == "sealed":
            context = phase.column.removesuffix("_sealed")
            plain, index = self.fields.open_with_index(value, context)
            if index == 0:
                return 0
            new_value: Any = self.fields.seal(plain, context)
        else:
            old = bytes(value)
            # A subject's key is wrapped with its id as associated data (shared.shredding).
            aad = b"subject-key:" + key[0].bytes if phase.kind == "subject_key" else None
            plaintext, index = self.ring.decrypt_with_index(old, aad)
            if index == 0:
                return 0
            new_value = self.ring.encrypt(plaintext, aad)
            if phase.kind == "events":
                self._attest(conn, key[0], old, new_value)
        where = sql.SQL(" AND ").join(sql.SQL("{} = %s").format(sql.Identifier(k)) for k in phase.key_columns)
        conn.execute(
            sql.SQL("UPDATE {} SET {} = %s WHERE {}").format(
                sql.Identifier(phase.table), sql.Identifier(phase.column), where
            ),
            [new_value, *key],
        )
        return 1

    def _attest(self, conn: psycopg.Connection[Any], notification_id: int, old: bytes, new: bytes) -> None:
        assert self.signing is not None
        table = sql.Identifier(audit.Tables(self.service).rekeyed)
        earlier = conn.execute(
            sql.SQL("SELECT chained_state_hash FROM {} WHERE notification_id = %s").format(table),
            (notification_id,),
        ).fetchone()
        chained = bytes(earlier[0]) if earlier else hashlib.sha256(old).digest()
        current = hashlib.sha256(new).digest()
        signature = self.signing.sign(audit.rekey_message(self.service, notification_id, chained, current))
        conn.execute(
            sql.SQL(
                "INSERT INTO {} VALUES (%s, %s, %s, %s, %s) ON CONFLICT (notification_id) DO UPDATE"
                " SET state_hash = EXCLUDED.state_hash, public_key = EXCLUDED.public_key,"
                " signature = EXCLUDED.signature"
            ).format(table),
            (notification_id, chained, current, audit.public_key_text(self.signing), signature),
        )


def _encode_position(key: tuple[Any, ...]) -> str:
    return "\x1f".join(base64.b64encode(str(part).encode()).decode() for part in key)


def _decode_position(text: str) -> list[str]:
    return [base64.b64decode(part).decode() for part in text.split("\x1f")]


def status(owner_url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(owner_url) as conn:
        if not _exists(conn, "key_rotation"):
            return []
        return conn.execute(
            "SELECT target, phase, rows_seen, rows_changed, rows_total, done_at FROM key_rotation"
            " ORDER BY updated_at"
        ).fetchall()
