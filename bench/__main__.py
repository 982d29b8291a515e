"""`make bench`: PostgreSQL insert rate (pgbench), the audit chain's cost (bench/audit.py), registrations over
HTTP, the relay's drain rate, analytics landing that stream, transfers against a bare POST → insert → publish
baseline, the analytics rebuild and statistics, and ratios between them. Figures only, never pass/fail.

Everything runs on an embedded PostgreSQL and embedded NATS servers started here on free ports in a temporary
folder, and every process is stopped at the end, also on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from bench import analytics as analytics_bench
from bench.audit import audit_bench
from bench.costs import cpu_by_process, idle_rates, per_operation, rss_mb
from bench.growth import growth
from bench.inbox import inbox_drain
from bench.lag import relay_lag
from bench.openloop import ceiling, open_loop
from bench.pg import pgbench
from bench.registrations import MEMBER, registrations
from bench.relay import relay_drain, wait_caught_up
from bench.report import growth_table, ratios, table, write_json
from bench.stats import bearer, found_branch
from bench.transfers import baseline, run_transfers
from lianxin.config import SERVICES
from lianxin.platform import Platform
from shared.auth import ensure_dev_keypair, issue_dev_token
from shared.devstack import EmbeddedNats, EmbeddedPostgres, free_port
from shared.devstack.nats import nats_server_binary
from shared.settings import REPO_ROOT

RESULTS = REPO_ROOT / "bench" / "results" / "latest.json"
NATS_CONF = REPO_ROOT / "deploy" / "nats" / "nats.conf"
# One tenant sends every request: the per-tenant limiter (6,000/min by default) would be what we measured.
PLATFORM_ENV = {"TENANT_REQUESTS_PER_MINUTE": "100000000"}
STARTED = time.monotonic()
GENERATOR_PROCESSES = 2
HTTP_TENANT = "bench-http"
GROWTH_TENANT = "bench-growth"


def step(text: str) -> None:
    print(f"· {time.monotonic() - STARTED:5.0f} s  {text}", file=sys.stderr, flush=True)


@dataclass
class Stack:
    """Every server this run starts, so one `stop()` ends them all, newest first."""

    root: Path
    pg: EmbeddedPostgres
    nats: list[EmbeddedNats] = field(default_factory=list)
    platforms: list[Platform] = field(default_factory=list)

    def start_nats(self, name: str) -> EmbeddedNats:
        server = EmbeddedNats(self.root / name, free_port(), config_file=NATS_CONF)
        self.nats.append(server)
        server.start()
        return server

    def start_platform(self, nats: EmbeddedNats, services: tuple[str, ...], db_prefix: str) -> Platform:
        _, public_key = ensure_dev_keypair(self.root)
        platform = Platform(
            admin_url=self.pg.dsn(),
            nats_url=nats.url,
            data_dir=self.root,
            host="127.0.0.1",
            ports={s: free_port() for s in SERVICES},
            public_key=public_key,
            db_prefix=db_prefix,
            services=services,
            extra_env=PLATFORM_ENV,
        )
        self.platforms.append(platform)
        platform.start()
        return platform

    def stop(self) -> None:
        for platform in reversed(self.platforms):
            platform.stop()
        for server in reversed(self.nats):
            server.stop()
        self.pg.stop()


def check_all_alive(platforms: tuple[Platform, ...], phase: str) -> None:
    for platform in platforms:
        check_alive(platform, phase)


def check_alive(platform: Platform, phase: str, names: tuple[str, ...] | None = None) -> None:
    """A service that died during a phase makes its figures meaningless: stop the run and say why."""
    for service in platform.services.values():
        if (names is None or service.name in names) and not service.alive:
            raise RuntimeError(
                f"{service.name} exited during {phase}; end of {service.log_path}:\n{service.log_tail()}"
            )


def registration_costs(
    stack: Stack, nats: EmbeddedNats, platform: Platform, *, registrations: int, idle_seconds: float
) -> dict[str, Any]:
    """Idle commits per service, then N sequential registrations: commits per service database and CPU ms per
    process, per registration, with the idle rates subtracted (bench.costs)."""
    token = issue_dev_token(stack.root / "dev-signing-key.pem", tenant="bench-costs", roles=["committee"])
    registry = platform.url("registry")
    branch = found_branch(registry, bearer(token), "成本")
    body = {**MEMBER, "organisation_id": branch}
    with httpx.Client(base_url=registry, headers=bearer(token), timeout=30) as client:
        for _ in range(20):
            client.post("/v1/members", json=body).raise_for_status()
        idle = idle_rates(stack.pg, nats, platform, idle_seconds)

        def run() -> None:
            for _ in range(registrations):
                client.post("/v1/members", json=body).raise_for_status()

        return {
            "idle": idle,
            "registration": per_operation(stack.pg, nats, platform, idle, registrations, run),
        }


def measure(
    stack: Stack,
    *,
    seconds: int,
    relay_members: int,
    transfer_members: int,
    with_transfers: bool,
    costs_registrations: int = 50,
    idle_seconds: float = 20,
    rebuild_events: int = 100_000,
    notify_limit_s: float = 1200,
) -> dict[str, Any]:
    root, pg = stack.root, stack.pg
    results: dict[str, Any] = {}
    load_before = os.getloadavg()[0]  # other work on the machine moves every figure: say how busy it was
    step("embedded PostgreSQL")
    pg.start()
    results["pgbench"] = []
    for clients in (1, 4):
        step(f"pgbench, {clients} client(s), {seconds} s")
        results["pgbench"].append(pgbench(pg, root, clients=clients, seconds=seconds))

    step(f"audit chain: appends with and without it, {seconds} s each, then the verification walk")
    results["audit"] = audit_bench(pg, seconds=seconds)

    step("NATS and the whole platform: idle commits, then commits and CPU per registration")
    nats = stack.start_nats("nats-costs")
    platform = stack.start_platform(nats, SERVICES, "benchcost")
    results["costs"] = registration_costs(
        stack, nats, platform, registrations=costs_registrations, idle_seconds=idle_seconds
    )
    check_alive(platform, "the cost phase")
    results["rss_mb_after_costs"] = rss_mb(platform)
    platform.stop()
    nats.stop()

    step("NATS and the platform (registry, notify)")
    nats = stack.start_nats("nats-registrations")
    platform = stack.start_platform(nats, ("registry", "notify"), "benchreg")
    token = issue_dev_token(root / "dev-signing-key.pem", tenant=HTTP_TENANT, roles=["committee"])
    registry = platform.url("registry")
    branch = found_branch(registry, bearer(token), "压测")
    results["http_registrations"] = []
    for index, concurrency in enumerate((1, 8)):
        step(f"POST /v1/members, {concurrency} client(s), {seconds} s")
        warmup = 20 if index == 0 else 0
        results["http_registrations"].append(
            asyncio.run(
                registrations(
                    registry, token, branch, concurrency=concurrency, seconds=seconds, warmup=warmup
                )
            )
        )
        check_alive(platform, f"the HTTP phase with {concurrency} client(s)")

    step(f"load generator's own ceiling against GET /healthz, {GENERATOR_PROCESSES} processes, {seconds} s")
    results["generator_ceiling"] = ceiling(
        f"{registry}/healthz", processes=GENERATOR_PROCESSES, seconds=seconds
    )
    half = max(1.0, max(r["per_second"] for r in results["http_registrations"]) / 2)
    step(f"open loop: POST /v1/members at {half:.1f}/s (half the measured maximum), {seconds} s")
    results["open_loop"] = open_loop(
        f"{registry}/v1/members",
        token=token,
        body={**MEMBER, "organisation_id": branch},
        rate=half,
        seconds=seconds,
        processes=GENERATOR_PROCESSES,
    )
    check_alive(platform, "the open-loop phase")
    step("relay lag: waiting for the relay to publish what the open loop left, then the same rate again")
    asyncio.run(wait_caught_up(platform.services["registry"].env["DATABASE_URL"], 300))
    results["relay_lag"] = asyncio.run(
        relay_lag(
            registry, nats.url, token=token, tenant=HTTP_TENANT, branch=branch, rate=half, seconds=seconds
        )
    )
    check_alive(platform, "the relay-lag phase")

    # The relay alone in the registry service: no consumer of its stream competes for the CPUs while it
    # drains (notify, busy with a backlog, also outlasts its 15 s stop timeout and gets SIGKILLed).
    for name, service in platform.services.items():
        if name != "registry":
            service.stop()
    step(f"relay: {relay_members} members stored with the registry stopped, then drained")
    results["relay"] = relay_drain(platform, nats.url, relay_members)
    check_alive(platform, "the relay phase", ("registry",))
    step(f"notify: starting on the relay's backlog, until its {relay_members} registrations are in the inbox")
    results["notify_inbox"] = asyncio.run(
        inbox_drain(
            platform.services["notify"],
            pg.dsn(f"{platform.db_prefix}_notify"),
            results["relay"]["tenant"],
            relay_members,
            limit_s=notify_limit_s,
        )
    )
    check_alive(platform, "the notify backlog phase")
    platform.services["notify"].stop()
    step("analytics: landing the registry stream the relay just filled, from its first message")
    _, public_key = ensure_dev_keypair(root)
    lander = Platform(
        admin_url=pg.dsn(),
        nats_url=nats.url,
        data_dir=root,
        host="127.0.0.1",
        ports={s: free_port() for s in SERVICES},
        public_key=public_key,
        db_prefix="benchana",
        services=("analytics",),
        extra_env=PLATFORM_ENV,
    )
    stack.platforms.append(lander)
    lander.provision()
    results["analytics_landing"] = analytics_bench.landing(lander, nats.url)
    check_alive(lander, "the analytics landing")
    lander.stop()
    platform.stop()
    nats.stop()
    if with_transfers:
        # A fresh NATS: the transfer consumer must not first wade through the registrations above.
        step("a fresh NATS and the platform (registry, transfer)")
        nats = stack.start_nats("nats-transfers")
        platform = stack.start_platform(nats, ("registry", "transfer"), "benchxfer")
        step(f"bare POST → insert → JetStream ack, 8 clients, {seconds} s")
        results["baseline"] = asyncio.run(baseline(pg.dsn(), nats.url, 8, seconds))
        step(f"bare POST → insert → JetStream ack, 1 client, {seconds} s")
        results["baseline_c1"] = asyncio.run(baseline(pg.dsn(), nats.url, 1, seconds))
        check_alive(platform, "the baseline")
        step(f"transfers to completion, 1 then 8 clients, up to {seconds} s each")
        results["transfers"] = run_transfers(
            platform,
            root / "dev-signing-key.pem",
            members=transfer_members,
            seconds=seconds,
            cpu=lambda: sum(cpu_by_process(pg, nats, platform).values()),
        )
        check_alive(platform, "the transfers")
    step(f"analytics: {rebuild_events} generated events published to a fresh NATS, then rebuilt")
    nats = stack.start_nats("nats-analytics")
    results["analytics_rebuild"] = analytics_bench.rebuild(nats.url, root, rebuild_events)
    nats.stop()
    step("analytics: each statistic over a year of 10 tenants")
    results["analytics_statistics"] = analytics_bench.statistics()
    results["environment"] = environment(pg, seconds, load_before)
    return results


def measure_growth(
    stack: Stack, *, members: int, seconds: int, runs: int, processes: int, budget_s: float | None
) -> dict[str, Any]:
    """The growth phase alone (`--growth`): the registry's figures before and after `members` join the roll."""
    load_before = os.getloadavg()[0]
    step("embedded PostgreSQL, NATS and two registries: one grows, the other is measured beside it")
    stack.pg.start()
    nats = stack.start_nats("nats-growth")
    platform = stack.start_platform(nats, ("registry",), "benchgrow")
    beside = stack.start_platform(stack.start_nats("nats-beside"), ("registry",), "benchbeside")
    token = issue_dev_token(stack.root / "dev-signing-key.pem", tenant=GROWTH_TENANT, roles=["committee"])
    started = time.monotonic()
    results = {
        "growth": growth(
            platform,
            beside,
            token,
            GROWTH_TENANT,
            members=members,
            seconds=seconds,
            runs=runs,
            processes=processes,
            budget_s=budget_s,
            step=step,
            check=lambda phase: check_all_alive((platform, beside), f"the growth phase ({phase})"),
        )
    }
    results["growth"]["wall_seconds"] = time.monotonic() - started
    results["environment"] = environment(stack.pg, seconds, load_before)
    return results


def environment(pg: EmbeddedPostgres, seconds: int, load_before: float) -> dict[str, Any]:
    version = str(pg.run_sql("SHOW server_version")[0][0]).split()[0]
    nats = subprocess.run(
        [str(nats_server_binary()), "--version"], capture_output=True, text=True, check=False
    )
    return {
        "postgres": f"PostgreSQL {version}",
        "nats_server": nats.stdout.strip().rsplit(" ", 1)[-1],
        "cpus": os.cpu_count(),
        "seconds": seconds,
        "load_1min_before": load_before,
        "load_1min_after": os.getloadavg()[0],
        "python": sys.version.split()[0],
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM unwinds like Ctrl-C, through every `finally`


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--seconds", type=int, help="length of each timed phase (default 10, or 2 with --quick)"
    )
    parser.add_argument("--quick", action="store_true", help="2-second phases and smaller backlogs")
    parser.add_argument(
        "--relay-members",
        type=int,
        help="members in the relay's backlog, which notify then drains into its inbox "
        "(default 10000, or 1500 with --quick)",
    )
    parser.add_argument("--no-transfers", action="store_true", help="skip the baseline and the transfers")
    parser.add_argument(
        "--rebuild-events",
        type=int,
        help="events the analytics rebuild replays (default 100000, or 20000 with --quick)",
    )
    parser.add_argument(
        "--growth",
        action="store_true",
        help="run the growth phase instead of the others: the registry's figures before and after "
        "--growth-members members join the roll (long)",
    )
    parser.add_argument(
        "--growth-members",
        type=int,
        help="members the growth phase adds (default 100000, or 5000 with --quick)",
    )
    parser.add_argument(
        "--growth-processes", type=int, default=2, help="processes that store the growth phase's members"
    )
    parser.add_argument(
        "--growth-minutes",
        type=float,
        help="stop adding members after this many minutes (at the next 10,000) and measure at that size",
    )
    parser.add_argument("--keep-data", action="store_true", help="keep the servers' data and service logs")
    args = parser.parse_args(argv)
    seconds = args.seconds if args.seconds is not None else (2 if args.quick else 10)
    if seconds < 1 or (args.relay_members is not None and args.relay_members < 1):
        parser.error("--seconds and --relay-members must be at least 1")
    relay_members = args.relay_members or (1500 if args.quick else 10_000)
    transfer_members = 16 if args.quick else max(16, 10 * seconds)  # half per run; runs stop at `seconds`
    signal.signal(signal.SIGTERM, _terminate)
    root = Path(tempfile.mkdtemp(prefix="lianxin-bench-"))
    stack = Stack(root, EmbeddedPostgres(root / "postgres", free_port()))
    try:
        if args.growth:
            results = measure_growth(
                stack,
                members=args.growth_members or (5000 if args.quick else 100_000),
                seconds=seconds,
                runs=30 if args.quick else 100,
                processes=max(1, args.growth_processes),
                budget_s=60 * args.growth_minutes if args.growth_minutes else None,
            )
        else:
            results = measure(
                stack,
                seconds=seconds,
                relay_members=relay_members,
                transfer_members=transfer_members,
                with_transfers=not args.no_transfers,
                costs_registrations=20 if args.quick else 50,
                idle_seconds=10 if args.quick else 20,
                rebuild_events=args.rebuild_events or (20_000 if args.quick else 100_000),
            )
    except KeyboardInterrupt:
        print("interrupted: stopping every process", file=sys.stderr)
        return 130
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):  # a second signal must not cut the clean-up short
            signal.signal(signum, signal.SIG_IGN)
        stack.stop()
        if args.keep_data:
            print(f"data and logs kept in {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    if args.growth:
        print(growth_table(results))
    else:
        results["ratios"] = ratios(results)
        print(table(results))
    write_json(results, RESULTS)
    print(f"\n(also written to {RESULTS.relative_to(REPO_ROOT)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
