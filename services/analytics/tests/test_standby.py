"""A second instance waits on the DuckDB file lock and takes over when the process holding it dies."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from analytics.standby import open_when_free

HOLD = """
import sys, time
import duckdb
con = duckdb.connect(sys.argv[1])
con.execute("CREATE TABLE IF NOT EXISTS held (x INT)")
print("holding", flush=True)
time.sleep(600)
"""


def test_a_standby_waits_for_the_lock_then_takes_over(tmp_path: Path) -> None:
    path = tmp_path / "analytics.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        refusals: list[str] = []

        async def scenario() -> bool:
            opening = asyncio.create_task(open_when_free(path, poll_seconds=0.05, waiting=refusals.append))
            await asyncio.sleep(1.0)
            waited = not opening.done()  # standing by while the other process holds the file
            holder.kill()  # the active instance dies: the OS releases its lock
            holder.wait()
            store = await asyncio.wait_for(opening, timeout=20)
            try:
                with store.reader() as con:  # the file is ours now, with what the first instance wrote
                    assert con.execute("SELECT count(*) FROM held").fetchone() == (0,)
            finally:
                store.close()
            return waited

        assert asyncio.run(scenario()) is True
        assert refusals and "lock" in refusals[0].lower()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
