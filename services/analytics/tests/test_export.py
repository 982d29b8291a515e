"""The Parquet export, read back by ClickHouse's engine (chdb), gives the statistics DuckDB gives."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from analytics.export import EXPORTED, export_parquet
from analytics.statistics import Query, compute
from analytics.store import AnalyticsStore
from analytics.synthetic import Feed, year_of_events

chdb = pytest.importorskip("chdb", reason="chdb (ClickHouse embedded) is a dev dependency")

TENANT = "tenant-01"
PERIOD = (date(2025, 1, 1), date(2025, 3, 31))
OUTCOMES = (
    "('transfer_completed', 'transfer_refused', 'letter_expired', 'transfer_returned', 'letter_voided', "
    "'transfer_cancelled')"
)


def clickhouse(sql: str) -> list[dict[str, Any]]:
    text = str(chdb.query(sql, "JSONEachRow"))
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[AnalyticsStore, Path]:
    store = AnalyticsStore(None)
    store.land(Feed().messages(year_of_events(3, days=90, branches=3, members_per_branch=20)))
    directory = tmp_path_factory.mktemp("export")
    with store.reader() as con:
        files = export_parquet(con, directory)
    assert any(f.startswith(f"transfer_steps/tenant={TENANT}/month=2025-02/") for f in files)
    return store, directory


def test_every_table_is_partitioned_by_tenant_and_month(exported: tuple[AnalyticsStore, Path]) -> None:
    store, directory = exported
    for table in EXPORTED:
        rows = (
            clickhouse(f"SELECT count() AS n FROM file('{directory}/{table}/**/*.parquet', Parquet)")
            if any((directory / table).rglob("*.parquet"))
            else [{"n": 0}]
        )
        with store.reader() as con:
            expected = con.execute(f"SELECT count(*) FROM {table}").fetchone()
        assert expected is not None and int(rows[0]["n"]) == expected[0], table
    months = {p.name for p in (directory / "events" / f"tenant={TENANT}").iterdir()}
    with store.reader() as con:
        expected_months = {
            f"month={m}"
            for (m,) in con.execute(
                "SELECT DISTINCT strftime(time + INTERVAL 8 HOUR, '%Y-%m') FROM events WHERE tenant = ?",
                [TENANT],
            ).fetchall()
        }
    assert months == expected_months and len(months) >= 3


def test_clickhouse_reads_the_same_transfer_statistics(exported: tuple[AnalyticsStore, Path]) -> None:
    store, directory = exported
    [ch] = clickhouse(f"""
        WITH cases AS (
          SELECT case_id, any(sending_tenant) AS s, max(receiving_tenant) AS r,
                 minIf(day, step = 'transfer_requested') AS requested_on,
                 minIf(occurred_at, step = 'transfer_requested') AS requested_at,
                 argMaxIf(step, occurred_at, step IN {OUTCOMES}) AS outcome,
                 maxIf(occurred_at, step IN {OUTCOMES}) AS outcome_at,
                 countIf(step = 'letter_issued') > 0 AS issued
          FROM file('{directory}/transfer_steps/**/*.parquet', Parquet) GROUP BY case_id)
        SELECT count() AS requested, countIf(issued) AS letter_issued,
               countIf(outcome = 'transfer_completed') AS completed, countIf(outcome = 'transfer_refused') AS refused,
               countIf(outcome = 'letter_expired') AS expired,
               round(quantileExactInclusiveIf(0.5)(dateDiff('hour', requested_at, outcome_at) / 24.0,
                                                   outcome = 'transfer_completed'), 1) AS p50
        FROM cases WHERE (s = '{TENANT}' OR r = '{TENANT}')
          AND requested_on BETWEEN toDate('{PERIOD[0]}') AND toDate('{PERIOD[1]}')""")
    with store.reader() as con:
        [duck] = compute(con, "transfers", Query(TENANT, *PERIOD)).rows
    assert duck["requested"] > 10  # enough cases for the comparison to mean something
    assert (
        int(ch["requested"]),
        int(ch["letter_issued"]),
        int(ch["completed"]),
        int(ch["refused"]),
        int(ch["expired"]),
    ) == (duck["requested"], duck["letter_issued"], duck["completed"], duck["refused"], duck["expired"])
    assert float(ch["p50"]) == duck["p50_days_to_complete"]


def test_clickhouse_reads_the_same_learning_and_member_counts(exported: tuple[AnalyticsStore, Path]) -> None:
    store, directory = exported
    [ch] = clickhouse(f"""
        SELECT countIf(activity = 'study_checked_in') AS check_ins,
               uniqExactIf(member_id, activity = 'meeting_attended') AS attending
        FROM file('{directory}/learning_activity/tenant={TENANT}/**/*.parquet', Parquet)
        WHERE day BETWEEN toDate('{PERIOD[0]}') AND toDate('{PERIOD[1]}')""")
    [registered] = clickhouse(f"""
        SELECT countIf(change = 'registered') AS n
        FROM file('{directory}/member_changes/tenant={TENANT}/**/*.parquet', Parquet)
        WHERE day BETWEEN toDate('{PERIOD[0]}') AND toDate('{PERIOD[1]}')""")
    with store.reader() as con:
        [learning] = compute(con, "learning", Query(TENANT, *PERIOD)).rows
        [members] = compute(con, "members", Query(TENANT, *PERIOD)).rows
    assert learning["study_check_ins"] > 0
    assert (int(ch["check_ins"]), int(ch["attending"])) == (
        learning["study_check_ins"],
        learning["members_attending"],
    )
    assert int(registered["n"]) == members["registered_in_period"]
