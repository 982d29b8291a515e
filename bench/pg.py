"""The embedded PostgreSQL's single-row insert rate, measured by pgbench into an event-store-shaped table."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

from shared.devstack import EmbeddedPostgres

# The shape of eventsourcing's `<name>_events` table: the rate pgbench reaches here is the ceiling for one
# stored event per transaction on this machine (fsync on, synchronous commit, as the services run).
EVENT_TABLE = """
CREATE TABLE IF NOT EXISTS bench_events (
    notification_id bigserial,
    originator_id uuid NOT NULL,
    originator_version integer NOT NULL,
    topic text NOT NULL,
    state bytea NOT NULL,
    PRIMARY KEY (originator_id, originator_version))
"""
# One transaction per script run: one row, a random aggregate id and 300 bytes of state.
SCRIPT = (
    "INSERT INTO bench_events (originator_id, originator_version, topic, state) "
    "VALUES (gen_random_uuid(), 1, 'registry.Member.Registered', convert_to(repeat('x', 300), 'UTF8'));\n"
)


def _number(pattern: str, text: str) -> float | None:
    match = re.search(pattern, text)
    return float(match[1]) if match else None


def pgbench(pg: EmbeddedPostgres, workdir: Path, *, clients: int, seconds: int) -> dict[str, Any]:
    """`pgbench -n -c <clients> -j <≤2> -T <seconds> -f insert.sql`; tps and mean latency from its report."""
    pg.run_sql(EVENT_TABLE)
    script = workdir / "pgbench-insert.sql"
    script.write_text(SCRIPT)
    script.chmod(0o644)
    threads = min(clients, 2)
    command = [
        str(pg.bin_path("pgbench")),
        "-n",
        "-h",
        pg.host,
        "-p",
        str(pg.port),
        "-U",
        "postgres",
        "-c",
        str(clients),
        "-j",
        str(threads),
        "-T",
        str(seconds),
        "-f",
        str(script),
        "postgres",
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"pgbench exited {done.returncode}:\n{done.stderr.strip() or done.stdout.strip()}")
    return {
        "clients": clients,
        "threads": threads,
        "tps": _number(r"tps = ([\d.]+)", done.stdout) or 0.0,
        "latency_avg_ms": _number(r"latency average = ([\d.]+) ms", done.stdout),
        "transactions": int(_number(r"number of transactions actually processed: (\d+)", done.stdout) or 0),
        "failed": int(_number(r"number of failed transactions: (\d+)", done.stdout) or 0),
    }
