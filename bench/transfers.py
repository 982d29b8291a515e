"""Transfers through the HTTP API against a baseline of POST → PostgreSQL insert → JetStream publish with ack."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from typing import Any

import asyncpg
import httpx
import nats
import uvicorn
from fastapi import FastAPI

from shared.devstack import free_port

APPROVAL = {"dues_paid_through": "2026-11", "issuer_address": "北京市海淀区", "issuer_phone": "010-1"}
STEPS_PER_TRANSFER = 7  # request, two approvals, hold + letter, acceptance, check-in + enrolment, receipt


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[int(share * (len(ordered) - 1))] if ordered else 0.0


async def baseline(pg_dsn: str, nats_url: str, concurrency: int, seconds: float) -> dict[str, Any]:
    """The least a write path can do here: one HTTP POST, one insert, one acknowledged JetStream publish."""
    pool = await asyncpg.create_pool(pg_dsn, min_size=2, max_size=concurrency + 2)
    assert pool is not None
    await pool.execute("CREATE TABLE IF NOT EXISTS bench_baseline (id uuid PRIMARY KEY, body jsonb)")
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await js.add_stream(name="BENCH_BASELINE", subjects=["bench.baseline.>"])
    api = FastAPI()

    @api.post("/baseline", status_code=201)
    async def write(body: dict[str, Any]) -> dict[str, str]:
        row_id = uuid.uuid4()
        await pool.execute("INSERT INTO bench_baseline VALUES ($1, $2::jsonb)", row_id, '{"a": 1}')
        await js.publish(f"bench.baseline.{row_id}", b"{}", headers={"Nats-Msg-Id": str(row_id)})
        return {"id": str(row_id)}

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    for _ in range(200):  # uvicorn offers no event to await its start
        if server.started:
            break
        await asyncio.sleep(0.05)
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        async def worker() -> None:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = await client.post("/baseline", json={"a": 1})
                response.raise_for_status()
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    server.should_exit = True
    await task
    await nc.close()
    await pool.close()
    return {"per_second": len(latencies) / elapsed, "p50_ms": 1000 * statistics.median(latencies),
            "p99_ms": 1000 * percentile(latencies, 0.99)}


async def transfers(registry: str, transfer: str, sender: dict[str, str], receiver: dict[str, str],
                    receiving_tenant: str, receiving_branch: str, members: list[str], concurrency: int) -> dict[str, Any]:
    durations: list[float] = []
    errors: list[str] = []
    failures = 0
    queue: asyncio.Queue[str] = asyncio.Queue()
    for m in members:
        queue.put_nowait(m)
    async with httpx.AsyncClient(base_url=transfer, timeout=60) as client:
        async def until(case_id: str, state: str, headers: dict[str, str]) -> None:
            for _ in range(600):
                body = (await client.get(f"/v1/transfers/{case_id}", headers=headers)).json()
                if body["state"] == state and not body["next_step"].startswith("the registry"):
                    return
                await asyncio.sleep(0.02)
            raise TimeoutError(f"{case_id} never reached {state}")

        async def one(member_id: str) -> None:
            started = time.perf_counter()
            case = (await client.post("/v1/transfers", headers=sender, json={
                "member_id": member_id, "destination": "other_tenant", "receiving_tenant": receiving_tenant,
                "receiving_org_id": receiving_branch, "reason": "bench"})).json()
            cid = case["id"]
            (await client.post(f"/v1/transfers/{cid}/branch-approval", headers=sender)).raise_for_status()
            (await client.post(f"/v1/transfers/{cid}/committee-approval", headers=sender, json=APPROVAL)).raise_for_status()
            await until(cid, "letter_issued", sender)
            (await client.post(f"/v1/transfers/{cid}/acceptance", headers=receiver)).raise_for_status()
            (await client.post(f"/v1/transfers/{cid}/check-in", headers=receiver, json={})).raise_for_status()
            await until(cid, "checked_in", sender)
            done = await client.post(f"/v1/transfers/{cid}/receipt-return", headers=receiver,
                                     json={"handler": "b", "phone": "1"})
            if done.json().get("state") != "completed":
                raise RuntimeError(done.text)
            durations.append(time.perf_counter() - started)

        async def worker() -> None:
            nonlocal failures
            while not queue.empty():
                member_id = queue.get_nowait()
                try:
                    await one(member_id)
                except Exception as exc:
                    failures += 1
                    errors.append(repr(exc)[:300])

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    done = len(durations)
    return {"concurrency": concurrency, "completed": done, "failed": failures, "transfers_per_second": done / elapsed,
            "saga_steps_per_second": done * STEPS_PER_TRANSFER / elapsed,
            "completion_p50_ms": 1000 * statistics.median(durations) if durations else 0.0,
            "completion_p99_ms": 1000 * percentile(durations, 0.99), "first_errors": errors[:3]}
