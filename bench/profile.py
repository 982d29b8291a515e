"""`python -m bench.profile`: where one registration's commits and CPU go, per service, on the whole platform.

Starts PostgreSQL, NATS and all four services, measures the idle rates, then N sequential registrations, and
prints commits per registration per service database and CPU ms per registration per process; with
`--transfers N`, the same per saga step over N transfers one after the other. `--statements`
logs every statement PostgreSQL runs during the registrations (log_statement = all) into the kept data folder
and prints what each commit was, per registration and service database (bench.statements);
`--py-spy SERVICE` records a flame graph of that service during the registrations (needs py-spy and ptrace).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench import statements
from bench.__main__ import Stack
from bench.costs import idle_rates, per_operation
from bench.registrations import MEMBER
from bench.stats import bearer, found_branch
from bench.transfers import STEPS_PER_TRANSFER, prepare, transfers
from lianxin.config import SERVICES
from shared.auth import issue_dev_token
from shared.devstack import EmbeddedPostgres, free_port


async def at_once(registry: str, token: str, branch: str, registrations: int, clients: int) -> None:
    """`registrations` POSTs from `clients` clients at once, each sending its share back to back."""
    body = {**MEMBER, "organisation_id": branch}
    limits = httpx.Limits(max_connections=clients + 2)
    async with httpx.AsyncClient(
        base_url=registry, headers=bearer(token), timeout=30, limits=limits
    ) as client:

        async def share(count: int) -> None:
            for _ in range(count):
                (await client.post("/v1/members", json=body)).raise_for_status()

        await asyncio.gather(*(share(registrations // clients) for _ in range(clients)))
        await asyncio.gather(*(share(1) for _ in range(registrations % clients)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--registrations", type=int, default=50)
    parser.add_argument("--idle-seconds", type=float, default=20)
    parser.add_argument(
        "--transfers",
        type=int,
        default=0,
        help="then this many transfers one after the other: costs per saga step",
    )
    parser.add_argument(
        "--clients",
        type=int,
        default=1,
        help="the registrations from this many clients at once, each its share back to back (not sequential)",
    )
    parser.add_argument("--statements", action="store_true")
    parser.add_argument("--py-spy", choices=SERVICES)
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="lianxin-profile-"))
    stack = Stack(root, EmbeddedPostgres(root / "postgres", free_port()))
    try:
        stack.pg.start()
        nats = stack.start_nats("nats")
        platform = stack.start_platform(nats, SERVICES, "prof")
        token = issue_dev_token(root / "dev-signing-key.pem", tenant="bench-profile", roles=["committee"])
        registry = platform.url("registry")
        branch = found_branch(registry, bearer(token), "剖析")
        with httpx.Client(base_url=registry, headers=bearer(token), timeout=30) as client:
            for _ in range(20):  # warm
                client.post("/v1/members", json={**MEMBER, "organisation_id": branch}).raise_for_status()
            idle = idle_rates(stack.pg, nats, platform, args.idle_seconds)
            spy: subprocess.Popen[bytes] | None = None
            rate = [0.0]  # registrations per second while they ran

            def run() -> None:
                nonlocal spy
                if args.statements:
                    stack.pg.run_sql("ALTER SYSTEM SET log_statement = 'all'")
                    stack.pg.run_sql("ALTER SYSTEM SET log_line_prefix = '%m [%p] %d '")
                    stack.pg.run_sql("SELECT pg_reload_conf()")
                if args.py_spy:
                    process = platform.services[args.py_spy].process
                    assert process is not None
                    spy = subprocess.Popen(
                        [
                            str(Path(sys.executable).parent / "py-spy"),
                            "record",
                            "-p",
                            str(process.pid),
                            "-o",
                            str(root / f"{args.py_spy}.txt"),
                            "-f",
                            "raw",
                            "-r",
                            "100",
                            "--nonblocking",
                        ]
                    )
                    time.sleep(1)
                started = time.perf_counter()
                if args.clients > 1:
                    asyncio.run(at_once(registry, token, branch, args.registrations, args.clients))
                else:
                    for _ in range(args.registrations):
                        client.post(
                            "/v1/members", json={**MEMBER, "organisation_id": branch}
                        ).raise_for_status()
                rate[0] = args.registrations / (time.perf_counter() - started)

            def settle() -> None:
                time.sleep(3)
                if args.statements:
                    stack.pg.run_sql("ALTER SYSTEM SET log_statement = 'none'")
                    stack.pg.run_sql("SELECT pg_reload_conf()")
                if spy is not None:
                    spy.send_signal(2)
                    spy.wait(30)

            cost = per_operation(stack.pg, nats, platform, idle, args.registrations, run, settle)
        report: dict[str, Any] = {
            "idle": idle,
            "clients": args.clients,
            "registrations_per_second": rate[0],
            "registration": cost,
        }
        if args.statements:
            # What each commit was, per registration (idle commits in the window included, not subtracted).
            report["registration_commits_by_statement"] = statements.report(
                stack.pg.log_file,
                [f"{platform.db_prefix}_{name}" for name in cost["commits_per_operation"]],
                args.registrations,
            )
        if args.transfers:
            sides = prepare(platform, root / "dev-signing-key.pem", args.transfers)

            def transfer_all() -> None:
                result = asyncio.run(
                    transfers(platform.url("transfer"), sides, sides.members, 1, 3600, platform.nats_url)
                )
                if result["failed"]:
                    raise RuntimeError(f"transfers failed: {result['first_errors']}")

            report["saga_step"] = per_operation(
                stack.pg, nats, platform, idle, args.transfers * STEPS_PER_TRANSFER, transfer_all
            )
        print(json.dumps(report, indent=2))
    finally:
        stack.stop()
        print(f"data kept in {root}" if args.statements or args.py_spy else "", file=sys.stderr)
        if not (args.statements or args.py_spy):
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
