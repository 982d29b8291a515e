"""Two live instances of registry, transfer and notify on the same databases and NATS: one relay publishes per
service and the other takes over when it dies, the durable consumers are shared without double effects, a
deadline fires once although both schedulers see it due (SKIP LOCKED), and projections apply each event once."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from lianxin.platform import ServiceProcess
from shared.devstack import free_port
from shared.relay import RELAY_LOCK_BASE
from tests.integration.conftest import Infra, Running, start_platform
from tests.integration.helpers import build_tree, eventually, national_id, new_tenant

pytestmark = pytest.mark.integration
# One ID sequence per person for the module's platform: random ones collided (12 people born on one day: 6 %).
ID_SEQUENCE = itertools.count()
SERVICES = ("registry", "transfer", "notify")
APPROVAL = {
    "dues_paid_through": "2026-11",
    "issuer_address": "北京市海淀区学院路1号",
    "issuer_phone": "010-62000000",
}


class Pair:
    """The platform's instance `a` of each service plus a second one, `b`, with its environment but its own port."""

    def __init__(self, running: Running) -> None:
        self.running = running
        self.b: dict[str, ServiceProcess] = {}
        for name in SERVICES:
            a = running.platform.services[name]
            port = free_port()
            env = {
                **a.env,
                "PORT": str(port),
                "DATABASE_URL": f"{a.env['DATABASE_URL']}?application_name={name}-b",
            }
            self.b[name] = ServiceProcess(
                name, env, a.log_path.with_name(f"{name}-b.log"), f"http://127.0.0.1:{port}"
            )
        for process in self.b.values():
            process.start()
        for process in self.b.values():
            process.wait_ready(90)

    def urls(self, name: str) -> list[str]:
        return [self.running.url(name), self.b[name].base_url]

    def relay_holders(self, name: str) -> list[str]:
        return [
            r[0]
            for r in self.running.sql(
                name,
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
                "WHERE l.locktype = 'advisory' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND l.classid = 0 AND l.objid = %s AND l.objsubid = 1 "
                "AND l.granted",
                RELAY_LOCK_BASE,
            )
        ]

    def stop(self) -> None:
        for process in self.b.values():
            process.stop()


@pytest.fixture(scope="module")
def pair(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    running = start_platform(infra, tmp_path_factory.mktemp("two"), services=SERVICES)
    pair = None
    try:
        pair = Pair(running)
        yield pair
    finally:
        if pair is not None:
            pair.stop()
        running.stop()


class Tenants:
    def __init__(self, pair: Pair) -> None:
        self.pair = pair
        running = pair.running
        self.sender, self.receiver = new_tenant(), new_tenant()
        self.s, self.rc = running.auth(self.sender, "committee"), running.auth(self.receiver, "committee")
        _, self.s_branch = build_tree(running.url("registry"), self.s)
        _, self.r_branch = build_tree(running.url("registry"), self.rc)

    def register(self, registry: str, name: str = "李明") -> dict[str, Any]:
        response = httpx.post(
            f"{registry}/v1/members",
            headers=self.s,
            json={
                "name": name,
                "organisation_id": self.s_branch,
                "category": "full",
                "birth_date": "2003-05-12",
                "national_id_number": national_id("20030512", sequence=next(ID_SEQUENCE)),
            },
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    def issue(self, transfer: str, member: dict[str, Any], **overrides: Any) -> dict[str, Any]:
        case = httpx.post(
            f"{transfer}/v1/transfers",
            headers=self.s,
            json={
                "member_id": member["id"],
                "destination": "other_tenant",
                "receiving_tenant": self.receiver,
                "receiving_org_id": self.r_branch,
                "reason": "毕业就业",
                **overrides,
            },
        )
        assert case.status_code == 201, case.text
        case_id = case.json()["id"]
        assert (
            httpx.post(f"{transfer}/v1/transfers/{case_id}/branch-approval", headers=self.s).status_code
            == 200
        )
        approved = httpx.post(
            f"{transfer}/v1/transfers/{case_id}/committee-approval", headers=self.s, json=APPROVAL
        )
        assert approved.status_code == 200, approved.text
        return self.until(transfer, case_id, "letter_issued")

    def until(self, transfer: str, case_id: str, state: str) -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            case: dict[str, Any] = httpx.get(f"{transfer}/v1/transfers/{case_id}", headers=self.s).json()
            return (
                case if case["state"] == state and not case["next_step"].startswith("the registry") else None
            )

        return eventually(probe, timeout=60, what=f"case {case_id} {state}")


def test_one_relay_per_service_publishes_and_the_other_instance_takes_over_when_it_dies(pair: Pair) -> None:
    for name in ("registry", "transfer"):
        assert len(pair.relay_holders(name)) == 1, f"exactly one {name} relay holds the lock"
    # Kill whichever transfer instance holds it: the other takes over, and what is stored after goes out.
    holder = pair.relay_holders("transfer")[0]
    victim = pair.b["transfer"] if holder == "transfer-b" else pair.running.platform.services["transfer"]
    survivor = pair.running.url("transfer") if victim is pair.b["transfer"] else pair.b["transfer"].base_url
    victim.kill()
    killed_at = time.monotonic()
    eventually(
        lambda: len(pair.relay_holders("transfer")) == 1 and pair.relay_holders("transfer") != [holder],
        timeout=30,
        what="the other transfer instance to take the relay over",
    )
    took = time.monotonic() - killed_at
    tenants = Tenants(pair)
    case = tenants.issue(survivor, tenants.register(pair.running.url("registry")))
    assert case["letter"]["name"] == "李明", "the hold request went out through the new relay and came back"
    victim.start()
    victim.wait_ready(90)
    assert len(pair.relay_holders("transfer")) == 1, "the restarted instance waits: still one relay"
    print(f"relay take-over after SIGKILL: {took:.2f} s")


def test_shared_consumers_and_projections_do_each_thing_once(pair: Pair) -> None:
    tenants = Tenants(pair)
    registries, transfers = pair.urls("registry"), pair.urls("transfer")
    # Registrations and transfers spread over both instances of each service, concurrently.
    with ThreadPoolExecutor(6) as pool:
        members = list(pool.map(lambda i: tenants.register(registries[i % 2], f"成员{i}"), range(12)))
        cases = list(pool.map(lambda im: tenants.issue(transfers[im[0] % 2], im[1]), enumerate(members)))
    assert len({c["id"] for c in cases}) == 12
    member_ids = [m["id"] for m in members]
    running = pair.running

    # Projections: one read-model row per member and case.
    # Read models follow their event logs a moment later: wait for the last hold, then count rows.
    def holds() -> list[tuple[object, ...]] | None:
        rows = running.sql(
            "registry", "SELECT id::text, hold_case_id FROM members WHERE id::text = ANY(%s)", member_ids
        )
        return rows if all(hold for _, hold in rows) and len(rows) >= 12 else None

    assert len(eventually(holds, what="every member's hold in the registry's read model")) == 12
    eventually(
        lambda: (
            running.sql(
                "transfer", "SELECT count(*) FROM transfer_cases WHERE member_id::text = ANY(%s)", member_ids
            )[0][0]
            >= 12
            or None
        ),
        what="every case in transfer's read model",
    )
    assert (
        running.sql(
            "transfer", "SELECT count(*) FROM transfer_cases WHERE member_id::text = ANY(%s)", member_ids
        )[0][0]
        == 12
    )
    # Consumers: the registry placed each hold once (one Held event per member), notify wrote each item once.
    for member_id in member_ids:
        history = httpx.get(f"{registries[1]}/v1/members/{member_id}/history", headers=tenants.s).json()
        holds = [h for h in history if h["type"] == "HoldPlaced"]
        assert len(holds) == 1, f"member {member_id} held {len(holds)} times: {[h['type'] for h in history]}"
    eventually(
        lambda: (
            running.sql("notify", "SELECT count(*) FROM inbox_items WHERE tenant_id = %s", tenants.sender)[0][
                0
            ]
            > 0
            or None
        ),
        what="notify's inbox",
    )
    duplicates = running.sql(
        "notify",
        "SELECT count(*) - count(DISTINCT (event_id, recipient_role, "
        "coalesce(recipient_org, ''), coalesce(recipient_subject, ''))) "
        "FROM inbox_items WHERE tenant_id = %s",
        tenants.sender,
    )[0][0]
    assert duplicates == 0


def test_a_deadline_fires_once_although_both_schedulers_see_it_due(pair: Pair) -> None:
    tenants = Tenants(pair)
    cases = [
        tenants.issue(
            pair.urls("transfer")[i % 2], tenants.register(pair.urls("registry")[i % 2]), graduate=True
        )
        for i in range(3)
    ]
    # Both instances' clocks past the letters' expiry (90 days): both schedulers find the rows due together.
    for url in pair.urls("transfer"):
        assert httpx.post(f"{url}/_test/clock/advance", json={"seconds": 95 * 86400}).status_code == 200
    for case in cases:
        tenants.until(pair.urls("transfer")[1], case["id"], "expired")
    # Each deadline row fired (a case has one expiry and a reminder per day before), none left due.
    due = pair.running.sql(
        "transfer",
        "SELECT count(*) FROM deadlines WHERE fired_at IS NULL AND cancelled_at IS NULL "
        "AND kind = 'transfer.expiry' AND subject_id = ANY(%s)",
        [c["id"] for c in cases],
    )
    assert due[0][0] == 0
    for case in cases:
        history = httpx.get(
            f"{pair.urls('transfer')[0]}/v1/transfers/{case['id']}/history", headers=tenants.s
        ).json()
        steps = [str(h["step"]) for h in history]
        assert steps.count("letter_expired") == 1 and steps.count("lift") == 1, " ".join(steps)
        reminders = [h["days_before"] for h in history if h["step"] == "letter_expiry_reminder"]
        assert len(reminders) == len(set(reminders)), f"a reminder sent twice: {reminders}"
