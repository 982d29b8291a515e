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
    idle_start = time.perf_counter() - started  # start-up with nothing to relay, subtracted below
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
        started = time.perf_counter()
        service.start()
        while True:
            row = conn.execute("SELECT position FROM relay_position WHERE name = 'registry-relay'").fetchone()
            if row and row[0] >= target:
                break
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
    service.wait_ready()
    # Each member is two stored events (the member and its contact status) and one CloudEvent: report both.
    net = max(elapsed - idle_start, 1e-3)
    return {"stored_events": backlog, "seconds_including_start": elapsed, "idle_start_seconds": idle_start,
            "events_per_second": backlog / net, "published_per_second": events / net}


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__)
    parser.add_argument("--seconds", type=int, default=10, help="length of each timed phase")
    parser.add_argument("--quick", action="store_true", help="2-second phases and a smaller backlog")
    args = parser.parse_args()
    seconds = 2 if args.quick else args.seconds
    backlog = 500 if args.quick else 3000
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
        finally:
            if platform is not None:
                platform.stop()
            nats.stop()
            pg.stop()
    best_pg = max(results["pgbench"].values())
    best_http = max(r["per_second"] for r in results["http_registrations"])
    results["ratios"] = {
        "http_registrations_to_pg_inserts": best_http / best_pg if best_pg else 0.0,
        "relay_events_to_pg_inserts": results["relay"]["events_per_second"] / best_pg if best_pg else 0.0,
    }
    print_table(results)
    out = REPO_ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2))
    print(f"\n(also written to {out / 'latest.json'})")


def print_table(results: dict[str, Any]) -> None:
    print("\nLianxin benchmark (embedded PostgreSQL and NATS on this machine)\n")
    for name, tps in results["pgbench"].items():
        print(f"  pgbench single-row inserts, {name.replace('_', ' '):10}  {tps:10.0f} /s")
    for r in results["http_registrations"]:
        print(f"  POST /v1/members, concurrency {r['concurrency']:<3}         {r['per_second']:10.1f} /s"
              f"   p50 {r['p50_ms']:.1f} ms   p99 {r['p99_ms']:.1f} ms   errors {r['errors']}")
    relay = results["relay"]
    print(f"  relay: {relay['stored_events']} stored events drained      {relay['events_per_second']:10.0f} /s"
          f"   ({relay['published_per_second']:.0f} CloudEvents/s published; net of {relay['idle_start_seconds']:.1f} s"
          " service start-up)")
    for name, value in results["ratios"].items():
        print(f"  ratio {name:38} {value:10.3f}")


if __name__ == "__main__":
    main()
