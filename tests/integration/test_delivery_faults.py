"""Faults in delivery lose nothing and apply nothing twice: a relay crash, redelivery, poison, a NATS restart."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import Infra, Running, start_platform
from tests.integration.helpers import build_tree, eventually, inbox, new_tenant, register
from tests.integration.jetstream import consumer_idle, messages, publish

pytestmark = pytest.mark.integration
DEAD = "lianxin.deadletter.notify.notify-from-registry"


@pytest.fixture(scope="module")
def faults(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """Registry and notify on a NATS server of their own, which these tests stop and restart."""
    running = start_platform(infra, tmp_path_factory.mktemp("faults"), services=("registry", "notify"))
    try:
        yield running
    finally:
        running.stop()


def committee_items(running: Running, tenant: str) -> list[dict[str, object]]:
    items: list[dict[str, object]] = inbox(
        running.url("notify"), running.auth(tenant, "committee"), limit=200
    )["items"]
    return items


def test_relay_killed_after_publishing_republishes_and_nothing_is_applied_twice(
    infra: Infra, tmp_path: Path
) -> None:
    running = start_platform(
        infra,
        tmp_path / "relaycrash",
        services=("registry", "notify"),
        # The registry's relay only: notify has a relay too (it publishes its deliveries), and must stay up.
        service_extra_env={"registry": {"LIANXIN_FAILPOINTS": "relay.after_publish"}},
    )
    try:
        registry_process = running.platform.services["registry"]
        tenant = new_tenant()
        headers = running.auth(tenant, "committee")
        # The failpoint fires on the relay's first batch: the organisation founding kills the registry.
        root = httpx.post(
            f"{running.url('registry')}/v1/organisations",
            headers=headers,
            json={"code": "ROOT", "name": "党委", "kind": "primary_committee"},
        )
        assert root.status_code == 201
        eventually(lambda: not registry_process.alive, what="the registry to crash at the failpoint")
        published = messages(running.platform.nats_url, "LIANXIN_REGISTRY", f"lianxin.registry.{tenant}.>")
        assert len(published) == 1, "the relay published before it crashed"
        (position,) = running.sql("registry", "SELECT coalesce(max(position), 0) FROM relay_position")[0]
        (stored,) = running.sql("registry", "SELECT max(notification_id) FROM registry_events")[0]
        assert position < stored, "the crash came before the position was recorded"

        registry_process.env.pop("LIANXIN_FAILPOINTS")
        registry_process.start()
        registry_process.wait_ready()
        _, branch = _branch(running, headers, root.json()["id"])
        assert register(running.url("registry"), headers, branch).status_code == 201

        eventually(lambda: len(committee_items(running, tenant)) == 1 or None, what="one inbox item")
        eventually(lambda: consumer_idle(running.platform.nats_url) or None, what="notify to drain")
        published = messages(running.platform.nats_url, "LIANXIN_REGISTRY", f"lianxin.registry.{tenant}.>")
        ids = [json.loads(m.data)["id"] for m in published]
        assert len(ids) == len(set(ids)) == 3, "re-published founding was dropped as a duplicate"
        assert len(committee_items(running, tenant)) == 1
    finally:
        running.stop()


def _branch(running: Running, headers: dict[str, str], root_id: str) -> tuple[str, str]:
    response = httpx.post(
        f"{running.url('registry')}/v1/organisations",
        headers=headers,
        json={"code": "B1", "name": "支部", "kind": "branch", "parent_id": root_id},
    )
    assert response.status_code == 201, response.text
    return root_id, response.json()["id"]


def test_an_applied_event_redelivered_under_a_new_message_id_is_applied_once(faults: Running) -> None:
    tenant = new_tenant()
    headers = faults.auth(tenant, "committee")
    _, branch = build_tree(faults.url("registry"), headers)
    member = register(faults.url("registry"), headers, branch).json()
    subject = f"lianxin.registry.{tenant}.member_registered"
    eventually(lambda: committee_items(faults, tenant), what="the first delivery")
    (original,) = messages(faults.platform.nats_url, "LIANXIN_REGISTRY", subject)

    # As if re-published after the dedupe window: same CloudEvent, new Nats-Msg-Id, so JetStream keeps it.
    publish(faults.platform.nats_url, subject, original.data, {"Nats-Msg-Id": f"replayed-{member['id']}"})
    assert len(messages(faults.platform.nats_url, "LIANXIN_REGISTRY", subject)) == 2
    eventually(lambda: consumer_idle(faults.platform.nats_url) or None, what="notify to consume the copy")
    assert len(committee_items(faults, tenant)) == 1


def test_a_poison_message_is_dead_lettered_with_its_reason_and_the_consumer_goes_on(faults: Running) -> None:
    tenant = new_tenant()
    subject = f"lianxin.registry.{tenant}.member_registered"
    publish(
        faults.platform.nats_url, subject, b"{this is not a cloudevent", {"Nats-Msg-Id": f"poison-{tenant}"}
    )
    bad_contract = {
        "specversion": "1.0",
        "id": f"x-{tenant}:1",
        "source": "/lianxin/registry",
        "type": "cn.lianxin.registry.member_registered.v1",
        "subject": "x",
        "time": "2026-11-22T00:00:00Z",
        "tenantid": tenant,
        "sequence": "999999999",
        "correlationid": "c",
        "data": {"member_id": "nope"},
    }
    publish(
        faults.platform.nats_url, subject, json.dumps(bad_contract).encode(), {"Nats-Msg-Id": f"bad-{tenant}"}
    )

    def dead_letters() -> list[object] | None:
        found = [
            m
            for m in messages(faults.platform.nats_url, "LIANXIN_DEADLETTER", DEAD)
            if m.headers.get("Lianxin-Original-Subject") == subject
        ]
        return found if len(found) >= 2 else None

    dead = eventually(dead_letters, what="both dead letters")
    reasons = sorted(m.headers["Lianxin-Dead-Reason"] for m in dead)  # type: ignore[attr-defined]
    assert reasons[0].startswith("cn.lianxin.registry.member_registered.v1 does not match its contract")
    assert reasons[1].startswith("malformed CloudEvent")

    headers = faults.auth(tenant, "committee")
    _, branch = build_tree(faults.url("registry"), headers)
    assert register(faults.url("registry"), headers, branch).status_code == 201
    eventually(lambda: committee_items(faults, tenant), what="the next good message to be applied")
    metrics = httpx.get(f"{faults.url('notify')}/metrics").text
    assert 'lianxin_dead_letters_total{consumer="notify-from-registry",service="notify"}' in metrics


def test_nats_restarted_during_registrations_loses_and_duplicates_nothing(faults: Running) -> None:
    assert faults.nats is not None, "this test restarts the NATS server it started"
    tenant = new_tenant()
    headers = faults.auth(tenant, "committee")
    _, branch = build_tree(faults.url("registry"), headers)
    statuses: list[int] = []

    def keep_registering() -> None:
        for n in range(40):
            statuses.append(register(faults.url("registry"), headers, branch, name=f"党员{n}").status_code)
            time.sleep(0.05)

    writer = threading.Thread(target=keep_registering)
    writer.start()
    time.sleep(0.5)
    faults.nats.stop()
    time.sleep(2)
    faults.nats.start()
    writer.join(timeout=60)
    assert statuses == [201] * 40

    items = eventually(
        lambda: (lambda got: got if len(got) >= 40 else None)(committee_items(faults, tenant)),
        timeout=60,
        what="all 40 registrations in the inbox",
    )
    eventually(lambda: consumer_idle(faults.platform.nats_url) or None, what="notify to drain")
    items = committee_items(faults, tenant)
    assert len(items) == 40
    assert len({i["event_id"] for i in items}) == 40
