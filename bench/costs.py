"""What one operation costs the whole platform: committed transactions per service database and CPU milliseconds
summed over every process (services, PostgreSQL with all its backends, NATS), with the idle rate subtracted.

Commits come from `pg_stat_database.xact_commit`. PostgreSQL publishes a backend's counters when it goes idle,
at most once a second and at the latest ten seconds later, so every reading waits for that flush first.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import psutil

from lianxin.platform import Platform
from shared.devstack import EmbeddedNats, EmbeddedPostgres

STATS_FLUSH_S = 11.0  # PGSTAT_IDLE_INTERVAL (10 s) and a margin


def _tree(pid: int | None) -> list[psutil.Process]:
    if pid is None:
        return []
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def cpu_seconds(pids: Iterable[int | None]) -> float:
    """User and system CPU of these processes and all their children (PostgreSQL backends, workers)."""
    total = 0.0
    for pid in pids:
        for process in _tree(pid):
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
    return total


def cpu_by_process(pg: EmbeddedPostgres, nats: EmbeddedNats, platform: Platform) -> dict[str, float]:
    out = {"postgres": cpu_seconds([pg.pid]), "nats": cpu_seconds([nats.pid])}
    for name, service in platform.services.items():
        out[name] = cpu_seconds([service.process.pid if service.process is not None else None])
    return out


def commits(pg: EmbeddedPostgres, platform: Platform) -> dict[str, int]:
    names = {f"{platform.db_prefix}_{name}": name for name in platform.names}
    rows = pg.run_sql(
        "SELECT datname, xact_commit FROM pg_stat_database WHERE datname IN ("
        + ", ".join(f"'{db}'" for db in names)
        + ")"
    )
    return {names[str(db)]: int(count) for db, count in rows}


@dataclass
class Reading:
    at: float
    commits: dict[str, int]
    cpu: dict[str, float]


def read(pg: EmbeddedPostgres, nats: EmbeddedNats, platform: Platform) -> Reading:
    return Reading(time.perf_counter(), commits(pg, platform), cpu_by_process(pg, nats, platform))


def idle_rates(
    pg: EmbeddedPostgres, nats: EmbeddedNats, platform: Platform, seconds: float
) -> dict[str, Any]:
    """Commits per second per service database and CPU per second per process while nothing happens."""
    time.sleep(STATS_FLUSH_S)  # whatever ran before is published
    before = read(pg, nats, platform)
    time.sleep(seconds)
    after = read(pg, nats, platform)
    elapsed = after.at - before.at
    return {
        "seconds": elapsed,
        "commits_per_second": {k: (after.commits[k] - v) / elapsed for k, v in before.commits.items()},
        "cpu_ms_per_second": {k: 1000 * (after.cpu[k] - v) / elapsed for k, v in before.cpu.items()},
    }


def per_operation(
    pg: EmbeddedPostgres,
    nats: EmbeddedNats,
    platform: Platform,
    idle: dict[str, Any],
    operations: int,
    run: Callable[[], None],
    settle: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Run `run()` (which performs `operations` operations), wait until the platform has settled, and divide
    what it cost, less the idle rate over the same time, by the number of operations."""
    time.sleep(STATS_FLUSH_S)
    before = read(pg, nats, platform)
    run()
    if settle is not None:
        settle()
    time.sleep(STATS_FLUSH_S)
    after = read(pg, nats, platform)
    elapsed = after.at - before.at
    commit_rate, cpu_rate = idle["commits_per_second"], idle["cpu_ms_per_second"]
    commits_each = {
        k: max(0.0, after.commits[k] - v - commit_rate[k] * elapsed) / operations
        for k, v in before.commits.items()
    }
    cpu_each = {
        k: max(0.0, 1000 * (after.cpu[k] - v) - cpu_rate[k] * elapsed) / operations
        for k, v in before.cpu.items()
    }
    return {
        "operations": operations,
        "commits_per_operation": commits_each,
        "cpu_ms_per_operation": cpu_each,
        "cpu_ms_per_operation_total": sum(cpu_each.values()),
    }


def rss_mb(platform: Platform) -> dict[str, float]:
    """Resident memory of each running service (its process and any children), in MB."""
    out: dict[str, float] = {}
    for name, service in platform.services.items():
        if service.alive and service.process is not None:
            total = 0
            for process in _tree(service.process.pid):
                try:
                    total += process.memory_info().rss
                except psutil.NoSuchProcess:
                    continue
            out[name] = total / 2**20
    return out
