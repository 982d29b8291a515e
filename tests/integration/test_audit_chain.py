"""The event log's hash chain on real PostgreSQL: written by the database as events are stored, and every kind of
tampering by direct SQL (change, delete, insert, swap, rewrite, truncate) is caught and named."""

from __future__ import annotations

import uuid
from urllib.parse import urlparse

import psycopg
import pytest

from shared import audit
from tests.integration.conftest import Infra
from tests.integration.ledger import SIGNED_AT, Store, fill, new_store

pytestmark = pytest.mark.integration


@pytest.fixture
def store(infra: Infra) -> Store:
    return new_store(infra.admin_url)


def nid_of(store: Store, originator: uuid.UUID, version: int) -> int:
    with store.admin() as conn:
        row = conn.execute(
            "SELECT notification_id FROM ledger_events WHERE originator_id = %s AND originator_version = %s",
            (originator, version),
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_a_clean_log_verifies_and_every_event_is_chained(store: Store) -> None:
    fill(store)
    store.checkpoint()
    fill(store, accounts=2)
    result = store.verify()
    assert result.ok, result.summary()
    assert result.events == 6 * 4
    assert result.checkpoints == 1
    with store.admin() as conn:
        assert conn.execute("SELECT count(*) FROM ledger_audit_chain").fetchone() == (24,)


def test_the_application_role_may_not_rewrite_events_or_the_chain(store: Store) -> None:
    fill(store, accounts=1)
    with psycopg.connect(store.app_url, autocommit=True) as conn:
        for statement in (
            "UPDATE ledger_events SET topic = topic",
            "DELETE FROM ledger_events",
            "DELETE FROM ledger_audit_chain",
            "UPDATE ledger_audit_chain SET hash = hash",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


def test_a_changed_field_is_named(store: Store) -> None:
    ids = fill(store)
    target = nid_of(store, ids[1], 2)
    with store.admin() as conn:
        conn.execute(
            "UPDATE ledger_events SET state = state || '\\x00'::bytea WHERE notification_id = %s", (target,)
        )
    result = store.verify()
    assert result.finding is not None
    assert (result.finding.kind, result.finding.notification_id) == ("changed", target)
    assert str(ids[1]) in result.finding.detail


def test_a_deleted_event_is_named(store: Store) -> None:
    ids = fill(store)
    target = nid_of(store, ids[2], 3)
    with store.admin() as conn:
        conn.execute("DELETE FROM ledger_events WHERE notification_id = %s", (target,))
    result = store.verify()
    assert result.finding is not None
    assert (result.finding.kind, result.finding.notification_id) == ("removed", target)
    assert f"{ids[2]} v3" in result.finding.detail


def test_an_event_deleted_with_its_chain_row_is_caught_at_the_next_record(store: Store) -> None:
    ids = fill(store)
    target = nid_of(store, ids[0], 2)
    with store.admin() as conn:
        conn.execute("DELETE FROM ledger_events WHERE notification_id = %s", (target,))
        conn.execute("DELETE FROM ledger_audit_chain WHERE notification_id = %s", (target,))
    result = store.verify()
    assert result.finding is not None
    assert result.finding.kind == "removed"
    assert result.finding.notification_id == nid_of(store, ids[0], 3)


def test_an_inserted_event_is_named(store: Store) -> None:
    ids = fill(store)
    with store.admin() as conn:
        conn.execute("ALTER TABLE ledger_events DISABLE TRIGGER USER")
        row = conn.execute(
            "INSERT INTO ledger_events (originator_id, originator_version, topic, state) "
            "SELECT originator_id, 99, topic, state FROM ledger_events WHERE originator_id = %s "
            "AND originator_version = 2 RETURNING notification_id",
            (ids[3],),
        ).fetchone()
        conn.execute("ALTER TABLE ledger_events ENABLE TRIGGER USER")
    assert row is not None
    result = store.verify()
    assert result.finding is not None
    assert (result.finding.kind, result.finding.notification_id) == ("inserted", row[0])
    assert f"{ids[3]} v99" in result.finding.detail


def test_an_event_inserted_into_the_middle_with_the_trigger_on_is_named(store: Store) -> None:
    ids = fill(store)
    with store.admin() as conn:
        gap = nid_of(store, ids[1], 1) - 1
        conn.execute("DELETE FROM ledger_events WHERE notification_id = %s", (gap,))
        conn.execute("DELETE FROM ledger_audit_chain WHERE notification_id = %s", (gap,))
        conn.execute(
            "INSERT INTO ledger_events (originator_id, originator_version, topic, state, notification_id) "
            "SELECT originator_id, 7, topic, state, %s FROM ledger_events WHERE originator_id = %s "
            "AND originator_version = 2",
            (gap, ids[0]),
        )
    result = store.verify()
    assert result.finding is not None
    # The trigger chained the forged row to the head of the log, not to the record before it.
    assert (result.finding.kind, result.finding.notification_id) == ("removed", gap)


def test_two_swapped_events_are_named(store: Store) -> None:
    ids = fill(store)
    first, second = nid_of(store, ids[1], 2), nid_of(store, ids[2], 2)
    with store.admin() as conn, conn.transaction():
        conn.execute("UPDATE ledger_events SET notification_id = -1 WHERE notification_id = %s", (first,))
        conn.execute(
            "UPDATE ledger_events SET notification_id = %s WHERE notification_id = %s", (first, second)
        )
        conn.execute("UPDATE ledger_events SET notification_id = %s WHERE notification_id = -1", (second,))
    result = store.verify()
    assert result.finding is not None
    assert (result.finding.kind, result.finding.notification_id) == ("reordered", first)
    assert f"{ids[2]} v2" in result.finding.detail and f"{ids[1]} v2" in result.finding.detail


def test_a_rewritten_chain_is_caught_by_the_signed_checkpoint(store: Store) -> None:
    """Someone who edits an event and recomputes every chain row after it still cannot sign a checkpoint."""
    ids = fill(store)
    checkpoint = store.checkpoint()
    assert checkpoint is not None
    target = nid_of(store, ids[1], 1)
    with store.admin() as conn, conn.transaction():
        conn.execute(
            "UPDATE ledger_events SET state = state || '\\x00'::bytea WHERE notification_id = %s", (target,)
        )
        rows = conn.execute(
            "SELECT e.notification_id, e.originator_id, e.originator_version, e.topic, e.state, "
            "c.prev_hash FROM ledger_events e JOIN ledger_audit_chain c USING (notification_id) "
            "WHERE notification_id >= %s ORDER BY 1",
            (target,),
        ).fetchall()
        prev = bytes(rows[0][5])
        for nid, oid, version, topic, state, _ in rows:
            digest = audit.link(prev, nid, oid, version, topic, bytes(state))
            conn.execute(
                "UPDATE ledger_audit_chain SET prev_hash = %s, hash = %s WHERE notification_id = %s",
                (prev, digest, nid),
            )
            prev = digest
    result = store.verify()
    assert result.finding is not None
    assert result.finding.kind == "rewritten"
    assert result.finding.notification_id == checkpoint.notification_id
    assert "start of the log" in result.finding.detail


def test_a_forged_or_edited_checkpoint_is_refused(store: Store) -> None:
    fill(store, accounts=1)
    store.checkpoint()
    with store.admin() as conn:
        conn.execute("UPDATE ledger_audit_checkpoints SET position = position - 1")
    result = store.verify()
    assert result.finding is not None and result.finding.kind == "forged"

    other = audit.load_signing_key(audit.new_signing_key())
    with psycopg.connect(store.app_url) as conn:
        audit.write_checkpoint(conn, "ledger", other, SIGNED_AT)
    with psycopg.connect(store.app_url) as conn:
        checkpoints = audit.stored_checkpoints(conn, "ledger")
    assert any(c.public_key == audit.public_key_text(other) for c in checkpoints)


def test_a_truncated_log_is_caught_by_the_checkpoint(store: Store) -> None:
    ids = fill(store)
    store.checkpoint()
    last = nid_of(store, ids[-1], 4)
    with store.admin() as conn:
        conn.execute("DELETE FROM ledger_events WHERE notification_id = %s", (last,))
        conn.execute("DELETE FROM ledger_audit_chain WHERE notification_id = %s", (last,))
    result = store.verify()
    assert result.finding is not None
    assert (result.finding.kind, result.finding.notification_id) == ("truncated", last)


def test_since_starts_at_the_last_checkpoint_before_it(store: Store) -> None:
    fill(store, accounts=2)
    checkpoint = store.checkpoint()
    assert checkpoint is not None
    fill(store, accounts=1)
    result = store.verify(since=checkpoint.notification_id)
    assert result.ok, result.summary()
    assert result.events == 4
    assert result.notes and f"#{checkpoint.seq}" in result.notes[0]


def test_rows_stored_before_installation_are_chained_once(store: Store) -> None:
    fill(store, accounts=1)
    with store.admin() as conn:
        conn.execute("DROP TRIGGER ledger_audit_chain_append ON ledger_events")
    fill(store, accounts=1)
    assert audit.install(store.owner_url, "ledger", app_role=urlparse(store.app_url).username) == 4
    assert audit.install(store.owner_url, "ledger", app_role=urlparse(store.app_url).username) == 0
    fill(store, accounts=1)
    result = store.verify()
    assert result.ok, result.summary()
    assert result.events == 12
