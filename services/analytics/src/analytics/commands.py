"""`lianxin analytics rebuild` and `lianxin analytics export DIR`, on the embedded platform's data folder."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

import duckdb

from analytics.export import export_parquet
from analytics.rebuild import progress_bar, replay
from analytics.store import connect


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "analytics", help="rebuild the analytics store from the streams, or export it"
    )
    actions = parser.add_subparsers(dest="analytics_command", required=True)
    rebuild = actions.add_parser(
        "rebuild", help="replay every stream from its first message into fresh tables"
    )
    rebuild.add_argument("--nats-url", default=None, help="default: the embedded platform's NATS")
    rebuild.add_argument(
        "--into",
        type=Path,
        default=None,
        help="the fresh DuckDB file (default: analytics.rebuilt.duckdb beside the live one)",
    )
    rebuild.add_argument(
        "--replace",
        action="store_true",
        help="then move it over the live file (stop the analytics service first)",
    )
    export = actions.add_parser("export", help="write the partitioned Parquet export (tenant=/month=) to DIR")
    export.add_argument("directory", type=Path)
    export.add_argument("--database", type=Path, default=None, help="default: the live DuckDB file")


def run(args: argparse.Namespace, *, database: Path, nats_url: str) -> int:
    if args.analytics_command == "rebuild":
        target = args.into or database.with_name("analytics.rebuilt.duckdb")
        summary = asyncio.run(replay(args.nats_url or nats_url, target, progress=progress_bar()))
        print(json.dumps({k: v for k, v in summary.items() if k != "tables"}))
        if args.replace:
            try:
                connect(database).close()  # refused while the analytics service holds the file
            except duckdb.Error as exc:
                print(
                    f"lianxin: {database} is in use ({exc}); stop the analytics service and retry",
                    file=sys.stderr,
                )
                return 1
            database.with_name(database.name + ".wal").unlink(missing_ok=True)
            target.replace(database)
            print(f"replaced {database}")
        return 0
    con = connect(args.database or database, read_only=True)
    try:
        files = export_parquet(con, args.directory)
    finally:
        con.close()
    print(f"{len(files)} Parquet files under {args.directory}")
    return 0
