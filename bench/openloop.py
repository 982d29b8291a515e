"""A load generator that is not the bottleneck: several processes, each with many keep-alive HTTP/1.1
connections written with asyncio streams (no HTTP library in the hot path).

`ceiling()` is its own closed-loop maximum against a trivial endpoint (GET /healthz), printed beside the figures
it produces. `open_loop()` sends at a fixed arrival rate whatever the answers do, and measures each latency from
the moment the request was due, not from when a connection was free (no coordinated omission).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import time
from typing import Any
from urllib.parse import urlsplit

from bench.stats import latency_ms

CONNECTIONS_PER_PROCESS = 32


def _request(method: str, url: str, headers: dict[str, str], body: bytes) -> tuple[str, int, bytes]:
    parts = urlsplit(url)
    lines = [
        f"{method} {parts.path or '/'} HTTP/1.1",
        f"Host: {parts.hostname}:{parts.port}",
        f"Content-Length: {len(body)}",
        *(f"{k}: {v}" for k, v in headers.items()),
        "",
        "",
    ]
    return parts.hostname or "127.0.0.1", parts.port or 80, "\r\n".join(lines).encode() + body


class _Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self, raw: bytes) -> int:
        """One request, its whole answer read; returns the status code (0 when the connection failed)."""
        try:
            if self.writer is None or self.reader is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            self.writer.write(raw)
            head = await self.reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await self.reader.readexactly(length)
            return status
        except (OSError, asyncio.IncompleteReadError, ValueError):
            if self.writer is not None:
                self.writer.close()
            self.reader = self.writer = None
            return 0


async def _closed(raw: tuple[str, int, bytes], seconds: float) -> list[float]:
    host, port, payload = raw
    done: list[float] = []
    deadline = time.perf_counter() + seconds

    async def loop() -> None:
        conn = _Connection(host, port)
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            if 200 <= await conn.send(payload) < 300:
                done.append(time.perf_counter() - started)

    await asyncio.gather(*(loop() for _ in range(CONNECTIONS_PER_PROCESS)))
    return done


async def _open(
    raw: tuple[str, int, bytes], rate: float, seconds: float, start_at: float, ok: int
) -> dict[str, Any]:
    host, port, payload = raw
    total = int(rate * seconds)
    due = [start_at + i / rate for i in range(total)]
    latencies: list[float] = []
    errors = 0
    late_starts = 0
    next_index = 0

    async def loop() -> None:
        nonlocal next_index, errors, late_starts
        conn = _Connection(host, port)
        while next_index < total:
            at = due[next_index]
            next_index += 1
            wait = at - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
            elif wait < -0.001:
                late_starts += 1  # every connection was busy when it was due: counted in its latency
            status = await conn.send(payload)
            if status == ok:
                latencies.append(time.time() - at)
            else:
                errors += 1

    await asyncio.gather(*(loop() for _ in range(CONNECTIONS_PER_PROCESS)))
    return {"latencies": latencies, "errors": errors, "late_starts": late_starts}


def _closed_worker(raw: tuple[str, int, bytes], seconds: float, out: Any) -> None:
    out.put(asyncio.run(_closed(raw, seconds)))


def _open_worker(
    raw: tuple[str, int, bytes], rate: float, seconds: float, start_at: float, ok: int, out: Any
) -> None:
    out.put(asyncio.run(_open(raw, rate, seconds, start_at, ok)))


def _run(target: Any, args_for: list[tuple[Any, ...]]) -> list[Any]:
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    workers = [ctx.Process(target=target, args=(*args, out)) for args in args_for]
    for worker in workers:
        worker.start()
    results = [out.get() for _ in workers]
    for worker in workers:
        worker.join()
    return results


def ceiling(url: str, *, processes: int, seconds: float) -> dict[str, Any]:
    """The generator's own maximum: GET of a trivial endpoint, closed loop, every connection busy."""
    raw = _request("GET", url, {}, b"")
    runs = _run(_closed_worker, [(raw, seconds)] * processes)
    latencies = [x for run in runs for x in run]
    return {
        "processes": processes,
        "connections": processes * CONNECTIONS_PER_PROCESS,
        "per_second": len(latencies) / seconds,
        **latency_ms(latencies),
    }


def open_loop(
    url: str, *, token: str, body: dict[str, Any], rate: float, seconds: float, processes: int
) -> dict[str, Any]:
    """POST at `rate` per second for `seconds`, spread over the processes; latency from each request's due time."""
    raw = _request(
        "POST",
        url,
        {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        json.dumps(body).encode(),
    )
    start_at = time.time() + 2.0  # every process started and connected
    share = rate / processes
    runs = _run(_open_worker, [(raw, share, seconds, start_at + i / rate, 201) for i in range(processes)])
    latencies = [x for run in runs for x in run["latencies"]]
    return {
        "rate": rate,
        "seconds": seconds,
        "processes": processes,
        "sent": int(share * seconds) * processes,
        "completed": len(latencies),
        "errors": sum(run["errors"] for run in runs),
        "late_starts": sum(run["late_starts"] for run in runs),
        **latency_ms(latencies),
    }
