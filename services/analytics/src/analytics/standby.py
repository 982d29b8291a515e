"""One writer per DuckDB file: a second analytics instance waits as a standby and takes over when the first dies.

DuckDB lets one process open a file for writing and holds an OS file lock while it does. An instance that finds
the lock taken does not exit: it serves /health (alive), answers /ready with 503 "standby" and every statistic
with a 503 problem, and tries the lock again every `ANALYTICS_STANDBY_POLL_SECONDS`. When the active instance
stops or dies, the OS releases its lock, the standby opens the file and starts landing from the positions
tracked in it (exactly once, as after any restart). Two instances never write the same file.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

import duckdb

from analytics.store import AnalyticsStore
from shared.threads import run_sync

logger = logging.getLogger("lianxin.analytics.standby")


def held_by_another(exc: BaseException) -> bool:
    """DuckDB's refusal to open a file whose lock another process holds."""
    return isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()


async def open_when_free(
    path: Path | None, *, poll_seconds: float, waiting: Callable[[str], None] = lambda _: None
) -> AnalyticsStore:
    """The store, once this process holds the file; `waiting(reason)` is told each time the lock is refused."""
    logged = False
    while True:
        try:
            return await run_sync(AnalyticsStore, path)
        except duckdb.Error as exc:
            if not held_by_another(exc):
                raise
            reason = str(exc).splitlines()[0][:300]
            waiting(reason)
            if not logged:
                logger.warning("standby: another instance holds the analytics file", extra={"reason": reason})
                logged = True
        await asyncio.sleep(poll_seconds)
