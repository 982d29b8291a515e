"""`lianxin keys rotate` on real PostgreSQL: events, snapshots-free logs and sealed read-model columns are
re-encrypted under the ring's first key; a run killed with SIGKILL resumes where its last batch committed; the
hash chain still verifies (through signed rotation attestations), and readers with the new key alone read all."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import psycopg
import pytest

from shared.fieldcrypt import FieldCipher
from shared.keyring import KeyRing, key_id
from tests.integration.conftest import Infra
from tests.integration.helpers import eventually
from tests.integration.ledger import Account, Store, fill, new_store

pytestmark = pytest.mark.integration
NAMES = [f"姓名{i}" for i in range(40)]


@pytest.fixture
def store(infra: Infra) -> Iterator[Store]:
    s = new_store(infra.admin_url)
    old = FieldCipher(s.cipher_key)
    with psycopg.connect(s.owner_url) as conn:
        conn.execute("CREATE TABLE people (id int PRIMARY KEY, name_sealed text)")
        for i, name in enumerate(NAMES):
            conn.execute("INSERT INTO people VALUES (%s, %s)", (i, old.seal(name, "name")))
    yield s


def rotate(store: Store, ring: str, *args: str, wait: bool = True) -> subprocess.Popen[str]:
    env = {**os.environ, "CIPHER_KEY": ring, "AUDIT_SIGNING_KEY": store.signing_key}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lianxin.cli",
            "keys",
            "rotate",
            "--service",
            "ledger",
            "--database-url",
            store.owner_url,
            *args,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if wait:
        process.wait(timeout=120)
    return process


def progress(store: Store, target: str, phase: str) -> tuple[int, int, bool] | None:
    with store.admin() as conn:
        if conn.execute("SELECT to_regclass('key_rotation')").fetchone() == (None,):
            return None
        row = conn.execute(
            "SELECT rows_seen, rows_changed, done_at IS NOT NULL FROM key_rotation "
            "WHERE target = %s AND phase = %s",
            (target, phase),
        ).fetchone()
    return (row[0], row[1], row[2]) if row else None


def states(store: Store) -> list[bytes]:
    with store.admin() as conn:
        return [bytes(r[0]) for r in conn.execute("SELECT state FROM ledger_events ORDER BY notification_id")]


def test_a_rotation_killed_midway_resumes_and_finishes(store: Store) -> None:
    ids = fill(store, accounts=30, notes=3)  # 120 events under the old key
    new_key = base64.b64encode(os.urandom(32)).decode()
    ring = f"{new_key},{store.cipher_key}"
    target = key_id(base64.b64decode(new_key))
    new_only = KeyRing.from_text(new_key)

    first = rotate(store, ring, "--batch", "5", "--pause", "0.2", wait=False)
    eventually(
        lambda: (p := progress(store, target, "events")) is not None and p[0] >= 30,
        timeout=60,
        what="the first batches to commit",
    )
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert first.returncode == -signal.SIGKILL

    seen, changed, done = progress(store, target, "events") or (0, 0, True)
    assert not done and 30 <= seen < 120 and changed == seen
    opened = 0
    for state in states(store):
        try:
            new_only.decrypt(state)
            opened += 1
        except ValueError:
            pass
    assert opened == seen  # exactly the committed batches: none half-written
    # Meanwhile the service keeps writing, with the new key first in its ring.
    writer = store.app(cipher_key=ring)
    extra = Account(owner="written during the rotation")
    writer.save(extra)
    writer.close()

    second = rotate(store, ring)
    out = second.stdout.read() if second.stdout else ""
    assert second.returncode == 0, out + (second.stderr.read() if second.stderr else "")
    assert "ledger events: 121/121 (100%)" in out
    assert progress(store, target, "events") == (121, 120, True)
    assert progress(store, target, "sealed:people.name_sealed") == (40, 40, True)

    # Readers with the new key alone read every event and every sealed name.
    reader = store.app(cipher_key=new_key)
    owners: list[str] = [reader.repository.get(i).owner for i in ids]
    assert owners == [f"owner-{i}" for i in range(30)]
    assert reader.repository.get(extra.id).owner == "written during the rotation"
    reader.close()
    new_fields = FieldCipher(new_key)
    with store.admin() as conn:
        sealed = conn.execute("SELECT name_sealed FROM people ORDER BY id").fetchall()
    assert [new_fields.open(r[0], "name") for r in sealed] == NAMES

    # The chain still verifies: every re-encrypted event carries a signed attestation.
    result = store.verify()
    assert result.ok, result.summary()
    assert result.events == 121

    again = rotate(store, ring)
    assert again.returncode == 0  # a second run finds the phases done and changes nothing
    assert progress(store, target, "events") == (121, 120, True)


def test_an_attestation_not_signed_by_the_service_does_not_cover_a_change(store: Store) -> None:
    fill(store, accounts=2, notes=1)
    new_key = base64.b64encode(os.urandom(32)).decode()
    assert rotate(store, f"{new_key},{store.cipher_key}").returncode == 0
    assert store.verify().ok
    with store.admin() as conn:
        nid = conn.execute("SELECT min(notification_id) FROM ledger_events").fetchone()
        assert nid is not None
        conn.execute(
            "UPDATE ledger_events SET state = state || '\\x00'::bytea WHERE notification_id = %s", nid
        )
        conn.execute(
            "UPDATE ledger_audit_rekeyed SET state_hash = sha256(e.state) FROM ledger_events e "
            "WHERE e.notification_id = ledger_audit_rekeyed.notification_id AND e.notification_id = %s",
            nid,
        )
    result = store.verify()
    assert result.finding is not None
    assert (result.finding.kind, result.finding.notification_id) == ("changed", nid[0])


def test_a_tampered_log_is_not_re_encrypted(store: Store) -> None:
    fill(store, accounts=2, notes=1)
    with store.admin() as conn:
        conn.execute(
            "UPDATE ledger_events SET state = state || '\\x00'::bytea "
            "WHERE notification_id = (SELECT max(notification_id) FROM ledger_events)"
        )
    before = states(store)
    refused = rotate(store, f"{base64.b64encode(os.urandom(32)).decode()},{store.cipher_key}")
    assert refused.returncode == 1
    assert "does not verify" in (refused.stderr.read() if refused.stderr else "")
    assert states(store) == before
