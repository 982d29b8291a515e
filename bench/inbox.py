"""A backlog of registrations reaching notify's inbox (#18, aim 4), against the relay's publish rate.

The relay phase leaves the registry stream holding K `member_registered` messages of one tenant that notify has
not seen (notify was stopped before the backlog was stored). Notify then starts and we count, in its database,
the registrations of that tenant that have an inbox item (`inbox_items.event_id`: the rule
member-registered-to-secretaries gives each registration one item per audience, the branch secretary and the
committee, both roles whoever holds them). The rate runs from the first of them to the last, so start-up and
whatever notify still had to read before the backlog (earlier phases' registrations) are left out.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg

from lianxin.platform import ServiceProcess

POLL_S = 0.25
COUNT = "SELECT count(DISTINCT event_id) FROM inbox_items WHERE tenant_id = $1 AND event_type LIKE $2"
REGISTERED = "%member_registered%"


async def inbox_drain(
    service: ServiceProcess,
    database_url: str,
    tenant: str,
    registrations: int,
    limit_s: float,
    *,
    start: bool = True,
) -> dict[str, Any]:
    """Start notify (stopped, provisioned; `start=False`: the caller has just started it) and wait until
    `registrations` of `tenant` are in its inbox, or the limit passes (then the figures say how far it got)."""
    conn = await asyncpg.connect(database_url)  # the admin role: row-level security does not hide the rows
    try:
        before = int(await conn.fetchval(COUNT, tenant, REGISTERED))
        started = time.perf_counter()
        if start:
            service.start()
        first: tuple[float, int] | None = None
        count, now = before, started
        while count - before < registrations and now - started < limit_s:
            if not service.alive:
                raise RuntimeError(f"notify exited while draining:\n{service.log_tail()}")
            await asyncio.sleep(POLL_S)
            count, now = int(await conn.fetchval(COUNT, tenant, REGISTERED)), time.perf_counter()
            if first is None and count > before:
                first = (now, count)
    finally:
        await conn.close()
    reached = count - before
    seconds = now - first[0] if first is not None else 0.0
    return {
        "tenant": tenant,
        "registrations": registrations,
        "reached": reached,
        "complete": reached >= registrations,
        "first_after_s": first[0] - started if first is not None else None,
        "last_after_s": now - started,
        "per_second": (count - first[1]) / seconds if first is not None and seconds > 0 else None,
    }
