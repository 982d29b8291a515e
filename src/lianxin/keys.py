"""`lianxin keys rotate`: re-encrypt each service's stored data under the first key of CIPHER_KEY's ring.

Production (docs/audit.md): set CIPHER_KEY="NEW,OLD" on every instance (a rolling restart: every instance then
writes with NEW and reads both), run `lianxin keys rotate --service S --database-url OWNER_URL` with the same
CIPHER_KEY and the service's AUDIT_SIGNING_KEY in its environment, and once every service reports done, set
CIPHER_KEY="NEW". The embedded platform: `lianxin keys rotate --begin` puts a fresh key first in
.lianxin/secrets.json (restart `lianxin dev`), then `lianxin keys rotate`, then `lianxin keys rotate --finish`.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from pathlib import Path
from urllib.parse import urlparse, urlunparse

from lianxin.config import SERVICES, DevConfig, dev_secrets
from shared.rotation import Rotation, RotationRefused, status


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--service",
        action="append",
        help="repeatable; all four by default (with --database-url, any application's name)",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="with one --service: its database as the owner role; CIPHER_KEY and "
        "AUDIT_SIGNING_KEY then come from the environment",
    )
    parser.add_argument("--batch", type=int, default=500, help="rows per transaction")
    parser.add_argument(
        "--pause", type=float, default=0.0, help="seconds between batches, to spare the database"
    )
    parser.add_argument("--admin-url", default=None, help="the embedded platform's PostgreSQL (development)")
    parser.add_argument("--db-prefix", default="lianxin", help="database name prefix (development)")
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="the platform's data folder (secrets.json)"
    )
    parser.add_argument("--begin", action="store_true", help="development: put a fresh key first in the ring")
    parser.add_argument(
        "--finish",
        action="store_true",
        help="development: keep only the first key, once every service is re-encrypted",
    )
    parser.add_argument("--status", action="store_true", help="print the progress rows and exit")


def _ring_file(data_dir: Path) -> tuple[Path, dict[str, str]]:
    dev_secrets(data_dir)
    path = data_dir / "secrets.json"
    values: dict[str, str] = json.loads(path.read_text())
    return path, values


def run_rotate(args: argparse.Namespace) -> int:
    config = DevConfig.from_env()
    services = args.service or list(SERVICES)
    if not args.database_url and not set(services) <= set(SERVICES):
        print(f"lianxin: --service must be one of {', '.join(SERVICES)}", file=sys.stderr)
        return 2
    data_dir = (args.data_dir or config.data_dir).resolve()
    if args.begin or args.finish:
        path, values = _ring_file(data_dir)
        ring = [k for k in values["cipher_key"].split(",") if k]
        values["cipher_key"] = ",".join(
            [base64.b64encode(os.urandom(32)).decode(), *ring] if args.begin else ring[:1]
        )
        path.write_text(json.dumps(values))
        print(
            "CIPHER_KEY ring now has", len(values["cipher_key"].split(",")), "key(s); restart `lianxin dev`"
        )
        return 0
    if args.database_url:
        if len(services) != 1:
            print("lianxin: --database-url needs exactly one --service", file=sys.stderr)
            return 2
        jobs = [
            (
                services[0],
                args.database_url,
                os.environ.get("CIPHER_KEY", ""),
                os.environ.get("AUDIT_SIGNING_KEY"),
            )
        ]
    else:
        _, values = _ring_file(data_dir)
        admin = urlparse(args.admin_url or f"postgresql://postgres@{config.host}:{config.pg_port}/postgres")
        jobs = [
            (
                s,
                urlunparse(admin._replace(path=f"/{args.db_prefix}_{s}")),
                values["cipher_key"],
                values[f"audit_signing_key_{s}"],
            )
            for s in services
        ]
    if args.status:
        for service, url, _, _ in jobs:
            for target, phase, seen, changed, total, done in status(url):
                state = f"done {done.isoformat()}" if done else "in progress"
                print(
                    f"{service} {phase} (key {target}): {seen}/{total} seen, {changed} re-encrypted, {state}"
                )
        return 0
    for service, url, cipher_key, signing_key in jobs:
        if not cipher_key:
            print("lianxin: CIPHER_KEY is not set", file=sys.stderr)
            return 2

        def report(phase: str, seen: int, changed: int, total: int, service: str = service) -> None:
            share = f"{100 * seen // total}%" if total else "-"
            print(f"{service} {phase}: {seen}/{total} ({share}), {changed} re-encrypted", flush=True)

        rotation = Rotation(
            service=service,
            owner_url=url,
            cipher_key=cipher_key,
            signing_key=signing_key,
            batch=args.batch,
            pause=args.pause,
            progress=report,
        )
        try:
            rotation.run()
        except RotationRefused as exc:
            print(f"lianxin: {service}: {exc}", file=sys.stderr)
            return 1
        print(f"{service}: every stored value is under key {rotation.target}")
    return 0
