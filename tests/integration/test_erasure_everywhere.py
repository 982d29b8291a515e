"""Erasure across services: a member who completed a transfer and received notifications is erased in both
tenants; afterwards no planted value (name, ID number, phone, the masked forms) is found in any service's database
(events decrypted with CIPHER_KEY included), on any stream or in any service's log. The letter still verifies as a
record, every log still verifies, and the events still count."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.integration.conftest import Infra, Running, start_platform
from tests.integration.helpers import eventually, national_id
from tests.integration.jetstream import messages
from tests.integration.test_erasure import database_dump
from tests.integration.test_transfer import World

pytestmark = pytest.mark.integration
SERVICES = ("registry", "transfer", "notify")
STREAMS = {
    f"LIANXIN_{name.upper()}": f"lianxin.{name}.>"
    for name in ("registry", "transfer", "notify", "deadletter", "audit")
}
NAME = "上官抹除"
PHONE = "13698765432"


@pytest.fixture(scope="module")
def platform(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = start_platform(infra, tmp_path_factory.mktemp("erasure-everywhere"), services=SERVICES)
    try:
        yield running
    finally:
        running.stop()


def counts(platform: Running) -> dict[str, int]:
    return {s: platform.sql(s, f"SELECT count(*) FROM {s}_events")[0][0] for s in SERVICES}


def erase(platform: Running, member_id: str, headers: dict[str, str]) -> None:
    erased = httpx.post(
        f"{platform.url('registry')}/v1/members/{member_id}/erasure",
        headers=headers,
        json={"basis": "本人申请删除（个人信息保护法第四十七条）"},
    )
    assert erased.status_code == 200, erased.text


def test_an_erased_member_leaves_no_readable_personal_data_in_any_service(platform: Running) -> None:
    world = World(platform)
    id_number = national_id("19990312")
    registered = httpx.post(
        f"{world.r}/v1/members",
        headers=world.s,
        json={
            "name": NAME,
            "organisation_id": world.s_branch,
            "category": "full",
            "gender": "female",
            "ethnicity": "汉族",
            "birth_date": "1999-03-12",
            "national_id_number": id_number,
            "phone": PHONE,
        },
    )
    assert registered.status_code == 201, registered.text
    world.member = registered.json()
    masked = [world.member["national_id_number"], world.member["phone"]]

    case = world.issue()
    assert (case["letter"]["name"], case["letter"]["national_id_number"]) == (NAME, id_number)
    code = case["letter"]["code"]
    # Legal hold: while the transfer is open the registry refuses the erasure.
    held = httpx.post(
        f"{world.r}/v1/members/{world.member['id']}/erasure", headers=world.s, json={"basis": "本人申请"}
    )
    assert held.status_code == 409, held.text
    world.post(case, "acceptance", world.rc)
    world.post(case, "check-in", world.rc, {})
    world.until(case, "checked_in")
    assert (
        world.post(case, "receipt-return", world.rc, {"handler": "王", "phone": "1"}).json()["state"]
        == "completed"
    )
    # The letter's read model follows the completed case a moment later (valid → completed): read it then.
    before = eventually(
        lambda: (v := httpx.get(f"{world.t}/v1/letters/verify/{code}").json())["status"] == "completed" and v,
        timeout=30,
        what="the letter to read completed",
    )
    masked.append(before["name"])
    assert before["name"] and before["name"][0] == NAME[0]

    notify = platform.url("notify")

    def named_inbox() -> list[dict[str, Any]] | None:
        items = httpx.get(f"{notify}/v1/inbox", headers=world.s, params={"limit": 200}).json()["items"]
        return [i for i in items if NAME in i["title"] + i["body"]] or None

    eventually(named_inbox, timeout=60, what="an inbox item that names the member")
    enrolled = eventually(
        lambda: (
            [
                m
                for m in httpx.get(f"{world.r}/v1/members", headers=world.rc).json()["items"]
                if m["name"] == NAME
            ]
            or None
        ),
        timeout=30,
        what="the member at the receiver",
    )
    events_before = counts(platform)

    # The person asks both organisations: the member that left, and the member that arrived.
    erase(platform, world.member["id"], world.s)
    erase(platform, enrolled[0]["id"], world.rc)

    # Notify and transfer heard the erasure: names gone from the inbox, the letter a record without the person.
    eventually(lambda: named_inbox() is None or None, timeout=60, what="the inbox to forget the name")
    after = eventually(
        lambda: (v := httpx.get(f"{world.t}/v1/letters/verify/{code}").json())["name"] is None and v,
        timeout=60,
        what="the letter's read model to forget the masked name",
    )
    assert {k: after[k] for k in ("status", "letter_no", "issued_on", "expires_on", "kid", "tenant")} == {
        k: before[k] for k in ("status", "letter_no", "issued_on", "expires_on", "kid", "tenant")
    }
    letter = world.case(case)["letter"]
    assert letter["name"] is None and letter["national_id_number"] is None and letter["signature"]
    assert world.case(case)["state"] == "completed"
    for service in ("transfer", "notify"):
        keys = platform.sql(service, "SELECT count(*) FROM subject_keys WHERE erased_at IS NOT NULL")[0][0]
        assert keys >= 1, f"{service} destroyed no key"

    # The events still count (none removed) and the member is still on the roll, nameless.
    after_counts = counts(platform)
    assert all(after_counts[s] >= events_before[s] for s in SERVICES), (events_before, after_counts)
    roll = httpx.get(f"{world.r}/v1/members", headers=world.rc).json()["items"]
    assert any(m["id"] == enrolled[0]["id"] and m["name"] is None for m in roll)

    # A scan of every database, every stream and every log finds none of the planted values.
    assert platform.nats is not None
    needles = [
        v
        for text in (NAME, id_number, PHONE, *masked)
        for v in (text.encode(), text.encode("unicode_escape"))
    ]
    places = {f"{s} database": database_dump(platform, s) for s in SERVICES}
    places |= {f"{s} log": (platform.data_dir / "logs" / f"{s}.log").read_bytes() for s in SERVICES}
    places |= {
        stream: b"\n".join(m.data for m in messages(platform.nats.url, stream, subjects))
        for stream, subjects in STREAMS.items()
    }
    for read in ("LIANXIN_REGISTRY", "LIANXIN_TRANSFER", "notify database", "transfer log"):
        assert world.member["id"].encode() in places[read] or code.encode() in places[read], (
            f"{read} was not read"
        )
    for place, content in places.items():
        for needle in needles:
            assert needle not in content, f"{needle!r} found in the {place}"

    # Every service's chain still verifies.
    for service in SERVICES:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "lianxin.cli",
                "audit",
                "verify",
                "--service",
                service,
                "--admin-url",
                platform.infra.admin_url,
                "--db-prefix",
                platform.platform.db_prefix,
                "--data-dir",
                str(platform.data_dir),
                "--nats-url",
                platform.nats.url,
            ],
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"{service}: OK" in done.stdout
