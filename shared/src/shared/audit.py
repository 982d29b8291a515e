"""Tamper evidence for a service's event log: a hash chain written by the database, signed checkpoints, and the
walk that checks both.

The chain is kept by a statement-level trigger on `<name>_events` (see `install`): the recorder inserts under an
exclusive table lock, so the trigger sees the rows of one transaction after those of every earlier one, in
notification-id order. Each chain row commits to the previous one:

    hash = sha256(prev_hash || notification_id || originator_id || version || sha256(topic) || sha256(state))

Topic and state enter by their digests (fixed width, so no two records share an encoding; and a key rotation can
attest "this new ciphertext replaces the one the chain committed to" with the digests alone, see `rekeyed`).
Checkpoints sign (notification id, position, head hash) with the service's Ed25519 key; they are stored here and
published on NATS (`lianxin.audit.<service>.checkpoint`) so that outside parties can keep copies.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from psycopg import sql

CHECKPOINT_SUBJECT = "lianxin.audit.{service}.checkpoint"


def genesis(service: str) -> bytes:
    return hashlib.sha256(f"lianxin-audit:{service}".encode()).digest()


def link_digest(
    prev: bytes,
    notification_id: int,
    originator_id: UUID,
    version: int,
    topic_digest: bytes,
    state_digest: bytes,
) -> bytes:
    return hashlib.sha256(
        prev
        + notification_id.to_bytes(8, "big", signed=True)
        + originator_id.bytes
        + version.to_bytes(8, "big", signed=True)
        + topic_digest
        + state_digest
    ).digest()


def link(
    prev: bytes, notification_id: int, originator_id: UUID, version: int, topic: str, state: bytes
) -> bytes:
    return link_digest(
        prev,
        notification_id,
        originator_id,
        version,
        hashlib.sha256(topic.encode()).digest(),
        hashlib.sha256(state).digest(),
    )


@dataclass(frozen=True)
class Tables:
    """The audit tables beside one application's `<name>_events`."""

    service: str

    @property
    def events(self) -> str:
        return f"{self.service}_events"

    @property
    def chain(self) -> str:
        return f"{self.service}_audit_chain"

    @property
    def checkpoints(self) -> str:
        return f"{self.service}_audit_checkpoints"

    @property
    def rekeyed(self) -> str:
        return f"{self.service}_audit_rekeyed"


def install_statements(service: str, app_role: str | None) -> list[sql.Composed]:
    t = Tables(service)
    ident = sql.Identifier
    steps: list[sql.Composed] = [
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {chain} ("
            " notification_id bigint PRIMARY KEY,"
            " position bigint NOT NULL UNIQUE,"
            " originator_id uuid NOT NULL,"
            " originator_version bigint NOT NULL,"
            " prev_hash bytea NOT NULL,"
            " hash bytea NOT NULL)"
        ).format(chain=ident(t.chain)),
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {cp} ("
            " seq bigserial PRIMARY KEY,"
            " notification_id bigint NOT NULL,"
            " position bigint NOT NULL,"
            " hash bytea NOT NULL,"
            " signed_at timestamptz NOT NULL,"
            " public_key text NOT NULL,"
            " payload text NOT NULL,"
            " signature bytea NOT NULL,"
            " published_at timestamptz)"
        ).format(cp=ident(t.checkpoints)),
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {rk} ("
            " notification_id bigint PRIMARY KEY,"
            " chained_state_hash bytea NOT NULL,"
            " state_hash bytea NOT NULL,"
            " public_key text NOT NULL,"
            " signature bytea NOT NULL)"
        ).format(rk=ident(t.rekeyed)),
        # Runs as the owner (SECURITY DEFINER): the application role may read the chain but never write it.
        sql.SQL(
            "CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER"
            " SET search_path = pg_catalog, public AS $body$"
            " DECLARE head bytea; pos bigint; r record;"
            " BEGIN"
            "  LOCK TABLE {events} IN EXCLUSIVE MODE;"
            "  SELECT c.hash, c.position INTO head, pos FROM {chain} c ORDER BY c.notification_id DESC LIMIT 1;"
            "  IF head IS NULL THEN head := {genesis}; pos := 0; END IF;"
            "  FOR r IN SELECT n.notification_id, n.originator_id, n.originator_version, n.topic, n.state"
            "           FROM new_events n ORDER BY n.notification_id LOOP"
            "    pos := pos + 1;"
            "    INSERT INTO {chain} VALUES (r.notification_id, pos, r.originator_id, r.originator_version, head,"
            "      sha256(head || int8send(r.notification_id) || uuid_send(r.originator_id)"
            "             || int8send(r.originator_version) || sha256(convert_to(coalesce(r.topic, ''), 'UTF8'))"
            "             || sha256(coalesce(r.state, ''::bytea))))"
            "    RETURNING hash INTO head;"
            "  END LOOP;"
            "  RETURN NULL;"
            " END $body$"
        ).format(
            fn=ident(f"{t.chain}_append"),
            events=ident(t.events),
            chain=ident(t.chain),
            genesis=sql.Literal(genesis(service)),
        ),
        sql.SQL("DROP TRIGGER IF EXISTS {trg} ON {events}").format(
            trg=ident(f"{t.chain}_append"), events=ident(t.events)
        ),
        sql.SQL(
            "CREATE TRIGGER {trg} AFTER INSERT ON {events} REFERENCING NEW TABLE AS new_events"
            " FOR EACH STATEMENT EXECUTE FUNCTION {fn}()"
        ).format(trg=ident(f"{t.chain}_append"), events=ident(t.events), fn=ident(f"{t.chain}_append")),
        sql.SQL(
            "CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $body$"
            " BEGIN"
            "  IF NOT pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER')"
            "  THEN RAISE EXCEPTION 'stored events are append-only for %', current_user"
            "       USING ERRCODE = 'insufficient_privilege';"
            "  END IF;"
            "  RETURN NEW;"
            " END $body$"
        ).format(fn=ident(f"{t.events}_guard")),
        sql.SQL("DROP TRIGGER IF EXISTS {trg} ON {events}").format(
            trg=ident(f"{t.events}_guard"), events=ident(t.events)
        ),
        sql.SQL("CREATE TRIGGER {trg} BEFORE UPDATE ON {events} FOR EACH ROW EXECUTE FUNCTION {fn}()").format(
            trg=ident(f"{t.events}_guard"), events=ident(t.events), fn=ident(f"{t.events}_guard")
        ),
    ]
    if app_role:
        role = ident(app_role)
        steps += [
            # The service appends events; it never rewrites or deletes one. Only the owner may (key rotation).
            # UPDATE stays granted because LOCK TABLE ... EXCLUSIVE requires it; the guard trigger refuses it.
            sql.SQL("REVOKE DELETE, TRUNCATE ON {events} FROM {role}").format(
                events=ident(t.events), role=role
            ),
            sql.SQL("REVOKE ALL ON {chain}, {rk} FROM {role}").format(
                chain=ident(t.chain), rk=ident(t.rekeyed), role=role
            ),
            sql.SQL("GRANT SELECT ON {chain}, {rk} TO {role}").format(
                chain=ident(t.chain), rk=ident(t.rekeyed), role=role
            ),
            sql.SQL("REVOKE DELETE, TRUNCATE ON {cp} FROM {role}").format(cp=ident(t.checkpoints), role=role),
            sql.SQL("GRANT SELECT, INSERT, UPDATE ON {cp} TO {role}").format(
                cp=ident(t.checkpoints), role=role
            ),
            sql.SQL("GRANT USAGE ON SEQUENCE {seq} TO {role}").format(
                seq=ident(f"{t.checkpoints}_seq_seq"), role=role
            ),
        ]
    return steps


def install(owner_url: str, service: str, app_role: str | None = None) -> int:
    """Idempotent. Creates the audit tables and the trigger, then chains rows stored before the trigger existed
    (the chain's genesis is then the state of the log at installation). Returns how many rows it chained."""
    t = Tables(service)
    with psycopg.connect(owner_url) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(727200)")
        for statement in install_statements(service, app_role):
            conn.execute(statement)
        conn.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(sql.Identifier(t.events)))
        head = conn.execute(
            sql.SQL(
                "SELECT hash, position, notification_id FROM {} ORDER BY notification_id DESC LIMIT 1"
            ).format(sql.Identifier(t.chain))
        ).fetchone()
        prev, position, after = (head[0], head[1], head[2]) if head else (genesis(service), 0, 0)
        rows = conn.execute(
            sql.SQL(
                "SELECT notification_id, originator_id, originator_version, topic, state"
                " FROM {} WHERE notification_id > %s ORDER BY notification_id"
            ).format(sql.Identifier(t.events)),
            (after,),
        ).fetchall()
        chained = []
        for nid, oid, version, topic, state in rows:
            position += 1
            digest = link(prev, nid, oid, version, topic or "", bytes(state or b""))
            chained.append((nid, position, oid, version, prev, digest))
            prev = digest
        if chained:
            with conn.cursor() as cur:
                cur.executemany(
                    sql.SQL("INSERT INTO {} VALUES (%s, %s, %s, %s, %s, %s)").format(sql.Identifier(t.chain)),
                    chained,
                )
        conn.commit()
    return len(chained)


# ---------------------------------------------------------------------------------------------- signing


def load_signing_key(seed_b64: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(seed_b64))


def public_key_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return base64.b64encode(public.public_bytes_raw()).decode()


def new_signing_key() -> str:
    """A fresh Ed25519 key as base64 of its 32-byte seed (what AUDIT_SIGNING_KEY holds)."""
    return base64.b64encode(Ed25519PrivateKey.generate().private_bytes_raw()).decode()


def checkpoint_payload(
    service: str, notification_id: int, position: int, head: bytes, at: datetime, public_key: str
) -> str:
    """Canonical JSON: what is signed, stored and published, byte for byte."""
    return json.dumps(
        {
            "service": service,
            "notification_id": notification_id,
            "position": position,
            "hash": head.hex(),
            "at": at.isoformat(),
            "key": public_key,
        },
        sort_keys=True,
        separators=(",", ":"),
    )


def checkpoint_message(payload: str, signature: bytes) -> bytes:
    """What goes on NATS: the signed payload as signed, and the signature."""
    return json.dumps({"payload": payload, "signature": base64.b64encode(signature).decode()}).encode()


def rekey_message(service: str, notification_id: int, chained_state_hash: bytes, state_hash: bytes) -> bytes:
    return b"lianxin-rekey:" + f"{service}:{notification_id}:".encode() + chained_state_hash + state_hash


def _verify_signature(public_key: str, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key)).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    notification_id: int
    position: int
    hash: bytes
    signed_at: datetime
    public_key: str
    payload: str
    signature: bytes

    def message(self) -> bytes:
        return checkpoint_message(self.payload, self.signature)

    @classmethod
    def from_message(cls, seq: int, raw: bytes) -> Checkpoint:
        body = json.loads(raw)
        fields = json.loads(body["payload"])
        return cls(
            seq,
            int(fields["notification_id"]),
            int(fields["position"]),
            bytes.fromhex(fields["hash"]),
            datetime.fromisoformat(fields["at"]),
            fields["key"],
            body["payload"],
            base64.b64decode(body["signature"]),
        )

    def well_formed(self, service: str) -> bool:
        """The signed payload says what the columns say (a row edited beside its payload is caught)."""
        try:
            fields = json.loads(self.payload)
            return (
                fields["service"] == service
                and fields["notification_id"] == self.notification_id
                and fields["position"] == self.position
                and fields["hash"] == self.hash.hex()
                and datetime.fromisoformat(fields["at"]) == self.signed_at
                and fields["key"] == self.public_key
            )
        except (ValueError, KeyError, TypeError):
            return False


def write_checkpoint(
    conn: psycopg.Connection[Any],
    service: str,
    key: Ed25519PrivateKey,
    at: datetime,
    *,
    only_if_moved: bool = False,
) -> Checkpoint | None:
    """Sign the chain's head as of now; None when the log is still empty (or, with `only_if_moved`, when the
    last checkpoint already vouches for this head)."""
    t = Tables(service)
    head = conn.execute(
        sql.SQL(
            "SELECT notification_id, position, hash FROM {} ORDER BY notification_id DESC LIMIT 1"
        ).format(sql.Identifier(t.chain))
    ).fetchone()
    if head is None:
        return None
    nid, position, digest = head[0], head[1], bytes(head[2])
    if only_if_moved:
        last = conn.execute(
            sql.SQL("SELECT max(notification_id) FROM {}").format(sql.Identifier(t.checkpoints))
        ).fetchone()
        if last is not None and last[0] == nid:
            return None
    public = public_key_text(key)
    payload = checkpoint_payload(service, nid, position, digest, at, public)
    signature = key.sign(payload.encode())
    row = conn.execute(
        sql.SQL(
            "INSERT INTO {} (notification_id, position, hash, signed_at, public_key, payload,"
            " signature) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING seq"
        ).format(sql.Identifier(t.checkpoints)),
        (nid, position, digest, at, public, payload, signature),
    ).fetchone()
    assert row is not None
    conn.commit()
    return Checkpoint(row[0], nid, position, digest, at, public, payload, signature)


def stored_checkpoints(conn: psycopg.Connection[Any], service: str) -> list[Checkpoint]:
    rows = conn.execute(
        sql.SQL(
            "SELECT seq, notification_id, position, hash, signed_at, public_key, payload,"
            " signature FROM {} ORDER BY seq"
        ).format(sql.Identifier(Tables(service).checkpoints))
    ).fetchall()
    return [Checkpoint(r[0], r[1], r[2], bytes(r[3]), r[4], r[5], r[6], bytes(r[7])) for r in rows]


# ---------------------------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class Finding:
    """The first thing that is wrong, named: kind is changed, removed, inserted, reordered, rewritten, truncated,
    or forged (a checkpoint whose signature or key does not hold)."""

    kind: str
    notification_id: int | None
    detail: str

    def __str__(self) -> str:
        where = f"notification {self.notification_id}" if self.notification_id is not None else "log"
        return f"{self.kind}: {where}: {self.detail}"


@dataclass
class Verification:
    service: str
    events: int = 0
    checkpoints: int = 0
    head_notification_id: int = 0
    head_hash: bytes = b""
    finding: Finding | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.finding is None

    def summary(self) -> str:
        state = "OK" if self.ok else f"TAMPERED: {self.finding}"
        return (
            f"{self.service}: {state} ({self.events} events, {self.checkpoints} checkpoints, head "
            f"{self.head_notification_id} {self.head_hash.hex()[:16]})"
        )


@dataclass(frozen=True)
class Row:
    """One notification id as the events table, the chain table and the rotation attestations have it."""

    notification_id: int
    event: tuple[UUID, int, str, bytes] | None  # originator id, version, topic, state
    chained: tuple[UUID, int, int, bytes, bytes] | None  # originator id, version, position, prev hash, hash
    rekey: tuple[bytes, bytes, str, bytes] | None  # chained state hash, state hash, public key, signature


def _describe(originator_id: UUID, version: int) -> str:
    return f"aggregate {originator_id} v{version}"


class Walk:
    """Checks rows in notification-id order against the chain and against checkpoints; stops at the first
    finding. Checkpoints are those with a valid signature by a trusted key (others are findings themselves)."""

    def __init__(
        self,
        service: str,
        trusted_keys: Iterable[str],
        checkpoints: Iterable[Checkpoint],
        *,
        start: Checkpoint | None = None,
    ) -> None:
        self.service = service
        self.trusted = set(trusted_keys)
        self.result = Verification(service)
        self.head = start.hash if start else genesis(service)
        self.position = start.position if start else 0
        self.last_good: Checkpoint | None = start
        self.pending: list[Checkpoint] = []
        after = start.notification_id if start else 0
        for cp in sorted(checkpoints, key=lambda c: (c.notification_id, c.seq)):
            if self.result.finding is None and not self._authentic(cp):
                return
            if cp.notification_id > after:
                self.pending.append(cp)

    def _authentic(self, cp: Checkpoint) -> bool:
        if cp.public_key not in self.trusted:
            self._find("forged", cp.notification_id, f"checkpoint #{cp.seq} is signed by an untrusted key")
        elif not _verify_signature(cp.public_key, cp.signature, cp.payload.encode()):
            self._find(
                "forged", cp.notification_id, f"checkpoint #{cp.seq} has a signature that does not verify"
            )
        elif not cp.well_formed(self.service):
            self._find(
                "forged", cp.notification_id, f"checkpoint #{cp.seq} was edited beside its signed payload"
            )
        return self.result.finding is None

    def _find(self, kind: str, notification_id: int | None, detail: str) -> None:
        if self.result.finding is None:
            self.result.finding = Finding(kind, notification_id, detail)

    def _settle_checkpoints(self, upto: int, *, inclusive: bool) -> None:
        """Compare the walk's head with every checkpoint at or before `upto`."""
        while self.pending and (
            self.pending[0].notification_id < upto or (inclusive and self.pending[0].notification_id == upto)
        ):
            cp = self.pending.pop(0)
            self.result.checkpoints += 1
            if cp.hash != self.head or cp.position != self.position:
                since = (
                    f"notification {self.last_good.notification_id} (checkpoint #{self.last_good.seq})"
                    if self.last_good
                    else "the start of the log"
                )
                self._find(
                    "rewritten",
                    cp.notification_id,
                    f"checkpoint #{cp.seq} signed at {cp.signed_at.isoformat()} ({cp.position} records) does "
                    f"not match the log ({self.position} records); the log was rewritten after {since}",
                )
                return
            self.last_good = cp

    def feed(self, row: Row) -> bool:
        """Check one row; False once something is found."""
        if self.result.finding is not None:
            return False
        n = row.notification_id
        self._settle_checkpoints(n, inclusive=False)
        if self.result.finding is not None:
            return False
        if row.chained is None:
            assert row.event is not None
            self._find("inserted", n, f"{_describe(*row.event[:2])} is in the log but not in the chain")
            return False
        c_oid, c_version, c_position, c_prev, c_hash = row.chained
        if row.event is None:
            self._find("removed", n, f"{_describe(c_oid, c_version)} is in the chain but gone from the log")
            return False
        oid, version, topic, state = row.event
        if c_prev != self.head or c_position != self.position + 1:
            self._find(
                "removed",
                n,
                f"the chain links {_describe(c_oid, c_version)} to a record that is no longer "
                f"before it (position {c_position}, expected {self.position + 1})",
            )
            return False
        if (oid, version) != (c_oid, c_version):
            self._find(
                "reordered",
                n,
                f"holds {_describe(oid, version)} where the chain recorded {_describe(c_oid, c_version)}",
            )
            return False
        state_digest = hashlib.sha256(state).digest()
        if row.rekey is not None:
            chained_state, current_state, key, signature = row.rekey
            if (
                current_state == state_digest
                and key in self.trusted
                and _verify_signature(
                    key, signature, rekey_message(self.service, n, chained_state, current_state)
                )
            ):
                state_digest = chained_state
        expected = link_digest(
            self.head, n, oid, version, hashlib.sha256(topic.encode()).digest(), state_digest
        )
        if expected != c_hash:
            self._find("changed", n, f"{_describe(oid, version)} differs from what was chained")
            return False
        self.head = c_hash
        self.position = c_position
        self.result.events += 1
        self.result.head_notification_id = n
        self.result.head_hash = c_hash
        self._settle_checkpoints(n, inclusive=True)
        return self.result.finding is None

    def finish(self) -> Verification:
        if self.result.finding is None:
            self._settle_checkpoints(self.result.head_notification_id, inclusive=True)
        if self.result.finding is None and self.pending:
            cp = self.pending[0]
            self._find(
                "truncated",
                cp.notification_id,
                f"checkpoint #{cp.seq} vouches for records up to here, the log ends at "
                f"{self.result.head_notification_id}",
            )
        return self.result


def read_rows(
    conn: psycopg.Connection[Any], service: str, after: int = 0, batch: int = 2000
) -> Iterator[Row]:
    """Events, chain and rotation attestations joined by notification id, in order (a server-side cursor)."""
    t = Tables(service)
    query = sql.SQL(
        "SELECT coalesce(e.notification_id, c.notification_id) AS n,"
        " e.originator_id, e.originator_version, e.topic, e.state,"
        " c.originator_id, c.originator_version, c.position, c.prev_hash, c.hash,"
        " r.chained_state_hash, r.state_hash, r.public_key, r.signature"
        " FROM {events} e FULL JOIN {chain} c ON c.notification_id = e.notification_id"
        " LEFT JOIN {rk} r ON r.notification_id = coalesce(e.notification_id, c.notification_id)"
        " WHERE coalesce(e.notification_id, c.notification_id) > %s ORDER BY 1"
    ).format(events=sql.Identifier(t.events), chain=sql.Identifier(t.chain), rk=sql.Identifier(t.rekeyed))
    with conn.transaction(), conn.cursor(name=f"audit_walk_{service}") as cur:
        cur.itersize = batch
        cur.execute(query, (after,))
        for r in cur:
            yield Row(
                r[0],
                (r[1], r[2], r[3] or "", bytes(r[4] or b"")) if r[1] is not None else None,
                (r[5], r[6], r[7], bytes(r[8]), bytes(r[9])) if r[5] is not None else None,
                (bytes(r[10]), bytes(r[11]), r[12], bytes(r[13])) if r[10] is not None else None,
            )


def verify(
    conn: psycopg.Connection[Any],
    service: str,
    trusted_keys: Iterable[str],
    *,
    extra_checkpoints: Iterable[Checkpoint] = (),
    since: int | datetime | None = None,
) -> Verification:
    """Walk the whole log (or from the last good checkpoint at or before `since`) against chain and checkpoints.

    `extra_checkpoints` are copies kept elsewhere (the NATS stream): a checkpoint deleted from the database
    still counts when a copy survives."""
    trusted = list(trusted_keys)
    checkpoints = {(c.seq, c.payload): c for c in [*stored_checkpoints(conn, service), *extra_checkpoints]}
    ordered = sorted(checkpoints.values(), key=lambda c: (c.notification_id, c.seq))
    start = None
    if since is not None:
        for cp in ordered:
            point = cp.notification_id if isinstance(since, int) else cp.signed_at
            if (
                point <= since  # type: ignore[operator]
                and cp.public_key in trusted
                and _verify_signature(cp.public_key, cp.signature, cp.payload.encode())
                and cp.well_formed(service)
            ):
                start = cp
    walk = Walk(service, trusted, ordered, start=start)
    for row in read_rows(conn, service, after=start.notification_id if start else 0):
        if not walk.feed(row):
            break
    result = walk.finish()
    if start is not None:
        result.notes.append(f"walked from checkpoint #{start.seq} (notification {start.notification_id})")
    if not trusted:
        result.notes.append("no trusted public key given: checkpoints could not be checked")
    return result


def trusted_keys_from(signing_key: str | None, extra: str | None) -> list[str]:
    keys = [k.strip() for k in (extra or "").split(",") if k.strip()]
    if signing_key:
        keys.insert(0, public_key_text(load_signing_key(signing_key)))
    return keys


def describe(results: Mapping[str, Verification]) -> str:
    return "\n".join(r.summary() for r in results.values())
