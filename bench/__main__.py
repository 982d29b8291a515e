"""`make bench`: PostgreSQL insert rate (pgbench), registrations over HTTP, the relay's publish rate, ratios.

Everything runs on embedded servers started here, on free ports, and is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench.transfers import baseline, transfers
from lianxin.platform import Platform
from registry.application import RegistryApplication
from registry.domain import MemberCategory, OrgKind
from shared.auth import ensure_dev_keypair, issue_dev_token
from shared.devstack import EmbeddedNats, EmbeddedPostgres, free_port
from shared.eventstore import persistence_env
from shared.meta import event_meta
from shared.settings import REPO_ROOT

EVENT_TABLE = """
CREATE TABLE IF NOT EXISTS bench_events (
    notification_id bigserial, originator_id uuid NOT NULL, originator_version int NOT NULL,
    topic text NOT NULL, state bytea NOT NULL, PRIMARY KEY (originator_id, originator_version))
"""
SCRIPT = ("INSERT INTO bench_events (originator_id, originator_version, topic, state) "
          "VALUES (gen_random_uuid(), 1, 'lianxin.registry.Member.Registered', convert_to(repeat('x', 300), 'UTF8'));\n")


def pgbench(pg: EmbeddedPostgres, workdir: Path, clients: int, seconds: int) -> float:
    script = workdir / "insert.sql"
    script.write_text(SCRIPT)
    script.chmod(0o644)
    out = subprocess.run(
        [str(pg.bin_path("pgbench")), "-n", "-h", pg.host, "-p", str(pg.port), "-U", "postgres",
         "-c", str(clients), "-j", str(min(clients, 2)), "-T", str(seconds), "-f", str(script), "postgres"],
        capture_output=True, text=True, check=True).stdout
    match = re.search(r"tps = ([\d.]+)", out)
    return float(match[1]) if match else 0.0


async def registrations(registry: str, token: str, branch: str, concurrency: int, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    async with httpx.AsyncClient(base_url=registry, headers={"Authorization": f"Bearer {token}"},
                                 timeout=30) as client:
        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = await client.post("/v1/members", json={
                    "name": "压测党员", "organisation_id": branch, "category": "full"})
                latencies.append(time.perf_counter() - started)
                errors += response.status_code != 201

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {"concurrency": concurrency, "requests": len(latencies), "per_second": len(latencies) / elapsed,
            "p50_ms": 1000 * statistics.median(latencies) if latencies else 0.0,
            "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))] if latencies else 0.0, "errors": errors}


def relay_rate(platform: Platform, admin_url: str, events: int) -> dict[str, Any]:
    """Stop the registry, store a backlog directly, start it again and time the relay until it has caught up."""
    service = platform.services["registry"]
    service.stop()
    started = time.perf_counter()
    service.start()
    service.wait_ready()
    idle_start = time.perf_counter() - started  # start-up with nothing to relay, reported beside the rate
    service.stop()
    env = service.env
    app = RegistryApplication(persistence_env(env["DATABASE_URL"], env["CIPHER_KEY"], create_table=False),
                              platform_secret=env["PLATFORM_SECRET"])
    tenant = f"bench-{uuid.uuid4().hex[:6]}"
    root = app.found_organisation(tenant_id=tenant, code="R", name="党委", kind=OrgKind.PrimaryCommittee,
                                  parent_id=None, meta=event_meta("bench"))
    branch = app.found_organisation(tenant_id=tenant, code="B", name="支部", kind=OrgKind.Branch, parent_id=root.id,
                                    meta=event_meta("bench"))
    batch: list[Any] = []
    for _ in range(events):
        batch.extend(app.new_member_aggregates(member_id=uuid.uuid4(), tenant_id=tenant, organisation=branch,
                                               category=MemberCategory.Full, profile={"name": "压测"},
                                               person_key=None, meta=event_meta("bench")))
        if len(batch) >= 200:
            app.save(*batch)
            batch = []
    if batch:
        app.save(*batch)
    target = app.recorder.max_notification_id() or 0
    app.close()
    db_url = admin_url.rsplit("/", 1)[0] + f"/{platform.db_prefix}_registry"
    with psycopg.connect(db_url, autocommit=True) as conn:
        row = conn.execute("SELECT position FROM relay_position WHERE name = 'registry-relay'").fetchone()
        backlog = target - (row[0] if row else 0)
        initial = row[0] if row else 0
        started = time.perf_counter()
        service.start()
        first_move: tuple[float, int] | None = None
        while True:
            row = conn.execute("SELECT position FROM relay_position WHERE name = 'registry-relay'").fetchone()
            position = row[0] if row else 0
            if first_move is None and position > initial:
                first_move = (time.perf_counter(), position)  # the first batch is out: start-up is over
            if position >= target:
                break
            time.sleep(0.01)
        elapsed = time.perf_counter() - started
    service.wait_ready()
    # Each member is two stored events (the member and its contact status) and one CloudEvent: report both.
    assert first_move is not None
    drained = target - first_move[1]
    drain_seconds = max(time.perf_counter() - first_move[0], 1e-3) if drained else 0.0
    rate = drained / drain_seconds if drained else 0.0
    return {"stored_events": backlog, "seconds_including_start": elapsed, "idle_start_seconds": idle_start,
            "events_per_second": rate, "published_per_second": rate / 2,
            "measured_over_events": drained}


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__)
    parser.add_argument("--seconds", type=int, default=10, help="length of each timed phase")
    parser.add_argument("--quick", action="store_true", help="2-second phases and a smaller backlog")
    args = parser.parse_args()
    seconds = 2 if args.quick else args.seconds
    backlog = 2000 if args.quick else 5000
    transfer_count = 16 if args.quick else 64
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="lianxin-bench-") as tmp:
        root = Path(tmp)
        pg = EmbeddedPostgres(root / "pg", free_port())
        nats = EmbeddedNats(root / "nats", free_port(), config_file=REPO_ROOT / "deploy" / "nats" / "nats.conf")
        platform: Platform | None = None
        try:
            pg.start()
            nats.start()
            pg.run_sql(EVENT_TABLE)
            results["pgbench"] = {f"clients_{c}": pgbench(pg, root, c, seconds) for c in (1, 4)}
            _, public = ensure_dev_keypair(root)
            platform = Platform(admin_url=pg.dsn(), nats_url=nats.url, data_dir=root, host="127.0.0.1",
                                ports={s: free_port() for s in ("registry", "transfer", "learning", "notify")},
                                public_key=public, services=("registry", "notify"))
            platform.start()
            token = issue_dev_token(root / "dev-signing-key.pem", tenant="bench-http", roles=["committee"])
            headers = {"Authorization": f"Bearer {token}"}
            registry = platform.url("registry")
            committee = httpx.post(f"{registry}/v1/organisations", headers=headers, json={
                "code": "R", "name": "党委", "kind": "primary_committee"}).json()
            branch = httpx.post(f"{registry}/v1/organisations", headers=headers, json={
                "code": "B", "name": "支部", "kind": "branch", "parent_id": committee["id"]}).json()
            results["http_registrations"] = [asyncio.run(registrations(registry, token, branch["id"], c, seconds))
                                             for c in (1, 8)]
            results["relay"] = relay_rate(platform, pg.dsn(), backlog)
            platform.stop()
            # A fresh NATS: the transfer consumer must not first wade through the registrations above.
            nats.stop()
            nats = EmbeddedNats(root / "nats2", free_port(), config_file=REPO_ROOT / "deploy" / "nats" / "nats.conf")
            nats.start()
            platform = Platform(admin_url=pg.dsn(), nats_url=nats.url, data_dir=root, host="127.0.0.1",
                                ports={s: free_port() for s in ("registry", "transfer", "learning", "notify")},
                                public_key=public, services=("registry", "transfer"), db_prefix="benchtransfer")
            platform.start()
            results["baseline"] = asyncio.run(baseline(pg.dsn(), nats.url, 8, seconds))
            results["transfers"] = run_transfers(platform, root, count=transfer_count)
        finally:
            if platform is not None:
                platform.stop()
            nats.stop()
            pg.stop()
    best_pg = max(results["pgbench"].values())
    best_http = max(r["per_second"] for r in results["http_registrations"])
    results["ratios"] = {
        "saga_steps_to_baseline_posts": results["transfers"]["saga_steps_per_second"]
        / results["baseline"]["per_second"],
        "http_registrations_to_pg_inserts": best_http / best_pg if best_pg else 0.0,
        "relay_events_to_pg_inserts": results["relay"]["events_per_second"] / best_pg if best_pg else 0.0,
    }
    print_table(results)
    out = REPO_ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2))
    print(f"\n(also written to {out / 'latest.json'})")


def run_transfers(platform: Platform, root: Path, *, count: int) -> dict[str, Any]:
    """A sender with `count` members and a receiver with a branch; transfers driven to completion concurrently."""
    key = root / "dev-signing-key.pem"
    registry = platform.url("registry")
    sides = {}
    for name in ("bench-sender", "bench-receiver"):
        headers = {"Authorization": f"Bearer {issue_dev_token(key, tenant=name, roles=['committee'])}"}
        root_org = httpx.post(f"{registry}/v1/organisations", headers=headers, json={
            "code": "R", "name": f"{name}党委", "kind": "primary_committee"}).json()
        branch = httpx.post(f"{registry}/v1/organisations", headers=headers, json={
            "code": "B", "name": f"{name}支部", "kind": "branch", "parent_id": root_org["id"]}).json()
        sides[name] = (headers, branch["id"])
    sender, sender_branch = sides["bench-sender"]
    receiver, receiver_branch = sides["bench-receiver"]
    members = [httpx.post(f"{registry}/v1/members", headers=sender, json={
        "name": "压测", "organisation_id": sender_branch, "category": "full"}).json()["id"] for _ in range(count)]
    half = len(members) // 2
    runs = [asyncio.run(transfers(registry, platform.url("transfer"), sender, receiver, "bench-receiver",
                                  receiver_branch, batch, concurrency))
            for batch, concurrency in ((members[:half], 1), (members[half:], 8))]
    best = max(runs, key=lambda r: r["saga_steps_per_second"])
    return {**best, "runs": runs}


def print_table(results: dict[str, Any]) -> None:
    print("\nLianxin benchmark (embedded PostgreSQL and NATS on this machine)\n")
    for name, tps in results["pgbench"].items():
        print(f"  pgbench single-row inserts, {name.replace('_', ' '):10}  {tps:10.0f} /s")
    for r in results["http_registrations"]:
        print(f"  POST /v1/members, concurrency {r['concurrency']:<3}         {r['per_second']:10.1f} /s"
              f"   p50 {r['p50_ms']:.1f} ms   p99 {r['p99_ms']:.1f} ms   errors {r['errors']}")
    relay = results["relay"]
    print(f"  relay: {relay['stored_events']} stored events drained      {relay['events_per_second']:10.0f} /s"
          f"   (~{relay['published_per_second']:.0f} CloudEvents/s; after the first batch, over "
          f"{relay['measured_over_events']} events; start-up {relay['idle_start_seconds']:.1f} s not counted)")
    b = results["baseline"]
    print(f"  baseline POST → insert → JetStream ack, c=8    {b['per_second']:10.1f} /s   p50 {b['p50_ms']:.1f} ms"
          f"   p99 {b['p99_ms']:.1f} ms")
    for r in results["transfers"]["runs"]:
        for error in r["first_errors"]:
            print(f"    (a failed transfer: {error})")
        print(f"  transfers to completion, concurrency {r['concurrency']:<3}  {r['transfers_per_second']:10.2f} /s"
              f"   saga steps {r['saga_steps_per_second']:.1f}/s   completion p50 {r['completion_p50_ms']:.0f} ms"
              f"   p99 {r['completion_p99_ms']:.0f} ms   failed {r['failed']}")
    for name, value in results["ratios"].items():
        print(f"  ratio {name:38} {value:10.3f}")


if __name__ == "__main__":
    main()
