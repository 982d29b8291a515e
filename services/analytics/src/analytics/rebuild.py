"""`lianxin analytics rebuild`: every stream replayed from its first message into a fresh DuckDB file."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import nats
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from analytics.consumers import record
from analytics.contracts import STREAMS
from analytics.store import AnalyticsStore, Incoming

Progress = Callable[[str, int, int], None]


def progress_bar(out: TextIO | None = None, width: int = 30) -> Progress:
    """A text progress bar per stream on stderr: `LIANXIN_REGISTRY [#######.....] 1200/4000`."""

    def show(stream: str, done: int, total: int) -> None:
        target = out or sys.stderr
        filled = width if total == 0 else int(width * done / total)
        end = "\n" if done >= total else ""
        target.write(f"\r{stream:18} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}{end}")
        target.flush()

    return show


async def replay(
    nats_url: str,
    target: Path,
    *,
    batch: int = 1000,
    progress: Progress | None = None,
    streams: tuple[str, ...] = STREAMS,
) -> dict[str, Any]:
    """Lands every message of every stream, first to last as of the start, into a fresh store at `target`."""
    for leftover in (target, target.with_name(target.name + ".wal")):
        leftover.unlink(missing_ok=True)
    store = AnalyticsStore(target)
    nc = await nats.connect(nats_url, name="lianxin-analytics-rebuild")
    started = time.perf_counter()
    messages = 0
    try:
        js = nc.jetstream(timeout=10)
        for stream in streams:
            info = await js.stream_info(stream)
            last, first = info.state.last_seq, info.state.first_seq
            total = info.state.messages
            done = 0
            if progress:
                progress(stream, 0, total)
            if total == 0:
                continue
            sub = await js.pull_subscribe(
                "",
                stream=stream,
                config=ConsumerConfig(
                    ack_policy=AckPolicy.NONE,
                    deliver_policy=DeliverPolicy.ALL,
                    inactive_threshold=60,
                    max_ack_pending=-1,
                ),
            )
            try:
                seq = first - 1
                while seq < last:
                    try:
                        fetched = await sub.fetch(batch=batch, timeout=2)
                    except NatsTimeout:
                        continue
                    wanted = [m for m in fetched if m.metadata.sequence.stream <= last]
                    result = store.land(
                        [Incoming(stream, m.metadata.sequence.stream, m.data) for m in wanted]
                    )
                    record(result)
                    seq = max(seq, *(m.metadata.sequence.stream for m in fetched))
                    done += len(wanted)
                    messages += len(wanted)
                    if progress:
                        progress(stream, min(done, total), total)
            finally:
                await sub.unsubscribe()
        digest = store.digest()
    finally:
        await nc.close()
        store.close()
    seconds = time.perf_counter() - started
    return {
        "database": str(target),
        "messages": messages,
        "seconds": round(seconds, 3),
        "rate_per_second": round(messages / seconds, 1) if seconds else None,
        "tables": digest,
    }
