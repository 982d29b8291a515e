"""Audit on a running registry: checkpoints signed and published, the periodic verification in /readyz and
/metrics, `lianxin audit verify` (with --stream) green on a clean platform and naming what was tampered with."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import nats
import pytest

from shared import audit
from tests.integration.conftest import Infra, Running, start_platform
from tests.integration.helpers import build_tree, eventually, new_tenant, register
from tests.integration.jetstream import messages

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def platform(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = start_platform(
        infra,
        tmp_path_factory.mktemp("audit"),
        services=("registry",),
        extra_env={"AUDIT_CHECKPOINT_SECONDS": "0.5", "AUDIT_VERIFY_SECONDS": "0.5"},
    )
    try:
        tenant = new_tenant()
        headers = running.auth(tenant, "committee")
        _, branch = build_tree(running.url("registry"), headers)
        for i in range(5):
            assert register(running.url("registry"), headers, branch, name=f"党员{i}").status_code == 201
        yield running
    finally:
        running.stop()


def nats_url(running: Running) -> str:
    assert running.nats is not None
    return running.nats.url


def lianxin_audit(running: Running, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "lianxin.cli",
            "audit",
            "verify",
            "--service",
            "registry",
            "--admin-url",
            running.infra.admin_url,
            "--db-prefix",
            running.platform.db_prefix,
            "--data-dir",
            str(running.data_dir),
            "--nats-url",
            nats_url(running),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def relay_caught_up(running: Running) -> bool:
    head = running.sql("registry", "SELECT max(notification_id) FROM registry_events")[0][0]
    position = running.sql("registry", "SELECT position FROM relay_position WHERE name = 'registry-relay'")
    return bool(position) and position[0][0] >= head


def test_checkpoints_are_signed_stored_and_published(platform: Running) -> None:
    head = platform.sql("registry", "SELECT max(notification_id) FROM registry_audit_chain")[0][0]
    eventually(
        lambda: platform.sql(
            "registry",
            "SELECT 1 FROM registry_audit_checkpoints WHERE notification_id = "
            "%s AND published_at IS NOT NULL",
            head,
        ),
        what="a published checkpoint of the head",
    )
    copies = messages(nats_url(platform), "LIANXIN_AUDIT", "lianxin.audit.registry.checkpoint")
    assert copies
    checkpoint = audit.Checkpoint.from_message(1, copies[-1].data)
    secrets = json.loads((platform.data_dir / "secrets.json").read_text())
    trusted = audit.trusted_keys_from(secrets["audit_signing_key_registry"], None)
    assert checkpoint.public_key == trusted[0]
    assert checkpoint.well_formed("registry")
    assert checkpoint.notification_id == head


def test_the_periodic_verification_shows_in_readyz_and_metrics(platform: Running) -> None:
    ready = httpx.get(f"{platform.url('registry')}/readyz").json()
    assert ready["checks"]["audit"]["ok"] is True
    metrics = httpx.get(f"{platform.url('registry')}/metrics").text
    assert 'lianxin_audit_chain_ok{service="registry"} 1.0' in metrics
    assert "lianxin_audit_checkpoints_total" in metrics


def test_verify_and_the_stream_check_are_green_on_a_clean_platform(platform: Running) -> None:
    eventually(lambda: relay_caught_up(platform), what="the relay to publish everything")
    done = lianxin_audit(platform, "--stream")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "registry: OK" in done.stdout
    assert "registry stream: OK (7 integration events over 7 aggregates" in done.stdout, done.stdout


async def _drop_one_member_registered(url: str) -> str:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        sub = await js.subscribe(
            "lianxin.registry.*.member_registered", stream="LIANXIN_REGISTRY", ordered_consumer=True
        )
        msg = await sub.next_msg(timeout=5)
        await sub.unsubscribe()
        await js.delete_msg("LIANXIN_REGISTRY", msg.metadata.sequence.stream)
        subject: str = json.loads(msg.data)["subject"]
        return subject
    finally:
        await nc.close()


def test_a_message_missing_from_the_stream_is_named(platform: Running) -> None:
    eventually(lambda: relay_caught_up(platform), what="the relay to publish everything")
    aggregate = asyncio.run(_drop_one_member_registered(nats_url(platform)))
    done = lianxin_audit(platform, "--stream")
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"aggregate {aggregate}" in done.stdout
    assert "registry: OK" in done.stdout  # the store itself is intact


def test_tampering_turns_readyz_and_metrics_red_and_verify_names_it(platform: Running) -> None:
    """Last in this module: it leaves the registry's log tampered with."""
    target: Any = platform.sql(
        "registry",
        "SELECT notification_id, originator_id FROM registry_events "
        "ORDER BY notification_id OFFSET 3 LIMIT 1",
    )[0]
    platform.sql(
        "registry",
        "UPDATE registry_events SET state = state || '\\x01'::bytea WHERE notification_id = %s",
        target[0],
    )
    done = lianxin_audit(platform)
    assert done.returncode == 1
    assert f"changed: notification {target[0]}" in done.stdout
    assert str(target[1]) in done.stdout

    def red() -> bool:
        response = httpx.get(f"{platform.url('registry')}/readyz")
        return response.status_code == 503 and not response.json()["checks"]["audit"]["ok"]

    eventually(red, what="readyz to report the tampering")
    assert (
        f"notification {target[0]}"
        in httpx.get(f"{platform.url('registry')}/readyz").json()["checks"]["audit"]["detail"]
    )
    assert (
        'lianxin_audit_chain_ok{service="registry"} 0.0'
        in httpx.get(f"{platform.url('registry')}/metrics").text
    )
