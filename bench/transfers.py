"""Transfers over HTTP, against a baseline of POST → PostgreSQL insert → JetStream publish + ack."""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import nats
import uvicorn
from fastapi import FastAPI

from bench.stats import bearer, created, found_branch, latency_ms
from lianxin.platform import Platform
from shared.auth import issue_dev_token
from shared.devstack import free_port

APPROVAL = {"dues_paid_through": "2026-11", "issuer_address": "北京市海淀区", "issuer_phone": "010-1"}
RECEIVING_TENANT = "bench-receiver"
STEPS_PER_TRANSFER = 7  # request, two approvals, hold + letter, acceptance, check-in + enrolment, receipt


async def baseline(pg_dsn: str, nats_url: str, concurrency: int, seconds: float) -> dict[str, Any]:
    """The least a write path can do here: one HTTP POST, one insert, one acknowledged JetStream publish."""
    async with asyncpg.create_pool(pg_dsn, min_size=2, max_size=concurrency + 2) as pool:
        await pool.execute("CREATE TABLE IF NOT EXISTS bench_baseline (id uuid PRIMARY KEY, body jsonb)")
        nc = await nats.connect(nats_url)
        try:
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
            try:
                for _ in range(200):  # uvicorn offers no event to await its start
                    if server.started:
                        break
                    await asyncio.sleep(0.05)
                return await _post_for(f"http://127.0.0.1:{port}/baseline", concurrency, seconds)
            finally:
                server.should_exit = True
                await task
        finally:
            await nc.close()


async def _post_for(url: str, concurrency: int, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    async with httpx.AsyncClient(timeout=30) as client:

        async def client_loop(deadline: float) -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = await client.post(url, json={"a": 1})
                if response.status_code == 201:
                    latencies.append(time.perf_counter() - started)
                else:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(client_loop(started + seconds) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {
        "concurrency": concurrency,
        "per_second": len(latencies) / elapsed,
        **latency_ms(latencies),
        "errors": errors,
    }


class Driver:
    """Drives one member's transfer to its end over HTTP, as the two committees would: request, both approvals,
    the letter, acceptance, check-in, the receipt. The client polls the case every 20 ms while the registry's
    side of a step is under way."""

    def __init__(self, client: httpx.AsyncClient, sides: Sides) -> None:
        self.client, self.sender, self.receiver = client, sides.sender, sides.receiver
        self.receiving_branch = sides.receiver_branch

    async def until(self, case_id: str, state: str, headers: dict[str, str]) -> None:
        for _ in range(600):
            body = (await self.client.get(f"/v1/transfers/{case_id}", headers=headers)).json()
            if body["state"] == state and not body["next_step"].startswith("the registry"):
                return
            await asyncio.sleep(0.02)
        raise TimeoutError(f"{case_id} never reached {state}")

    async def one(self, member_id: str) -> float:
        """The seconds from the request to the completed receipt."""
        client, sender, receiver = self.client, self.sender, self.receiver
        started = time.perf_counter()
        case = (
            await client.post(
                "/v1/transfers",
                headers=sender,
                json={
                    "member_id": member_id,
                    "destination": "other_tenant",
                    "receiving_tenant": RECEIVING_TENANT,
                    "receiving_org_id": self.receiving_branch,
                    "reason": "bench",
                },
            )
        ).json()
        cid = case["id"]
        (await client.post(f"/v1/transfers/{cid}/branch-approval", headers=sender)).raise_for_status()
        (
            await client.post(f"/v1/transfers/{cid}/committee-approval", headers=sender, json=APPROVAL)
        ).raise_for_status()
        await self.until(cid, "letter_issued", sender)
        (await client.post(f"/v1/transfers/{cid}/acceptance", headers=receiver)).raise_for_status()
        (await client.post(f"/v1/transfers/{cid}/check-in", headers=receiver, json={})).raise_for_status()
        await self.until(cid, "checked_in", sender)
        done = await client.post(
            f"/v1/transfers/{cid}/receipt-return", headers=receiver, json={"handler": "b", "phone": "1"}
        )
        if done.json().get("state") != "completed":
            raise RuntimeError(done.text)
        return time.perf_counter() - started


async def transfers(
    transfer: str, sides: Sides, members: list[str], concurrency: int, seconds: float
) -> dict[str, Any]:
    """Each client takes the next member and drives its transfer to its end; none starts after `seconds`."""
    durations: list[float] = []
    errors: list[str] = []
    queue: asyncio.Queue[str] = asyncio.Queue()
    for m in members:
        queue.put_nowait(m)
    async with httpx.AsyncClient(base_url=transfer, timeout=60) as client:
        driver = Driver(client, sides)

        async def client_loop(deadline: float) -> None:
            while not queue.empty() and time.perf_counter() < deadline:
                member_id = queue.get_nowait()
                try:
                    durations.append(await driver.one(member_id))
                except Exception as exc:
                    errors.append(repr(exc)[:300])

        started = time.perf_counter()
        await asyncio.gather(*(client_loop(started + seconds) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    done = len(durations)
    completion = latency_ms(durations)
    # members_left == 0: the run ended because it ran out of members, not at its deadline.
    return {
        "concurrency": concurrency,
        "completed": done,
        "failed": len(errors),
        "seconds": elapsed,
        "transfers_per_second": done / elapsed,
        "saga_steps_per_second": done * STEPS_PER_TRANSFER / elapsed,
        "completion_p50_ms": completion["p50_ms"],
        "completion_p99_ms": completion["p99_ms"],
        "members_left": queue.qsize(),
        "first_errors": errors[:3],
    }


async def transfers_at_rate(transfer: str, sides: Sides, members: list[str], rate: float) -> dict[str, Any]:
    """Open loop: a new transfer starts every 1/rate seconds whatever the earlier ones are doing (one member each),
    each driven to its end; completion p50 and p99 over them all."""
    durations: list[float] = []
    errors: list[str] = []
    lag: list[float] = []  # how late each start was against its schedule: the generator's own delay
    async with httpx.AsyncClient(
        base_url=transfer, timeout=60, limits=httpx.Limits(max_connections=200)
    ) as client:
        driver = Driver(client, sides)

        async def scheduled(member_id: str, at: float) -> None:
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            lag.append(time.perf_counter() - at)
            try:
                durations.append(await driver.one(member_id))
            except Exception as exc:
                errors.append(repr(exc)[:300])

        started = time.perf_counter()
        await asyncio.gather(*(scheduled(m, started + n / rate) for n, m in enumerate(members)))
        elapsed = time.perf_counter() - started
    completion = latency_ms(durations)
    return {
        "rate": rate,
        "started": len(members),
        "completed": len(durations),
        "failed": len(errors),
        "seconds": elapsed,
        "completion_p50_ms": completion["p50_ms"],
        "completion_p99_ms": completion["p99_ms"],
        "p99_to_p50": completion["p99_ms"] / completion["p50_ms"] if completion["p50_ms"] else None,
        "start_lag_max_ms": 1000 * max(lag, default=0.0),
        "first_errors": errors[:3],
    }


@dataclass
class Sides:
    registry: str
    sender: dict[str, str]
    sender_branch: str
    receiver: dict[str, str]
    receiver_branch: str
    members: list[str]

    def register(self, count: int) -> list[str]:
        """`count` more members of the sender's branch, over the API."""
        return [
            str(
                created(
                    httpx.post(
                        f"{self.registry}/v1/members",
                        headers=self.sender,
                        timeout=30,
                        json={"name": "压测", "organisation_id": self.sender_branch, "category": "full"},
                    )
                )["id"]
            )
            for _ in range(count)
        ]


def prepare(platform: Platform, signing_key: Path, members: int) -> Sides:
    """A sender tenant with `members` members and a receiver tenant with a branch, over the API."""
    registry = platform.url("registry")
    sides = {}
    for tenant in ("bench-sender", RECEIVING_TENANT):
        headers = bearer(issue_dev_token(signing_key, tenant=tenant, roles=["committee"]))
        sides[tenant] = (headers, found_branch(registry, headers, tenant))
    sender, sender_branch = sides["bench-sender"]
    receiver, receiver_branch = sides[RECEIVING_TENANT]
    prepared = Sides(registry, sender, sender_branch, receiver, receiver_branch, [])
    prepared.members = prepared.register(members)
    return prepared


def run_transfers(
    platform: Platform,
    signing_key: Path,
    *,
    members: int,
    seconds: float,
    cpu: Callable[[], float] | None = None,
) -> dict[str, Any]:
    """A sender with `members` members and a receiver with a branch; transfers at concurrency 1, then 8.
    `cpu()` gives the CPU seconds of every process so far: each run then says its CPU ms per saga step."""
    sides = prepare(platform, signing_key, members)
    half = len(sides.members) // 2
    runs = []
    for batch, concurrency in ((sides.members[:half], 1), (sides.members[half:], 8)):
        before = cpu() if cpu is not None else 0.0
        run = asyncio.run(transfers(platform.url("transfer"), sides, batch, concurrency, seconds))
        steps = run["completed"] * STEPS_PER_TRANSFER
        if cpu is not None and steps:  # the machine's idle CPU of these processes is small beside a step's
            run["cpu_ms_per_saga_step"] = 1000 * (cpu() - before) / steps
        runs.append(run)
    best = max(runs, key=lambda r: r["saga_steps_per_second"])
    # #18: completion p99 at half the maximum rate within 3 × its p50. Fresh members, started on a schedule.
    rate = max(0.5, best["transfers_per_second"] / 2)
    half_rate = asyncio.run(
        transfers_at_rate(
            platform.url("transfer"), sides, sides.register(max(8, math.ceil(rate * seconds))), rate
        )
    )
    return {**best, "runs": runs, "half_rate": half_rate}
