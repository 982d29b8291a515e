"""Growth (#18, aim 7): the registry's figures with an empty roll, then again with N members already on it.

One tenant, a primary committee and BRANCHES branches founded over the API. Before: registrations at 1 and 8
clients, the p99 of the roll (`GET /v1/members`, the first page and a page filtered by branch: that branch is given a
full page of members first, so its page compares like with like) and of two work lists (`GET /v1/worklists/todo`
and `/upcoming`), the RSS of each service. Then N members are stored by the registry's own application in this
process and a few more (the same aggregates as POST /v1/members, 100 members per save, spread over the branches,
on the service's database, cipher and keys), while the service runs: its relay publishes them and its
projections put them on the roll, and the phase waits for both, and for autovacuum, before the same figures are
measured again.

On a machine with other work the load moves between before and after as much as the size does, so a second
registry runs beside the first on the same servers and never grows: after the seeding the two are measured in
turn (grown, beside, beside, grown), and the grown one's means ÷ the other's give the verdict, beside the aim:
nothing worse by more than a third.

Members are stored CHUNK at a time, each chunk followed by a wait until the relay and the projections have it; a
time budget (`--growth-minutes`) stops the seeding at the first chunk boundary past it, and the figures are
measured at the size reached (printed as such).

Only the registry runs: every other service would first have to consume N registrations (notify at tens a
second), which would be what the second measurement measured.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx

from bench.costs import rss_mb
from bench.registrations import registrations
from bench.relay import registry_app, store_members, wait_caught_up
from bench.stats import bearer, created, latency_ms
from lianxin.platform import Platform

BRANCHES = 20
PAGE = 100  # the roll's page size in the timed reads
ROUNDS = 2  # rounds of the grown registry and the one beside it, measured in turn
CHUNK = 10_000  # members stored before waiting for the relay and projections, and checking the time budget
WORKLISTS = ("todo", "upcoming")


def worse_by_more_than_a_third(before: float, after: float, *, higher_is_better: bool) -> bool:
    """A rate that fell below two thirds of its value, or a latency or size that grew by more than a third."""
    return after < before * 2 / 3 if higher_is_better else after > before * 4 / 3


def found_branches(registry: str, headers: dict[str, str], branches: int) -> list[str]:
    """A primary committee and `branches` branches under it, over the API; returns the branch ids."""
    committee = created(
        httpx.post(
            f"{registry}/v1/organisations",
            headers=headers,
            timeout=30,
            json={"code": "R", "name": "增长党委", "kind": "primary_committee"},
        )
    )
    return [
        str(
            created(
                httpx.post(
                    f"{registry}/v1/organisations",
                    headers=headers,
                    timeout=30,
                    json={
                        "code": f"B{n}",
                        "name": f"增长第{n}支部",
                        "kind": "branch",
                        "parent_id": committee["id"],
                    },
                )
            )["id"]
        )
        for n in range(branches)
    ]


def query_latencies(
    registry: str, headers: dict[str, str], paths: dict[str, str], runs: int
) -> dict[str, dict[str, float]]:
    """Each path GET `runs` times one after the other (after one warm-up): p50 and p99, and the items returned."""
    out: dict[str, dict[str, float]] = {}
    with httpx.Client(base_url=registry, headers=headers, timeout=60) as client:
        for name, path in paths.items():
            client.get(path).raise_for_status()
            times: list[float] = []
            items = 0
            for _ in range(runs):
                started = time.perf_counter()
                response = client.get(path)
                times.append(time.perf_counter() - started)
                response.raise_for_status()
                body = response.json()
                items = len(body["items"] if isinstance(body, dict) else body)
            out[name] = {**latency_ms(times), "items": items}
    return out


def _seed_worker(env: dict[str, str], tenant: str, branch_ids: list[str], members: int, out: Any) -> None:
    app = registry_app(env)
    try:
        branches = [app.get_organisation(tenant, uuid.UUID(b)) for b in branch_ids]
        started = time.perf_counter()
        stored, published = store_members(app, tenant, branches, members, first=[])
        out.put((stored, published, time.perf_counter() - started))
    finally:
        app.close()


def seed(
    env: dict[str, str], tenant: str, branch_ids: list[str], members: int, processes: int
) -> dict[str, Any]:
    """`members` stored by `processes` processes at once, each with its own share."""
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    shares = [members // processes + (1 if i < members % processes else 0) for i in range(processes)]
    started = time.perf_counter()
    workers = [
        ctx.Process(target=_seed_worker, args=(env, tenant, branch_ids, share, out)) for share in shares
    ]
    for worker in workers:
        worker.start()
    done = [out.get() for _ in workers]
    for worker in workers:
        worker.join()
        if worker.exitcode != 0:
            raise RuntimeError(f"a seeding process exited with {worker.exitcode}")
    seconds = time.perf_counter() - started
    return {
        "members": members,
        "processes": processes,
        "stored_events": sum(d[0] for d in done),
        "published_events": sum(d[1] for d in done),
        "seconds": seconds,
        "members_per_second": members / seconds,
    }


async def wait_projected(database_url: str, limit_s: float) -> None:
    """Every projection of the registry at the last stored notification id (the roll shows every member)."""
    conn = await asyncpg.connect(database_url)
    try:
        deadline = time.perf_counter() + limit_s
        while True:
            last = int(await conn.fetchval("SELECT max(notification_id) FROM registry_events") or 0)
            behind = int(await conn.fetchval("SELECT min(position) FROM projection_position") or 0)
            if behind >= last:
                return
            if time.perf_counter() > deadline:
                raise TimeoutError(f"the registry's projections did not catch up within {limit_s:.0f} s")
            await asyncio.sleep(0.5)
    finally:
        await conn.close()


async def wait_vacuumed(database_url: str, limit_s: float, *, quiet_s: float = 3.0) -> float:
    """Until no autovacuum worker has run on the registry's database for `quiet_s` (a bulk load sets autovacuum
    and analyze going on the tables it grew, for a minute or more: figures taken meanwhile measure that
    transient, not the size); returns the seconds waited."""
    conn = await asyncpg.connect(database_url)
    try:
        started = time.perf_counter()
        quiet_since = started
        while time.perf_counter() - quiet_since < quiet_s:
            busy = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE backend_type = 'autovacuum worker' AND datname = current_database()"
            )
            if busy:
                quiet_since = time.perf_counter()
            if time.perf_counter() - started > limit_s:
                raise TimeoutError(f"autovacuum was still running on the registry after {limit_s:.0f} s")
            await asyncio.sleep(0.5)
        return time.perf_counter() - started - quiet_s
    finally:
        await conn.close()


def figures(
    platform: Platform,
    token: str,
    branch_ids: list[str],
    *,
    seconds: float,
    runs: int,
    check: Callable[[str], None],
) -> dict[str, Any]:
    registry = platform.url("registry")
    headers = bearer(token)
    out: dict[str, Any] = {"registrations": []}
    for concurrency in (1, 8):
        out["registrations"].append(
            asyncio.run(
                registrations(
                    registry, token, branch_ids[0], concurrency=concurrency, seconds=seconds, warmup=10
                )
            )
        )
        check(f"registrations at {concurrency} client(s)")
    paths = {
        "roll, first page": f"/v1/members?limit={PAGE}",
        "roll, one branch": f"/v1/members?limit={PAGE}&organisation_id={branch_ids[-1]}",
        **{f"work list {w}": f"/v1/worklists/{w}" for w in WORKLISTS},
    }
    out["queries"] = query_latencies(registry, headers, paths, runs)
    out["rss_mb"] = rss_mb(platform)
    return out


def compare(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """Each figure before and after, after ÷ before, and whether it got worse by more than a third."""
    rows: list[tuple[str, float, float, bool]] = []
    for b, a in zip(before["registrations"], after["registrations"], strict=True):
        c = b["concurrency"]
        rows.append((f"registrations/s, {c} client(s)", b["per_second"], a["per_second"], True))
        rows.append((f"registration p50 ms, {c} client(s)", b["p50_ms"], a["p50_ms"], False))
        rows.append((f"registration p99 ms, {c} client(s)", b["p99_ms"], a["p99_ms"], False))
    for name, q in before["queries"].items():
        rows.append((f"{name} p99 ms", q["p99_ms"], after["queries"][name]["p99_ms"], False))
    for name, mb in before["rss_mb"].items():
        if name in after["rss_mb"]:
            rows.append((f"{name} RSS MB", mb, after["rss_mb"][name], False))
    return [
        {
            "figure": label,
            "before": b,
            "after": a,
            "ratio": a / b if b else None,
            "worse_by_more_than_a_third": worse_by_more_than_a_third(b, a, higher_is_better=higher),
        }
        for label, b, a, higher in rows
    ]


def mean_figures(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures of several rounds of one registry, each figure the mean over the rounds (RSS: the last)."""
    first = rounds[0]
    return {
        "registrations": [
            {
                "concurrency": runs[0]["concurrency"],
                **{k: sum(r[k] for r in runs) / len(runs) for k in ("per_second", "p50_ms", "p99_ms")},
            }
            for runs in zip(*(r["registrations"] for r in rounds), strict=True)
        ],
        "queries": {
            name: {"p99_ms": sum(r["queries"][name]["p99_ms"] for r in rounds) / len(rounds)}
            for name in first["queries"]
        },
        "rss_mb": rounds[-1]["rss_mb"],
    }


def prepare(platform: Platform, token: str, tenant: str, limit_s: float) -> list[str]:
    """The branches, a full page in the branch whose page is timed (so that page compares like with like), the
    relay, projections and autovacuum caught up."""
    env = platform.services["registry"].env
    branch_ids = found_branches(platform.url("registry"), bearer(token), BRANCHES)
    seed(env, tenant, branch_ids[-1:], PAGE, 1)
    asyncio.run(wait_caught_up(env["DATABASE_URL"], limit_s))
    asyncio.run(wait_projected(env["DATABASE_URL"], limit_s))
    asyncio.run(wait_vacuumed(env["DATABASE_URL"], limit_s))
    return branch_ids


def growth(
    platform: Platform,
    beside: Platform,
    token: str,
    tenant: str,
    *,
    members: int,
    seconds: float,
    runs: int,
    processes: int,
    step: Callable[[str], None],
    check: Callable[[str], None],
    budget_s: float | None = None,
    limit_s: float = 3600,
) -> dict[str, Any]:
    env = platform.services["registry"].env
    step(f"growth: branches, and {PAGE} members in the branch whose roll page is timed, in both registries")
    branch_ids = prepare(platform, token, tenant, limit_s)
    beside_ids = prepare(beside, token, tenant, limit_s)
    step("growth: one pass of the figures to warm up, not counted")
    figures(platform, token, branch_ids, seconds=seconds, runs=runs // 3, check=check)
    figures(beside, token, beside_ids, seconds=seconds, runs=runs // 3, check=check)
    step(f"growth: the figures with an empty roll ({seconds:.0f} s phases, {runs} runs per query)")
    before = figures(platform, token, branch_ids, seconds=seconds, runs=runs, check=check)
    seeded: list[dict[str, Any]] = []
    relay_s = caught_up_s = 0.0
    seeding_started = time.perf_counter()
    chunk = max(1, min(CHUNK, members))
    while sum(s["members"] for s in seeded) < members:
        if budget_s is not None and time.perf_counter() - seeding_started > budget_s:
            step(f"growth: the seeding budget ({budget_s / 60:.0f} min) is spent: the figures at this size")
            break
        count = min(chunk, members - sum(s["members"] for s in seeded))
        step(f"growth: {count} members stored by {processes} processes through the registry's application")
        seeded.append(seed(env, tenant, branch_ids, count, processes))
        step(f"growth: stored in {seeded[-1]['seconds']:.0f} s; waiting for the relay and the projections")
        started = time.perf_counter()
        asyncio.run(wait_caught_up(env["DATABASE_URL"], limit_s))
        relay_s = time.perf_counter() - started
        asyncio.run(wait_projected(env["DATABASE_URL"], limit_s))
        caught_up_s = time.perf_counter() - started
        check("the seeding")
    reached = sum(s["members"] for s in seeded)
    seeding_s = time.perf_counter() - seeding_started
    step(f"growth: caught up {caught_up_s:.0f} s after the last save; waiting for autovacuum to finish")
    vacuum_after_s = asyncio.run(wait_vacuumed(env["DATABASE_URL"], limit_s))
    step(f"growth: autovacuum done {vacuum_after_s:.0f} s later; the figures again")
    after = figures(platform, token, branch_ids, seconds=seconds, runs=runs, check=check)
    # Under other load the figures before and after measure the machine as much as the size: so the grown
    # registry is also measured in turn with one beside it that never grew (same server, same moment), in
    # ROUNDS rounds of alternating order, and that comparison gives the verdict.
    grown_rounds: list[dict[str, Any]] = [after]
    beside_rounds: list[dict[str, Any]] = []
    for n in range(ROUNDS):
        step(f"growth: round {n + 1} of {ROUNDS}, the registry that did not grow and the grown one in turn")
        order = [(platform, branch_ids, grown_rounds), (beside, beside_ids, beside_rounds)]
        for where, ids, into in order if n % 2 == 0 else reversed(order):  # grown, beside, beside, grown, ...
            if where is platform and n == 0:
                continue  # its first round is `after`, just taken
            into.append(figures(where, token, ids, seconds=seconds, runs=runs, check=check))
    grown, unchanged = mean_figures(grown_rounds), mean_figures(beside_rounds)
    return {
        "members_asked": members,
        "members": reached,
        "branches": BRANCHES,
        "seed": {
            "chunks": seeded,
            "processes": processes,
            "seconds": sum(s["seconds"] for s in seeded),
            "stored_events": sum(s["stored_events"] for s in seeded),
            "members_per_second": reached / sum(s["seconds"] for s in seeded) if seeded else None,
            "seconds_to_the_roll": seeding_s,
            "members_on_the_roll_per_second": reached / seeding_s if seeding_s > 0 else None,
        },
        "relay_caught_up_after_seed_s": relay_s,
        "projections_caught_up_after_seed_s": caught_up_s,
        "autovacuum_waited_s": vacuum_after_s,
        "before": before,
        "after": after,
        "comparison_in_time": compare(before, after),
        "rounds": ROUNDS,
        "beside": unchanged,
        "grown": grown,
        "comparison": compare(unchanged, grown),
    }
