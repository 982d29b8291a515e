"""Analytics: its landing rate against the relay's publish rate in the same run, the rebuild rate for 100,000
events, and the latency of each statistic over a year of generated events for 10 tenants.

- Landing: after the relay phase the registry stream holds the relay's backlog; the analytics service starts on
  that NATS and lands it from the first message. The rate counts from the first landed message to the last.
- Rebuild: 100,000 generated events published into a fresh NATS's streams, then `replay()` (what
  `lianxin analytics rebuild` runs) lands them into a fresh DuckDB file.
- Statistics: a year of 10 tenants landed in a DuckDB file in this process; each statistic run repeatedly for
  random tenants over the whole year, in-process (no HTTP), p50 and p99 in milliseconds.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any

import nats

from analytics.rebuild import replay
from analytics.statistics import STATISTICS, Query, compute
from analytics.store import AnalyticsStore
from analytics.synthetic import Feed, stream_of, year_of_events
from lianxin.platform import Platform
from shared import messaging
from shared.settings import REPO_ROOT

REGISTRY_STREAM, REGISTRY_DURABLE = "LIANXIN_REGISTRY", "analytics-from-registry"
POLL_S = 0.05


async def _watch_landing(nats_url: str, start: Any, limit_s: float) -> dict[str, Any]:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        target = (await js.stream_info(REGISTRY_STREAM)).state.last_seq
        started = time.perf_counter()
        start()
        first: tuple[float, int] | None = None
        while True:
            if time.perf_counter() - started > limit_s:
                raise TimeoutError(f"analytics did not land {target} messages within {limit_s:.0f} s")
            try:
                info = await js.consumer_info(REGISTRY_STREAM, REGISTRY_DURABLE)
            except Exception:  # not created yet: the service is starting
                await asyncio.sleep(POLL_S)
                continue
            acked = info.ack_floor.stream_seq if info.ack_floor else 0
            now = time.perf_counter()
            if first is None and acked > 0:
                first = (now, acked)
            if acked >= target:
                break
            await asyncio.sleep(POLL_S)
    finally:
        await nc.close()
    assert first is not None
    seconds = now - first[0]
    return {
        "messages": target,
        "landed_after_s": now - started,
        "first_landed_after_s": first[0] - started,
        "landed_per_second": (target - first[1]) / seconds if seconds > 0 else None,
    }


def landing(platform: Platform, nats_url: str, limit_s: float = 300) -> dict[str, Any]:
    """Starts analytics (already provisioned in `platform`, not yet started) against the filled stream."""
    service = platform.services["analytics"]
    result = asyncio.run(_watch_landing(nats_url, service.start, limit_s))
    service.wait_ready()
    return result


async def _publish(nats_url: str, events: list[Any]) -> float:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream(timeout=30)
        await messaging.apply_jetstream_config(js, REPO_ROOT / "deploy" / "nats" / "jetstream.json")
        started = time.perf_counter()
        for start in range(0, len(events), 500):
            await asyncio.gather(
                *(js.publish(e.nats_subject(), e.to_bytes()) for e in events[start : start + 500])
            )
        return time.perf_counter() - started
    finally:
        await nc.close()


def rebuild(nats_url: str, root: Path, events: int = 100_000) -> dict[str, Any]:
    generated = list(islice(year_of_events(20, days=365, seed=11), events))
    publish_s = asyncio.run(_publish(nats_url, generated))
    summary = asyncio.run(replay(nats_url, root / "rebuilt.duckdb"))
    return {
        "events": len(generated),
        "published_in_s": publish_s,
        "seconds": summary["seconds"],
        "rebuilt_per_second": summary["rate_per_second"],
        "events_table_rows": summary["tables"]["events"]["rows"],
    }


def statistics(runs: int = 40, tenants: int = 10) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lianxin-bench-analytics-") as folder:
        store = AnalyticsStore(Path(folder) / "year.duckdb")
        try:
            feed = Feed()
            events = list(year_of_events(tenants, start=date(2025, 1, 1), days=365))
            messages = feed.messages(events)
            started = time.perf_counter()
            for start in range(0, len(messages), 1000):
                store.land(messages[start : start + 1000])
            land_s = time.perf_counter() - started
            rng = random.Random(1)
            names = sorted({e.tenantid for e in events})
            latencies: dict[str, dict[str, float]] = {}
            with store.reader() as con:
                for name, statistic in STATISTICS.items():
                    samples = []
                    for _ in range(runs):
                        query = Query(
                            rng.choice(names),
                            date(2025, 1, 1),
                            date(2025, 12, 31),
                            statistic.default_group_by,
                        )
                        t0 = time.perf_counter()
                        compute(con, name, query)
                        samples.append((time.perf_counter() - t0) * 1000)
                    samples.sort()
                    latencies[name] = {
                        "p50_ms": samples[len(samples) // 2],
                        "p99_ms": samples[min(len(samples) - 1, int(len(samples) * 0.99))],
                    }
        finally:
            store.close()
    return {
        "events": len(events),
        "tenants": tenants,
        "runs_per_statistic": runs,
        "landed_in_process_per_second": len(events) / land_s,
        "latency": latencies,
        "streams": sorted({stream_of(e) for e in events}),
    }
