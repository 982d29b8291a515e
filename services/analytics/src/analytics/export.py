"""Partitioned Parquet (tenant=/month=) of the raw and modelled tables: what ClickHouse, Trino and Spark read."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from analytics.store.schema import FACT_TABLES

EXPORTED = ("events", *FACT_TABLES)


def export_parquet(con: duckdb.DuckDBPyConnection, directory: Path) -> list[str]:
    """One folder per table, `<table>/tenant=<t>/month=<YYYY-MM>/data_0.parquet`; rewritten whole on each run.

    The partition columns are written into the files too, so a reader without hive partitioning still has them.
    """
    directory.mkdir(parents=True, exist_ok=True)
    files: list[str] = []
    for table in EXPORTED:
        month = "strftime(time + INTERVAL 8 HOUR, '%Y-%m')" if table == "events" else "strftime(day, '%Y-%m')"
        data = "CAST(data AS VARCHAR) AS data, " if table == "events" else ""
        columns = "* EXCLUDE (data), " if table == "events" else "*, "
        target = directory / table
        shutil.rmtree(target, ignore_errors=True)
        con.execute(
            f"COPY (SELECT {columns}{data}coalesce({month}, 'unknown') AS month FROM {table} ORDER BY ALL) "
            f"TO '{target.as_posix()}' (FORMAT PARQUET, PARTITION_BY (tenant, month), "
            f"WRITE_PARTITION_COLUMNS true, FILENAME_PATTERN 'data_{{i}}')"
        )
        files += sorted(str(p.relative_to(directory)) for p in target.rglob("*.parquet"))
    return files
