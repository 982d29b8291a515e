"""Member registrations per second through the registry's HTTP API, from N concurrent clients."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import httpx

from bench.stats import bearer, latency_ms

MEMBER = {"name": "压测党员", "category": "full"}


async def registrations(
    registry: str, token: str, branch: str, *, concurrency: int, seconds: float, warmup: int = 0
) -> dict[str, Any]:
    """Each client POSTs /v1/members back to back until the deadline; every answer but 201 is an error."""
    latencies: list[float] = []  # of the 201s only
    errors: Counter[str] = Counter()
    body = {**MEMBER, "organisation_id": branch}
    async with httpx.AsyncClient(
        base_url=registry,
        headers=bearer(token),
        timeout=30,
        limits=httpx.Limits(max_connections=concurrency + 2),
    ) as client:
        for _ in range(warmup):  # connections, pools and code paths warm; not counted
            await client.post("/v1/members", json=body)

        async def client_loop(deadline: float) -> None:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    response = await client.post("/v1/members", json=body)
                except httpx.HTTPError as exc:
                    errors[type(exc).__name__] += 1
                    continue
                if response.status_code == 201:
                    latencies.append(time.perf_counter() - started)
                else:
                    errors[str(response.status_code)] += 1

        started = time.perf_counter()
        await asyncio.gather(*(client_loop(started + seconds) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {
        "concurrency": concurrency,
        "seconds": elapsed,
        "registered": len(latencies),
        "per_second": len(latencies) / elapsed,
        **latency_ms(latencies),
        "errors": sum(errors.values()),
        "errors_by_kind": dict(errors),
    }
