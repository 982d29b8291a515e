"""What the audit chain costs: event appends with the chain trigger against without, in the same run on the same
server (interleaved rounds, so a busier moment hurts both alike), and the verification walk's rate.

Also the small event-sourced application the audit tests use (`Account`, `Ledger`)."""

from __future__ import annotations

import base64
import os
import time
import uuid
from typing import Any
from urllib.parse import urlparse

import psycopg
from eventsourcing.domain import Aggregate, event

from shared import audit
from shared.dbsetup import provision
from shared.devstack import EmbeddedPostgres
from shared.eventstore import ServiceApplication, persistence_env


class Account(Aggregate):
    TOPIC = "tests.audit:Account"

    class Event(Aggregate.Event):
        TOPIC = "tests.audit:Account.Event"

    class Created(Event, Aggregate.Created):
        TOPIC = "tests.audit:Account.Created"

    class Opened(Created):
        TOPIC = "tests.audit:Account.Opened"
        owner: str

    class Noted(Event):
        TOPIC = "tests.audit:Account.Noted"
        text: str

    @event(Opened)
    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.notes: list[str] = []

    @event(Noted)
    def note(self, text: str) -> None:
        self.notes.append(text)


class Ledger(ServiceApplication):
    name = "ledger"


def _ledger(admin_url: str, prefix: str, cipher_key: str, *, chained: bool) -> Ledger:
    db = provision(admin_url, prefix=prefix, services=("ledger",))["ledger"]
    Ledger(persistence_env(db.owner_url, cipher_key, create_table=True)).close()
    if chained:
        audit.install(db.owner_url, "ledger", app_role=urlparse(db.app_url).username)
    return Ledger(persistence_env(db.app_url, cipher_key, create_table=False))


def _append(app: Ledger, seconds: float, per_save: int) -> tuple[int, float]:
    """Sequential saves of `per_save` new aggregates (one event each) for `seconds`; events and elapsed time."""
    events = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        app.save(*(Account(owner="bench") for _ in range(per_save)))
        events += per_save
    return events, time.perf_counter() - started


def audit_bench(pg: EmbeddedPostgres, *, seconds: int, rounds: int = 3) -> dict[str, Any]:
    cipher_key = base64.b64encode(os.urandom(32)).decode()
    tag = uuid.uuid4().hex[:6]
    plain = _ledger(pg.dsn(), f"benchplain{tag}", cipher_key, chained=False)
    chained = _ledger(pg.dsn(), f"benchchain{tag}", cipher_key, chained=True)
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
            result["append"].append({"events_per_save": per_save, "without_chain_per_second": plain_rate,
                                     "with_chain_per_second": chained_rate,
                                     "slowdown_percent": 100 * (1 - chained_rate / plain_rate)})
        dsn = chained.env.get("POSTGRES_DBNAME")
        url = pg.dsn(dbname=str(dsn))
        with psycopg.connect(url) as conn:
            started = time.perf_counter()
            verified = audit.verify(conn, "ledger", [])
            elapsed = time.perf_counter() - started
        result["verify"] = {"events": verified.events, "ok": verified.ok, "seconds": elapsed,
                            "events_per_second": verified.events / elapsed if elapsed else None}
    finally:
        plain.close()
        chained.close()
    return result


def audit_rows(results: dict[str, Any]) -> list[tuple[str, float | None, str]]:
    rows: list[tuple[str, float | None, str]] = []
    for r in results["append"]:
        size = f"{r['events_per_save']} event(s) per save"
        rows.append((f"append without chain, {size}", r["without_chain_per_second"], "events"))
        rows.append((f"append with hash chain, {size}", r["with_chain_per_second"],
                     f"events; cost {r['slowdown_percent']:+.1f}% against without (target: under 10%)"))
    v = results["verify"]
    rows.append(("audit verify: chain walk", v["events_per_second"],
                 f"events; {v['events']} in {v['seconds']:.2f} s, {'OK' if v['ok'] else 'FAILED'}"))
    return rows
