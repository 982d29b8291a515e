"""What the audit chain costs: event appends with the chain trigger against without, in the same run on the same
server (interleaved rounds, so a busier moment hurts both alike), and the verification walk's rate.
It saves the audit tests' small application (tests/integration/ledger.py)."""

from __future__ import annotations

import time
from typing import Any

import psycopg

from shared import audit
from shared.devstack import EmbeddedPostgres
from tests.integration.ledger import Account, Ledger, new_store


def _append(app: Ledger, seconds: float, per_save: int) -> tuple[int, float]:
    """Sequential saves of `per_save` new aggregates (one event each) for `seconds`; events and elapsed time."""
    events = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        app.save(*(Account(owner="bench") for _ in range(per_save)))
        events += per_save
    return events, time.perf_counter() - started


def audit_bench(pg: EmbeddedPostgres, *, seconds: int, rounds: int | None = None) -> dict[str, Any]:
    plain_store, chained_store = new_store(pg.dsn(), chained=False), new_store(pg.dsn())
    plain, chained = plain_store.app(), chained_store.app()
    rounds = rounds or max(3, seconds)  # many short alternations: the machine's load hits both sides alike
    result: dict[str, Any] = {"rounds": rounds, "append": []}
    try:
        slice_seconds = max(seconds / rounds, 0.5)
        for per_save in (1, 10):
            totals = {"plain": [0, 0.0], "chained": [0, 0.0]}
            for _ in range(rounds):
                for name, app in (("plain", plain), ("chained", chained)):
                    events, elapsed = _append(app, slice_seconds, per_save)
                    totals[name][0] += events
                    totals[name][1] += elapsed
            plain_rate = totals["plain"][0] / totals["plain"][1]
            chained_rate = totals["chained"][0] / totals["chained"][1]
            result["append"].append(
                {
                    "events_per_save": per_save,
                    "without_chain_per_second": plain_rate,
                    "with_chain_per_second": chained_rate,
                    "slowdown_percent": 100 * (1 - chained_rate / plain_rate),
                }
            )
        with psycopg.connect(chained_store.app_url) as conn:
            started = time.perf_counter()
            verified = audit.verify(conn, "ledger", [])
            elapsed = time.perf_counter() - started
        result["verify"] = {
            "events": verified.events,
            "ok": verified.ok,
            "seconds": elapsed,
            "events_per_second": verified.events / elapsed if elapsed else None,
        }
    finally:
        plain.close()
        chained.close()
    return result


def audit_rows(results: dict[str, Any]) -> list[tuple[str, float | None, str]]:
    rows: list[tuple[str, float | None, str]] = []
    for r in results["append"]:
        size = f"{r['events_per_save']} event(s) per save"
        rows.append((f"append without chain, {size}", r["without_chain_per_second"], "events"))
        rows.append(
            (
                f"append with hash chain, {size}",
                r["with_chain_per_second"],
                f"events; cost {r['slowdown_percent']:+.1f}% against without (target: under 10%)",
            )
        )
    v = results["verify"]
    rows.append(
        (
            "audit verify: chain walk",
            v["events_per_second"],
            f"events; {v['events']} in {v['seconds']:.2f} s, {'OK' if v['ok'] else 'FAILED'}",
        )
    )
    return rows
