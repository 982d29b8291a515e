"""Erasure on a running registry: a recorded decision, refused to another tenant and to a branch secretary;
afterwards no name, ID number or phone is readable over the API, in any table of the database (events decrypted
with CIPHER_KEY included), on the stream or in the service's log, while the log still verifies."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest

from shared.keyring import KeyRing
from tests.integration.conftest import Infra, Running, start_platform
from tests.integration.helpers import build_tree, eventually, national_id, new_tenant
from tests.integration.jetstream import messages

pytestmark = pytest.mark.integration
NAME = "欧阳删除"
PHONE = "13712345678"


@pytest.fixture(scope="module")
def registry(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = start_platform(infra, tmp_path_factory.mktemp("erasure"), services=("registry",))
    try:
        yield running
    finally:
        running.stop()


def needles(id_number: str, masked: list[str]) -> list[bytes]:
    found = []
    for text in (NAME, id_number, PHONE, *masked):
        found += [text.encode(), text.encode("unicode_escape")]
    return found


def database_dump(running: Running, service: str = "registry") -> bytes:
    """Every row of every table in the service's database, as text, plus every event decrypted with CIPHER_KEY."""
    tables = [
        r[0] for r in running.sql(service, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    ]
    dump = b""
    for table in tables:
        for row in running.sql(service, f'SELECT t::text FROM "{table}" t'):
            dump += row[0].encode() + b"\n"
    ring = KeyRing.from_text(json.loads((running.data_dir / "secrets.json").read_text())["cipher_key"])
    for (state,) in running.sql(service, f"SELECT state FROM {service}_events"):
        dump += ring.decrypt(bytes(state)) + b"\n"
    return dump


def new_member(registry: Running, **profile: str) -> tuple[str, str, dict[str, str], httpx.Response]:
    """A tenant with a branch and one member: (tenant, branch, committee headers, the POST's response)."""
    tenant = new_tenant()
    committee = registry.auth(tenant, "committee")
    _, branch = build_tree(registry.url("registry"), committee)
    created = httpx.post(
        f"{registry.url('registry')}/v1/members",
        headers=committee,
        json={"organisation_id": branch, "category": "full", **profile},
    )
    assert created.status_code == 201, created.text
    return tenant, branch, committee, created


def test_an_erased_member_leaves_no_readable_personal_data(registry: Running) -> None:
    url = registry.url("registry")
    id_number = national_id()
    tenant, branch, committee, created = new_member(
        registry, name=NAME, national_id_number=id_number, phone=PHONE, gender="male"
    )
    member_id = created.json()["id"]
    masked = [created.json()["national_id_number"], created.json()["phone"]]
    unmasked = httpx.get(
        f"{url}/v1/members/{member_id}", headers=committee, params={"unmasked": "true", "purpose": "核对"}
    ).json()
    assert (unmasked["name"], unmasked["national_id_number"], unmasked["phone"]) == (NAME, id_number, PHONE)
    listed = eventually(
        lambda: [
            m
            for m in httpx.get(f"{url}/v1/members", headers=committee).json()["items"]
            if m["id"] == member_id
        ],
        what="the member in the read model",
    )
    assert listed[0]["name"] == NAME
    events_before = registry.sql("registry", "SELECT count(*) FROM registry_events")[0][0]

    # Refused: another tenant (not found), a branch secretary (forbidden), no basis (422 naming the field).
    other = httpx.post(
        f"{url}/v1/members/{member_id}/erasure",
        headers=registry.auth(new_tenant(), "committee"),
        json={"basis": "本人申请"},
    )
    assert other.status_code == 404
    secretary = httpx.post(
        f"{url}/v1/members/{member_id}/erasure",
        headers=registry.auth(tenant, "branch_secretary", orgs=[branch]),
        json={"basis": "本人申请"},
    )
    assert secretary.status_code == 403
    no_basis = httpx.post(f"{url}/v1/members/{member_id}/erasure", headers=committee, json={})
    assert no_basis.status_code == 422 and "basis" in no_basis.text

    erased = httpx.post(
        f"{url}/v1/members/{member_id}/erasure",
        headers=committee,
        json={"basis": "本人申请删除（个人信息保护法第四十七条）"},
    )
    assert erased.status_code == 200, erased.text
    assert erased.json()["name"] == "" and erased.json()["national_id_number"] is None

    # The API: unmasked reads, the roll and the history give nothing of the person back.
    after = httpx.get(
        f"{url}/v1/members/{member_id}", headers=committee, params={"unmasked": "true", "purpose": "核对"}
    ).json()
    assert (after["name"], after["national_id_number"], after["phone"]) == ("", None, None)
    eventually(
        lambda: [
            m
            for m in httpx.get(f"{url}/v1/members", headers=committee).json()["items"]
            if m["id"] == member_id and m["name"] is None
        ],
        what="the read model to forget the name",
    )
    history = httpx.get(f"{url}/v1/members/{member_id}/history", headers=committee)
    assert history.status_code == 200
    decision = history.json()[-2]  # the last is the disclosure of the unmasked read after it
    assert decision["type"] == "PersonalDataErased" and decision["changes"]["basis"].startswith("本人申请")

    # The events still count: none removed, the decision added.
    assert registry.sql("registry", "SELECT count(*) FROM registry_events")[0][0] > events_before
    key = registry.sql(
        "registry",
        "SELECT wrapped_key, erased_by, basis FROM subject_keys WHERE subject_id = %s",
        uuid.UUID(member_id),
    )
    assert key and key[0][0] is None and key[0][1] and key[0][2].startswith("本人申请")

    # A scan of the database (events decrypted with the service key), the stream and the log finds nothing.
    assert registry.nats is not None
    stream = b"\n".join(m.data for m in messages(registry.nats.url, "LIANXIN_REGISTRY", "lianxin.registry.>"))
    log = (registry.data_dir / "logs" / "registry.log").read_bytes()
    for place, content in (("database", database_dump(registry)), ("stream", stream), ("log", log)):
        for needle in needles(id_number, masked):
            assert needle not in content, f"{needle!r} found in the {place}"

    # The chain verifies over the erased member's events.
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "lianxin.cli",
            "audit",
            "verify",
            "--service",
            "registry",
            "--admin-url",
            registry.infra.admin_url,
            "--db-prefix",
            registry.platform.db_prefix,
            "--data-dir",
            str(registry.data_dir),
            "--nats-url",
            registry.nats.url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "registry: OK" in done.stdout


def test_the_database_holds_no_plaintext_even_before_an_erasure(registry: Running) -> None:
    """Sealed per member from the start: an operator holding CIPHER_KEY still reads no name in the events."""
    id_number = national_id()
    _, _, _, created = new_member(registry, name="司马未删", national_id_number=id_number)
    ring = KeyRing.from_text(json.loads((registry.data_dir / "secrets.json").read_text())["cipher_key"])
    states: list[Any] = registry.sql(
        "registry",
        "SELECT state FROM registry_events WHERE originator_id = %s",
        uuid.UUID(created.json()["id"]),
    )
    clear = b"".join(ring.decrypt(bytes(s[0])) for s in states)
    assert "司马未删".encode() not in clear and id_number.encode() not in clear
    assert b"$sealed" in clear
    app_url = registry.platform.services["registry"].env["DATABASE_URL"]
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege),
        psycopg.connect(app_url, autocommit=True) as conn,
    ):
        conn.execute("TRUNCATE subject_keys")
