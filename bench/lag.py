"""The relay's lag from commit to PubAck (#18, aim 3), measured from outside the services.

Registrations are sent at a fixed arrival rate (open loop: each request at its due time, whatever the answers
do) while an ordered JetStream consumer on the registry stream reads each member's `member_registered` message
and the time the server stored it (its metadata's timestamp). The PubAck the relay waits
for is sent once that message is stored, so the stored time is the PubAck's moment (less its trip back).

The commit itself is not visible from outside, so each member gets two lags that enclose it:
- stored − the moment the response came back: the commit happened before the response was written, so this
  is an under-estimate (it can even be negative when the relay publishes before the client reads the answer);
- stored − the CloudEvent's `time`: the domain event's timestamp, set in the command before its save, so this
  is an over-estimate by the rest of the command and the commit.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime
from typing import Any

import httpx
import nats
from nats.js.api import DeliverPolicy

from bench.registrations import MEMBER
from bench.stats import bearer, latency_ms, percentile

STREAM = "LIANXIN_REGISTRY"
ARRIVAL_WAIT_S = 60.0  # after the last answer, how long the stragglers may take to reach the stream


def lags_ms(sent: dict[str, float], stored: dict[str, float]) -> list[float]:
    """stored − sent in milliseconds for every id in both (an id without its message is not a lag)."""
    return [1000 * (stored[key] - at) for key, at in sent.items() if key in stored]


def lag_summary(sent: dict[str, float], stored: dict[str, float]) -> dict[str, Any]:
    """p50, p99 and max of the lags, and how many of the sent ids never arrived."""
    lags = lags_ms(sent, stored)
    return {
        "p50_ms": percentile(lags, 0.5) if lags else None,
        "p99_ms": percentile(lags, 0.99) if lags else None,
        "max_ms": max(lags) if lags else None,
        "matched": len(lags),
        "missing": len(sent) - len(lags),
    }


async def relay_lag(
    registry: str, nats_url: str, *, token: str, tenant: str, branch: str, rate: float, seconds: float
) -> dict[str, Any]:
    """Register members at `rate` per second for `seconds` in `tenant` (the token's) and time each one's trip."""
    answered: dict[str, float] = {}  # member id -> when its 201 came back (time.time())
    created: dict[str, float] = {}  # member id -> the CloudEvent's time
    stored: dict[str, float] = {}  # member id -> when the stream stored its message
    latencies: list[float] = []
    errors = 0
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()

        async def on_message(msg: Any) -> None:
            event = json.loads(msg.data)
            member = str(event["data"]["member_id"])
            stored[member] = msg.metadata.timestamp.timestamp()
            created[member] = datetime.fromisoformat(event["time"]).timestamp()

        subscription = await js.subscribe(
            f"lianxin.registry.{tenant}.member_registered",
            stream=STREAM,
            cb=on_message,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.NEW,
        )
        body = {**MEMBER, "organisation_id": branch}
        total = max(1, int(rate * seconds))
        async with httpx.AsyncClient(
            base_url=registry, headers=bearer(token), timeout=30, limits=httpx.Limits(max_connections=64)
        ) as client:

            async def one(due: float) -> None:
                nonlocal errors
                await asyncio.sleep(max(0.0, due - time.time()))
                try:
                    response = await client.post("/v1/members", json=body)
                except httpx.HTTPError:
                    errors += 1
                    return
                now = time.time()
                if response.status_code != 201:
                    errors += 1
                    return
                answered[str(response.json()["id"])] = now
                latencies.append(now - due)

            start = time.time() + 0.5
            await asyncio.gather(*(one(start + i / rate) for i in range(total)))
        deadline = time.monotonic() + ARRIVAL_WAIT_S
        while time.monotonic() < deadline:
            if all(m in stored for m in answered):
                break
            await asyncio.sleep(0.05)
        await subscription.unsubscribe()
    finally:
        await nc.close()
    sent_at = {m: created[m] for m in answered if m in created}
    return {
        "rate": rate,
        "seconds": seconds,
        "registered": len(answered),
        "errors": errors,
        "request": latency_ms(latencies),
        "after_response": lag_summary(answered, stored),
        "after_event_time": lag_summary(sent_at, stored),
    }
