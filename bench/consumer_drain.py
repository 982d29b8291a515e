"""`python -m bench.consumer_drain`: how fast notify drains a backlog of registrations, one message at a time
against batches, in alternate runs on one platform.

Each run stops notify, stores N members straight into the registry's event store and lets the registry's relay
publish them (bench.relay: its publish rate is measured on the way), then starts notify with the consumers'
`max_ack_pending` of that run (1: one message per fetch and per transaction, as before ADR 0005; 64: runs of
up to 64 in one transaction) and watches `notify-from-registry` until every message is acknowledged. The rate
counts from the first acknowledgement (notify's start-up excluded) to the last. Notify's commits come from
`pg_stat_database` (each reading waits for PostgreSQL's statistics flush), the load average is printed beside.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, TypeVar

import nats

from bench.__main__ import Stack
from bench.costs import STATS_FLUSH_S, commits
from bench.inbox import inbox_drain
from bench.relay import relay_drain
from lianxin.config import SERVICES
from lianxin.platform import Platform
from shared.devstack import EmbeddedPostgres, free_port
from shared.settings import REPO_ROOT

LAYOUT = REPO_ROOT / "deploy" / "nats" / "jetstream.json"
STREAM, DURABLE = "LIANXIN_REGISTRY", "notify-from-registry"
OTHERS = ("learning-from-registry", "transfer-from-registry", "analytics-from-registry")
POLL_S = 0.05
T = TypeVar("T")
U = TypeVar("U")


def layout_with(root: Path, max_ack_pending: int) -> Path:
    """deploy/nats/jetstream.json with every service consumer's max_ack_pending set (analytics' kept)."""
    layout = json.loads(LAYOUT.read_text(encoding="utf-8"))
    for consumer in layout["consumers"]:
        if consumer["service"] != "analytics":
            consumer["max_ack_pending"] = max_ack_pending
    path = root / f"jetstream-{max_ack_pending}.json"
    path.write_text(json.dumps(layout), encoding="utf-8")
    return path


async def watch_drain(nats_url: str, limit_s: float) -> dict[str, Any]:
    """From the first acknowledgement to nothing pending: messages, seconds, rate."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        start = await js.consumer_info(STREAM, DURABLE)
        floor0 = start.ack_floor.stream_seq
        target = floor0 + start.num_pending + start.num_ack_pending
        began = time.perf_counter()
        first: tuple[float, int] | None = None
        while True:
            info = await js.consumer_info(STREAM, DURABLE)
            now = time.perf_counter()
            floor = info.ack_floor.stream_seq
            if first is None and floor > floor0:
                first = (now, floor)
            if floor >= target and info.num_ack_pending == 0:
                break
            if now - began > limit_s:
                raise TimeoutError(f"notify did not drain {target - floor0} messages within {limit_s:.0f} s")
            await asyncio.sleep(POLL_S)
    finally:
        await nc.close()
    assert first is not None
    seconds = now - first[0]
    drained = target - first[1]
    return {
        "messages": target - floor0,
        "first_ack_after_s": first[0] - began,
        "measured_messages": drained,
        "seconds": seconds,
        "per_second": drained / seconds if seconds > 0 else None,
    }


async def others_idle(nats_url: str, limit_s: float) -> None:
    """The other consumers of the registry's stream have taken the backlog too, so they do not share the machine
    with notify's drain."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        deadline = time.perf_counter() + limit_s
        for durable in OTHERS:
            while True:
                info = await js.consumer_info(STREAM, durable)
                if info.num_pending == 0 and info.num_ack_pending == 0:
                    break
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"{durable} did not drain within {limit_s:.0f} s")
                await asyncio.sleep(POLL_S)
    finally:
        await nc.close()


async def both(first: Awaitable[T], second: Awaitable[U]) -> tuple[T, U]:
    return await asyncio.gather(first, second)


def busy_frames(raw: Path, top: int = 25) -> dict[str, Any]:
    """From a py-spy raw record: the share of busy samples (not waiting in a selector, a queue or a lock) whose
    stack passes through each function, the largest first."""
    idle = ("select (selectors.py", "wait (threading.py", "_worker (", "get (queue.py", "run_forever (")
    # Frames every busy stack passes through say nothing; samples of the start-up (imports) are not the drain's.
    generic = (
        "threading.py",
        "anyio/",
        "<frozen",
        "asyncio/",
        "uvicorn/",
        "__main__.py",
        "shared/threads.py",
    )
    busy = 0
    through: dict[str, int] = {}
    for line in raw.read_text(encoding="utf-8").splitlines():
        stack, _, count_text = line.rpartition(" ")
        frames = stack.split(";")
        if not frames or any(frames[-1].startswith(i) for i in idle) or "importlib" in stack:
            continue
        count = int(count_text)
        busy += count
        for frame in set(frames):
            if not any(g in frame for g in generic):
                through[frame] = through.get(frame, 0) + count
    ranked = sorted(through.items(), key=lambda item: -item[1])[:top]
    return {"busy_samples": busy, "through": {frame: round(n / busy, 3) for frame, n in ranked if busy}}


def run_once(
    stack: Stack,
    platform: Platform,
    nats_url: str,
    members: int,
    max_ack_pending: int,
    *,
    spy: bool = False,
    gil: bool = False,
    code: str | None = None,
) -> dict[str, Any]:
    notify = platform.services["notify"]
    notify.stop()
    # `code`: notify (and what it imports) from other source folders, ahead of this checkout's on its path.
    if code is None:
        notify.env.pop("PYTHONPATH", None)
    else:
        notify.env["PYTHONPATH"] = code
    load_before = os.getloadavg()
    relay = relay_drain(platform, nats_url, members)
    notify.env["JETSTREAM_CONFIG"] = str(layout_with(stack.root, max_ack_pending))
    asyncio.run(others_idle(nats_url, 1800))
    time.sleep(STATS_FLUSH_S)
    commits_before = commits(stack.pg, platform)["notify"]
    notify.start()
    recorder: subprocess.Popen[bytes] | None = None
    record = stack.root / f"notify-{max_ack_pending}-{time.monotonic_ns()}.txt"
    if spy and notify.process is not None:
        spy_args = [
            "-p",
            str(notify.process.pid),
            "-o",
            str(record),
            "-f",
            "raw",
            "-r",
            "200" if gil else "50",
            "--nonblocking",
            *(["--gil"] if gil else []),
        ]
        recorder = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", *spy_args])
    notify_db = stack.pg.dsn(f"{platform.db_prefix}_notify")
    drained, inbox = asyncio.run(
        both(
            watch_drain(nats_url, 1800),
            inbox_drain(notify, notify_db, relay["tenant"], members, 1800, start=False),
        )
    )
    if recorder is not None:
        recorder.send_signal(signal.SIGINT)
        recorder.wait(60)
    load_after = os.getloadavg()
    time.sleep(STATS_FLUSH_S)
    notify_commits = commits(stack.pg, platform)["notify"] - commits_before
    notify.wait_ready()
    return {
        "code": code or "this checkout",
        "max_ack_pending": max_ack_pending,
        "members": members,
        "relay_published_per_second": relay["published_per_second"],
        "notify_drain": drained,
        "drain_over_relay": (drained["per_second"] or 0) / relay["published_per_second"],
        # #18's aim 4 as `make bench` measures it (bench.inbox): registrations on notify's inbox (its read model).
        "notify_inbox": inbox,
        "inbox_over_relay": (inbox["per_second"] or 0) / relay["published_per_second"],
        # Start-up and idle commits included (a few), so read it as an upper bound per message.
        "notify_commits_per_message": notify_commits / drained["messages"],
        "load_average_1m_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
        **({"notify_py_spy": busy_frames(record)} if recorder is not None and record.exists() else {}),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.consumer_drain", description=__doc__)
    parser.add_argument("--members", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2, help="pairs of runs: one at a time, then batches")
    parser.add_argument("--only", type=int, choices=(1, 64), help="runs of this max_ack_pending only")
    parser.add_argument(
        "--py-spy", action="store_true", help="record notify during each drain (needs ptrace)"
    )
    parser.add_argument(
        "--gil",
        action="store_true",
        help="with --py-spy: only the thread holding the GIL (Python CPU), at 200 Hz",
    )
    parser.add_argument("--keep", action="store_true", help="keep the data folder (and py-spy's records)")
    parser.add_argument(
        "--compare",
        metavar="PYTHONPATH",
        help="each run twice, alternating: notify from this checkout, then from these source folders (e.g. an"
        " earlier commit's shared/src and services/notify/src, exported with git archive) ahead of it",
    )
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="lianxin-drain-"))
    stack = Stack(root, EmbeddedPostgres(root / "postgres", free_port()))
    runs: list[dict[str, Any]] = []
    try:
        stack.pg.start()
        nats_server = stack.start_nats("nats")
        platform = stack.start_platform(nats_server, SERVICES, "drain")
        for _ in range(args.rounds):
            for max_ack_pending in (args.only,) if args.only else (1, 64):
                for code in (None, args.compare) if args.compare else (None,):
                    runs.append(
                        run_once(
                            stack,
                            platform,
                            nats_server.url,
                            args.members,
                            max_ack_pending,
                            spy=args.py_spy,
                            gil=args.gil,
                            code=code,
                        )
                    )
                    print(json.dumps(runs[-1]), file=sys.stderr, flush=True)
        print(json.dumps({"runs": runs}, indent=2))
    finally:
        stack.stop()
        if args.keep:
            print(f"data kept in {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
