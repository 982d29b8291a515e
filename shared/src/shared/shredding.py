"""Crypto-shredding: personal fields in events encrypted with a key per data subject, so erasing a person is
destroying one key, and the events (and their place in the hash chain) stay.

A `ShreddingMapper` seals the chosen fields of an event's state before the library encodes, compresses and
encrypts it (under CIPHER_KEY as usual), and opens them after decoding. A sealed field is stored as
`{"$sealed": <base64 nonce+ciphertext>}`; once the subject's key is destroyed it reads back as None, everywhere:
the aggregate, the relay, projections rebuilt from the log. `LogTail` warms the key cache per batch.

Subject keys are 32 random bytes, kept in `subject_keys` wrapped (AES-GCM) under the service's CIPHER_KEY ring,
so `lianxin keys rotate` re-wraps them with the rest. Erasure deletes the wrapped key and keeps a tombstone row
(who, basis, when): the decision itself is also an event of the subject's aggregate.
"""

from __future__ import annotations

import base64
import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

import psycopg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.application import Application
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic
from psycopg import sql
from psycopg.rows import tuple_row

from shared.keyring import KeyRing

SEALED = "$sealed"
SUBJECT_KEYS_DDL = """
CREATE TABLE IF NOT EXISTS subject_keys (
    subject_id uuid PRIMARY KEY,
    wrapped_key bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    erased_at timestamptz,
    erased_by text,
    basis text,
    CHECK ((wrapped_key IS NULL) = (erased_at IS NOT NULL))
)
"""


def install(owner_url: str, app_role: str | None) -> None:
    """Idempotent: the key table. The application role reads, creates and erases keys, never truncates."""
    with psycopg.connect(owner_url) as conn:
        conn.execute(SUBJECT_KEYS_DDL)
        if app_role:
            conn.execute(sql.SQL("REVOKE TRUNCATE ON subject_keys FROM {}").format(sql.Identifier(app_role)))
            conn.execute(
                sql.SQL("GRANT SELECT, INSERT, UPDATE ON subject_keys TO {}").format(sql.Identifier(app_role))
            )
        conn.commit()


class Erased(Exception):
    """The subject's key was destroyed."""


class KeyStore(Protocol):
    def key_for(self, subject: UUID, *, create: bool) -> bytes | None: ...

    def prefetch(self, subjects: Iterable[UUID]) -> None: ...

    def held(self, subjects: Iterable[UUID]) -> contextlib.AbstractContextManager[None]: ...

    def uncached(self, subjects: Iterable[UUID]) -> list[UUID]: ...

    def erase(self, subject: UUID, *, by: str, basis: str, at: datetime) -> bool: ...


class MemoryKeyStore:
    """For applications on in-memory persistence (unit tests)."""

    def __init__(self) -> None:
        self.keys: dict[UUID, bytes | None] = {}
        self._lock = threading.Lock()

    def key_for(self, subject: UUID, *, create: bool) -> bytes | None:
        with self._lock:
            if subject not in self.keys and create:
                self.keys[subject] = os.urandom(32)
            key = self.keys.get(subject)
        if subject in self.keys and key is None:
            raise Erased(str(subject))
        return key

    def prefetch(self, subjects: Iterable[UUID]) -> None:
        return None

    @contextmanager
    def held(self, subjects: Iterable[UUID]) -> Iterator[None]:
        yield

    def uncached(self, subjects: Iterable[UUID]) -> list[UUID]:
        return []

    def erase(self, subject: UUID, *, by: str, basis: str, at: datetime) -> bool:
        with self._lock:
            existed = self.keys.get(subject) is not None
            self.keys[subject] = None
        return existed


class PostgresKeyStore:
    """Keys in `subject_keys`, wrapped under the CIPHER_KEY ring.

    Unwrapped keys are cached for `ttl` seconds (time.monotonic), so a relay or projection batch costs one query
    (`prefetch`) rather than one per event. An erasure evicts the key here at once; another process of the same
    service may still open that subject's fields until its cached copy expires (at most `ttl`).

    Inside one transaction for a whole command (shared.unitofwork) a key is cached only once that transaction has
    committed (`after_commit`): a key created in one that rolled back exists nowhere, and a cached copy of it would
    seal a retry's events with a key never stored."""

    def __init__(
        self,
        connect: Callable[[], Any],
        cipher_key: str,
        *,
        ttl: float = 5.0,
        after_commit: Callable[[Callable[[], None]], None] | None = None,
    ) -> None:
        self.connect = connect
        self.ring = KeyRing.from_text(cipher_key)
        self.ttl = ttl
        self.after_commit = after_commit or (lambda callback: callback())
        self._cache: dict[UUID, tuple[bytes, float]] = {}
        self._lock = threading.Lock()
        self._held = threading.local()  # `held`: this thread's keys for the transaction it has open

    def _aad(self, subject: UUID) -> bytes:
        return b"subject-key:" + subject.bytes

    def _cached(self, subject: UUID) -> bytes | None:
        with self._lock:
            hit = self._cache.get(subject)
            if hit is None or hit[1] < time.monotonic():
                self._cache.pop(subject, None)
                return None
            return hit[0]

    def _remember(self, subject: UUID, key: bytes) -> None:
        with self._lock:
            if len(self._cache) > 50_000:
                self._cache.clear()
            self._cache[subject] = (key, time.monotonic() + self.ttl)

    def uncached(self, subjects: Iterable[UUID]) -> list[UUID]:
        """The subjects whose keys `prefetch` would query (no I/O: safe on the event loop)."""
        return [s for s in set(subjects) if self._cached(s) is None]

    def prefetch(self, subjects: Iterable[UUID]) -> None:
        """Load the keys of many subjects in one query (erased and unknown ones are simply not cached)."""
        wanted = self.uncached(subjects)
        if not wanted:
            return
        with self.connect() as conn, conn.cursor(row_factory=tuple_row) as cur:
            rows = cur.execute(
                "SELECT subject_id, wrapped_key FROM subject_keys WHERE subject_id = ANY(%s)"
                " AND erased_at IS NULL",
                (wanted,),
            ).fetchall()
        opened = [
            (subject, self.ring.decrypt(bytes(wrapped), self._aad(subject))) for subject, wrapped in rows
        ]

        def remember() -> None:
            for subject, key in opened:
                self._remember(subject, key)

        self.after_commit(remember)

    @contextmanager
    def held(self, subjects: Iterable[UUID]) -> Iterator[None]:
        """Inside one transaction (shared.unitofwork), the keys of these subjects, created where missing, in one
        statement, and handed to this thread's `key_for` until the block ends: a consumer's run seals each event's
        fields without a round trip per subject. The keys it created roll back with the transaction, so the block
        must end before it does (they reach the shared cache only after the commit). An erased subject is left
        out: `key_for` finds its tombstone as before. A subject whose key is cached is taken from the cache, as
        `key_for` would (no new key wrapped for it, no row asked for, its expiry left as it was)."""
        wanted: list[UUID] = []
        cached: dict[UUID, bytes] = {}
        for subject in sorted(set(subjects)):
            key = self._cached(subject)
            if key is None:
                wanted.append(subject)
            else:
                cached[subject] = key
        keys: dict[UUID, bytes] = {}
        if wanted:
            fresh = [self.ring.encrypt(os.urandom(32), self._aad(subject)) for subject in wanted]
            with self.connect() as conn, conn.cursor(row_factory=tuple_row) as cur:
                # The new keys, then the rows that were there; a row committed while the insert waited on it is
                # not in the statement's snapshot, hence the plain select of whatever is still missing.
                rows = cur.execute(
                    "WITH inserted AS (INSERT INTO subject_keys (subject_id, wrapped_key)"
                    " SELECT * FROM unnest(%s::uuid[], %s::bytea[]) ON CONFLICT (subject_id) DO NOTHING"
                    " RETURNING subject_id, wrapped_key)"
                    " SELECT subject_id, wrapped_key FROM inserted UNION ALL"
                    " SELECT subject_id, wrapped_key FROM subject_keys WHERE subject_id = ANY(%s)"
                    " AND subject_id NOT IN (SELECT subject_id FROM inserted) AND erased_at IS NULL",
                    (wanted, fresh, wanted),
                ).fetchall()
            for subject, wrapped in rows:
                if wrapped is not None:
                    keys[subject] = self.ring.decrypt(bytes(wrapped), self._aad(subject))
        outer: dict[UUID, bytes] | None = getattr(self._held, "keys", None)
        self._held.keys = {**(outer or {}), **cached, **keys}
        try:
            yield
        finally:
            self._held.keys = outer

        def remember() -> None:
            for subject, key in keys.items():
                self._remember(subject, key)

        self.after_commit(remember)

    def key_for(self, subject: UUID, *, create: bool) -> bytes | None:
        held: dict[UUID, bytes] | None = getattr(self._held, "keys", None)
        if held is not None and subject in held:
            return held[subject]
        cached = self._cached(subject)
        if cached is not None:
            return cached
        key = self._load(subject, create=create)
        if key is not None:
            self.after_commit(lambda: self._remember(subject, key))
        return key

    def _load(self, subject: UUID, *, create: bool) -> bytes | None:
        select = "SELECT wrapped_key, erased_at FROM subject_keys WHERE subject_id = %s"
        with self.connect() as conn, conn.cursor(row_factory=tuple_row) as cur:
            if create:
                # One statement (the connection autocommits: one commit, not three): the new key, or the row
                # that was there. A row committed while the insert waited on it is not in the statement's
                # snapshot, hence the plain select after an empty answer.
                wrapped = self.ring.encrypt(os.urandom(32), self._aad(subject))
                row = cur.execute(
                    "WITH inserted AS (INSERT INTO subject_keys (subject_id, wrapped_key) VALUES (%s, %s) "
                    "ON CONFLICT (subject_id) DO NOTHING RETURNING wrapped_key, erased_at) "
                    "SELECT wrapped_key, erased_at FROM inserted UNION ALL "
                    "SELECT wrapped_key, erased_at FROM subject_keys WHERE subject_id = %s "
                    "AND NOT EXISTS (SELECT 1 FROM inserted)",
                    (subject, wrapped, subject),
                ).fetchone()
                if row is None:
                    row = cur.execute(select, (subject,)).fetchone()
            else:
                row = cur.execute(select, (subject,)).fetchone()
        if row is None:
            return None
        if row[1] is not None:
            raise Erased(str(subject))
        return self.ring.decrypt(bytes(row[0]), self._aad(subject))

    def erase(self, subject: UUID, *, by: str, basis: str, at: datetime) -> bool:
        with self._lock:
            self._cache.pop(subject, None)
        with self.connect() as conn, conn.cursor(row_factory=tuple_row) as cur:
            done = cur.execute(
                "INSERT INTO subject_keys (subject_id, wrapped_key, erased_at, erased_by, basis)"
                " VALUES (%s, NULL, %s, %s, %s) ON CONFLICT (subject_id) DO UPDATE"
                " SET wrapped_key = NULL, erased_at = EXCLUDED.erased_at, erased_by = EXCLUDED.erased_by,"
                " basis = EXCLUDED.basis WHERE subject_keys.erased_at IS NULL",
                (subject, at, by, basis),
            )
            return bool(done.rowcount)


@dataclass(frozen=True)
class PersonalData:
    """Which events carry personal data: topic prefix, and the fields to seal, at top level or inside a dict
    field (`profile.name`). The subject is the event's originator, or the value of the top-level field `subject`
    names (stored in clear; an event whose subject field is None seals nothing)."""

    topic_prefix: str
    fields: tuple[str, ...]
    subject: str | None = None

    def applies(self, topic: str) -> bool:
        return topic.startswith(self.topic_prefix)

    def subject_of(self, originator_id: Any, state: dict[str, Any]) -> UUID | None:
        value = originator_id if self.subject is None else state.get(self.subject)
        return None if value is None else UUID(str(value))


def _seal(aead: AESGCM, subject: UUID, value: Any, transcode: Callable[[Any], bytes]) -> dict[str, str]:
    nonce = os.urandom(12)
    return {SEALED: base64.b64encode(nonce + aead.encrypt(nonce, transcode(value), subject.bytes)).decode()}


def _paths(state: dict[str, Any], fields: Iterable[str]) -> Iterable[tuple[dict[str, Any], str]]:
    for path in fields:
        holder: Any = state
        *parents, leaf = path.split(".")
        for part in parents:
            holder = holder.get(part) if isinstance(holder, dict) else None
        if isinstance(holder, dict) and holder.get(leaf) is not None:
            yield holder, leaf


def _copy_parents(state: dict[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """A copy deep enough that sealing never touches the aggregate's own dicts."""
    copied = dict(state)
    for path in fields:
        holder = copied
        for part in path.split(".")[:-1]:
            if not isinstance(holder.get(part), dict):
                break
            holder[part] = dict(holder[part])
            holder = holder[part]
    return copied


class ShreddingMapper(Mapper[UUID]):
    """Set `personal_data` and `key_store` (a callable: the store may need the recorder) after construction."""

    personal_data: tuple[PersonalData, ...] = ()
    key_store: Callable[[], KeyStore] | None = None
    # topic -> its rule, for the `personal_data` it was worked out from (every event encoded or decoded asks).
    _rules: tuple[tuple[PersonalData, ...], dict[str, PersonalData | None]] = ((), {})

    def _rule(self, topic: str) -> PersonalData | None:
        personal_data, rules = self._rules
        if personal_data is not self.personal_data:
            personal_data, rules = self._rules = (self.personal_data, {})
        if topic not in rules:
            rules[topic] = next((r for r in personal_data if r.applies(topic)), None)
        return rules[topic]

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        rule = self._rule(get_topic(type(domain_event)))
        if rule is None or self.key_store is None:
            return super().to_stored_event(domain_event)
        state = _copy_parents(dict(vars(domain_event)), rule.fields)
        targets = list(_paths(state, rule.fields))
        if not targets:
            return super().to_stored_event(domain_event)
        subject = rule.subject_of(domain_event.originator_id, state)
        if subject is None:
            return super().to_stored_event(domain_event)
        key = self.key_store().key_for(subject, create=True)
        assert key is not None
        aead = AESGCM(key)
        for holder, leaf in targets:
            holder[leaf] = _seal(aead, subject, holder[leaf], self.transcoder.encode)
        sealed_event = object.__new__(type(domain_event))
        sealed_event.__dict__.update(state)
        return super().to_stored_event(sealed_event)

    def _subjects(self, stored_events: Iterable[StoredEvent]) -> list[UUID]:
        return [
            UUID(str(e.originator_id))
            for e in stored_events
            if (rule := self._rule(e.topic)) is not None and rule.subject is None
        ]

    def prefetch(self, stored_events: Iterable[StoredEvent]) -> None:
        """Warm the key cache for a batch about to be decoded (call it off the event loop)."""
        if self.key_store is None:
            return
        self.key_store().prefetch(self._subjects(stored_events))

    def needs_prefetch(self, stored_events: Iterable[StoredEvent]) -> bool:
        """Whether `prefetch` would query for this batch: some subject's key is not cached (no I/O)."""
        if self.key_store is None:
            return False
        subjects = self._subjects(stored_events)
        return bool(subjects) and bool(self.key_store().uncached(subjects))

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        domain_event = super().to_domain_event(stored_event)
        rule = self._rule(stored_event.topic)
        if rule is None or self.key_store is None:
            return domain_event
        state = vars(domain_event)
        sealed = [
            (h, leaf)
            for h, leaf in _paths(state, rule.fields)
            if isinstance(h[leaf], dict) and SEALED in h[leaf]
        ]
        if not sealed:
            return domain_event
        subject = rule.subject_of(stored_event.originator_id, state)
        if subject is None:
            return domain_event
        try:
            key = self.key_store().key_for(subject, create=False)
        except Erased:
            key = None
        aead = AESGCM(key) if key else None
        for holder, leaf in sealed:
            raw = base64.b64decode(holder[leaf][SEALED])
            holder[leaf] = None  # erased: the value is gone for good
            if aead is not None:
                try:
                    holder[leaf] = self.transcoder.decode(aead.decrypt(raw[:12], raw[12:], subject.bytes))
                except InvalidTag:
                    holder[leaf] = None
        return domain_event


class PersonalDataApplication(Application[UUID]):
    """Mix in before the service's base application: its events' `personal_data` are sealed per subject, with keys
    in the service's own `subject_keys` (in memory on in-memory persistence)."""

    personal_data: tuple[PersonalData, ...] = ()

    def construct_mapper(self) -> Mapper[UUID]:
        mapper = self.factory.mapper(transcoder=self.construct_transcoder(), mapper_class=ShreddingMapper)
        assert isinstance(mapper, ShreddingMapper)
        mapper.personal_data = self.personal_data
        mapper.key_store = self.subject_keys
        return mapper

    def subject_keys(self) -> KeyStore:
        store: KeyStore | None = getattr(self, "_subject_keys", None)
        if store is None:
            datastore = getattr(self.recorder, "datastore", None)
            store = (
                MemoryKeyStore()
                if datastore is None
                else PostgresKeyStore(
                    datastore.get_connection,
                    self.env.get("CIPHER_KEY") or "",
                    after_commit=getattr(datastore, "after_commit", None),
                )
            )
            self._subject_keys = store
        return store
