"""`python -m bench.saga`: the transfer phase of `make bench` alone, and where a transfer's time goes.

Starts PostgreSQL, NATS, the registry and transfer (as `make bench` does), measures the bare POST → insert →
JetStream ack baseline at 1 and 8 clients, then transfers at 1 and 8 clients with CPU ms per saga step, and
then reads both services' streams back: each published event carries its CloudEvent `time` (when the service
created the event, before its commit) and JetStream's stored time (when the relay's publish reached the
stream). Per hop of the transfers run at one client, the median of:

- `created → stored`: the service's commit, the NOTIFY, the relay's wake-up and its publish;
- `stored → reaction`: the other service's consumer receiving the message and its reaction creating the answer
  (the answer's `time`), i.e. delivery, fetch and the reaction's reads.

Figures only, never pass/fail; say the load average beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import nats

from bench.__main__ import Stack
from bench.consumer_drain import busy_frames
from bench.costs import cpu_by_process
from bench.transfers import STEPS_PER_TRANSFER, baseline, run_transfers
from shared.devstack import EmbeddedPostgres, free_port

STREAMS = ("LIANXIN_TRANSFER", "LIANXIN_REGISTRY")


async def stored_events(nats_url: str) -> list[dict[str, Any]]:
    """Every message of both streams: type, correlation, the event's own time and the stream's stored time."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        out = []
        for stream in STREAMS:
            info = await js.stream_info(stream)
            for seq in range(info.state.first_seq, info.state.last_seq + 1):
                msg = await js.get_msg(stream, seq)
                body = json.loads(msg.data or b"{}")
                assert msg.time is not None
                out.append(
                    {
                        "stream": stream,
                        "type": body["type"],
                        "case": body.get("data", {}).get("case_id") or body.get("subject"),
                        "created": datetime.fromisoformat(body["time"]).timestamp(),
                        "stored": msg.time.timestamp(),
                    }
                )
        return out
    finally:
        await nc.close()


def hops(events: list[dict[str, Any]], cases: set[str]) -> list[tuple[str, float, float]]:
    """(step, created → stored ms, stored → next event created ms) medians over the given cases, in saga order."""
    by_case: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        if event["case"] in cases:
            by_case[event["case"]].append(event)
    rows: dict[str, list[tuple[float, float]]] = defaultdict(list)
    order: list[str] = []
    for chain in by_case.values():
        chain.sort(key=lambda e: e["created"])
        for index, event in enumerate(chain):
            name = f"{event['stream'].removeprefix('LIANXIN_').lower()}: {event['type']}"
            following = chain[index + 1]["created"] if index + 1 < len(chain) else event["stored"]
            rows[name].append((event["stored"] - event["created"], following - event["stored"]))
            if name not in order:
                order.append(name)
    return [
        (
            name,
            1000 * statistics.median(a for a, _ in rows[name]),
            1000 * statistics.median(b for _, b in rows[name]),
        )
        for name in order
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.saga", description=__doc__)
    parser.add_argument("--seconds", type=int, default=2, help="length of each timed phase")
    parser.add_argument("--members", type=int, default=16, help="members to transfer (half per run)")
    parser.add_argument(
        "--poll", action="store_true", help="wait by reading the case every 20 ms, not on the published step"
    )
    parser.add_argument("--keep-data", action="store_true", help="keep the servers' data and service logs")
    parser.add_argument(
        "--py-spy",
        choices=("registry", "transfer"),
        help="record that service during the transfers (needs ptrace)",
    )
    args = parser.parse_args(argv)
    spied: dict[str, Any] = {}
    root = Path(tempfile.mkdtemp(prefix="lianxin-saga-"))
    stack = Stack(root, EmbeddedPostgres(root / "postgres", free_port()))
    load_before = os.getloadavg()
    try:
        stack.pg.start()
        nats_server = stack.start_nats("nats")
        platform = stack.start_platform(nats_server, ("registry", "transfer"), "saga")
        base8 = asyncio.run(baseline(stack.pg.dsn(), nats_server.url, 8, args.seconds))
        base1 = asyncio.run(baseline(stack.pg.dsn(), nats_server.url, 1, args.seconds))
        cpu_before = cpu_by_process(stack.pg, nats_server, platform)
        spy = _spy(platform.services[args.py_spy].process, root / "spy.txt") if args.py_spy else None
        result = run_transfers(
            platform,
            root / "dev-signing-key.pem",
            members=args.members,
            seconds=args.seconds,
            cpu=lambda: sum(cpu_by_process(stack.pg, nats_server, platform).values()),
            hints=not args.poll,
        )
        cpu_after = cpu_by_process(stack.pg, nats_server, platform)
        if spy is not None:
            spy.send_signal(2)
            spy.wait(30)
            spied = busy_frames(root / "spy.txt", top=40)
        events = asyncio.run(stored_events(nats_server.url))
    finally:
        stack.stop()
        if args.keep_data:
            print(f"data and logs kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    load_after = os.getloadavg()
    one, eight = result["runs"]
    print(f"load average before {load_before[0]:.2f} {load_before[1]:.2f}, after {load_after[0]:.2f}")
    print(
        f"baseline: 1 client {base1['per_second']:.1f}/s p50 {base1['p50_ms']:.1f} ms; "
        f"8 clients {base8['per_second']:.1f}/s"
    )
    for run in (one, eight):
        print(
            f"transfers at {run['concurrency']}: {run['completed']} done, {run['failed']} failed, "
            f"completion p50 {run['completion_p50_ms']:.0f} ms p99 {run['completion_p99_ms']:.0f} ms, "
            f"{run['saga_steps_per_second']:.1f} steps/s, "
            f"CPU {run.get('cpu_ms_per_saga_step', 0):.1f} ms/step, "
            f"{run['reads_while_waiting_per_transfer']:.1f} reads while waiting per transfer"
        )
    print(
        "client's steps at one client (p50, ms): "
        + ", ".join(f"{name} {ms:.1f}" for name, ms in one["step_p50_ms"].items())
    )
    steps = sum(run["completed"] for run in result["runs"]) * STEPS_PER_TRANSFER
    print(
        "CPU ms per saga step by process, both runs (the prepared members' registrations included): "
        + ", ".join(f"{name} {1000 * (cpu_after[name] - cpu_before[name]) / steps:.1f}" for name in cpu_after)
    )
    print(
        f"ratios: completion p50 ÷ bare p50 = {one['completion_p50_ms'] / base1['p50_ms']:.0f} ×; "
        f"steps/s at 8 ÷ bare at 8 = {eight['saga_steps_per_second'] / base8['per_second']:.3f}"
    )
    # The one-client run's cases: the first transfers (one after the other, before the eight-client run).
    opened: dict[str, float] = {}
    for e in events:
        if e["stream"] == "LIANXIN_TRANSFER":
            opened[e["case"]] = min(opened.get(e["case"], e["created"]), e["created"])
    counts: dict[str, int] = defaultdict(int)
    for e in events:
        counts[e["type"]] += 1
    print(
        "messages on both streams by type: "
        + ", ".join(f"{t.split('.')[-2]} {n}" for t, n in sorted(counts.items()))
    )
    ordered = sorted(opened, key=opened.__getitem__)
    for label, cases in (
        ("one client", ordered[: one["completed"]]),
        ("eight clients", ordered[one["completed"] :]),
    ):
        print(f"hops over the {len(cases)} transfers at {label} (medians, ms):")
        print(f"  {'event':60} {'created→stored':>15} {'stored→next':>12}")
        for name, stored, following in hops(events, set(cases)):
            print(f"  {name:60} {stored:15.1f} {following:12.1f}")
    if spied:
        print(
            f"{args.py_spy} under py-spy, {spied['busy_samples']} busy samples; share passing through each frame:"
        )
        for frame, share in spied["through"].items():
            print(f"  {share:6.3f} {frame}")
    return 0


def _spy(process: Any, record: Path) -> subprocess.Popen[bytes]:
    """py-spy recording a service at 100 Hz without stopping it, as bench.profile does, only while a thread holds the
    GIL: its CPU in Python, not its waits."""
    assert process is not None
    args = [
        "record",
        "-p",
        str(process.pid),
        "-o",
        str(record),
        "-f",
        "raw",
        "-r",
        "100",
        "--nonblocking",
        "--gil",
    ]
    return subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), *args])


if __name__ == "__main__":
    raise SystemExit(main())
