"""PostgreSQL restarted under a stream of registrations: what was acknowledged reaches notify once, what failed
is retried with its Idempotency-Key and lands once; the services recover without being restarted."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from shared.devstack import EmbeddedPostgres, free_port
from tests.integration.conftest import Infra, start_platform
from tests.integration.helpers import build_tree, eventually, inbox, new_tenant

pytestmark = pytest.mark.integration


def test_a_postgres_restart_loses_nothing_and_applies_nothing_twice(tmp_path: Path) -> None:
    postgres = EmbeddedPostgres(tmp_path / "pg", port=free_port())
    postgres.start()
    running = start_platform(
        Infra(postgres.dsn(), "", postgres), tmp_path / "platform", services=("registry", "notify")
    )
    try:
        registry, notify = running.url("registry"), running.url("notify")
        tenant = new_tenant()
        headers = running.auth(tenant, "committee")
        _, branch = build_tree(registry, headers)
        outcomes: dict[int, int] = {}

        def register_all() -> None:
            for n in range(30):
                for _ in range(120):  # a client that retries with the same key until it gets an answer
                    try:
                        response = httpx.post(
                            f"{registry}/v1/members",
                            timeout=10,
                            json={"name": f"党员{n}", "organisation_id": branch, "category": "full"},
                            headers={**headers, "Idempotency-Key": f"member-{n}"},
                        )
                    except httpx.HTTPError:
                        time.sleep(0.25)
                        continue
                    if response.status_code == 201:
                        outcomes[n] = response.status_code
                        break
                    time.sleep(0.25)
                time.sleep(0.05)

        writer = threading.Thread(target=register_all)
        writer.start()
        time.sleep(0.7)
        postgres.restart()
        writer.join(timeout=120)
        assert outcomes == {n: 201 for n in range(30)}, outcomes

        items = eventually(
            lambda: (got := inbox(notify, headers, limit=200)["items"]) and len(got) >= 30 and got,
            timeout=90,
            what="30 registrations in the committee's inbox",
        )
        assert len(items) == 30 and len({i["event_id"] for i in items}) == 30
        roll = httpx.get(f"{registry}/v1/members", headers=headers, params={"limit": 500}).json()["items"]
        assert sorted(m["name"] for m in roll) == sorted(f"党员{n}" for n in range(30))
    finally:
        running.stop()
        postgres.stop()
