"""`lianxin audit verify`: each service's event log against its hash chain and signed checkpoints and, with
`--stream`, the CloudEvents on JetStream against the integration events the stored events map to."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import importlib
import os
import sys
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import nats
import psycopg
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from lianxin.config import SERVICES, DevConfig, dev_secrets, service_env
from shared import audit
from shared.clock import SystemClock
from shared.envelope import CloudEvent
from shared.eventstore import ServiceApplication, persistence_env
from shared.relay import to_cloudevent
from shared.runtime import DECLARED, ServiceParts

AUDIT_STREAM = "LIANXIN_AUDIT"


@dataclass
class Target:
    """One service to check: where its database is, which keys may sign its checkpoints, its environment."""

    service: str
    database_url: str
    trusted_keys: list[str]
    env: dict[str, str] = field(default_factory=dict)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--service",
        action="append",
        choices=SERVICES,
        help="check this service (repeatable); all four by default",
    )
    parser.add_argument(
        "--since",
        default=None,
        help="start from the last good checkpoint at or before this notification id or ISO time",
    )
    parser.add_argument(
        "--stream",
        action="store_true",
        help="also check the CloudEvents on JetStream against the stored events, and the "
        "checkpoint copies on the stream",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="with one --service: its database (default: the embedded platform's)",
    )
    parser.add_argument(
        "--trusted-key",
        action="append",
        default=[],
        help="a public key (base64) that may sign checkpoints; default: the development keys",
    )
    parser.add_argument("--admin-url", default=None, help="the embedded platform's PostgreSQL (development)")
    parser.add_argument("--db-prefix", default="lianxin", help="database name prefix (development)")
    parser.add_argument(
        "--nats-url", default=None, help="NATS for --stream (default: NATS_URL or the embedded one)"
    )
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="the platform's data folder (secrets.json)"
    )


def _with_db(url: str, dbname: str) -> str:
    return urlunparse(urlparse(url)._replace(path=f"/{dbname}"))


def targets(args: argparse.Namespace, config: DevConfig) -> list[Target]:
    services = args.service or list(SERVICES)
    if args.database_url:
        if len(services) != 1:
            raise SystemExit("lianxin: --database-url needs exactly one --service")
        keys = args.trusted_key or audit.trusted_keys_from(
            os.environ.get("AUDIT_SIGNING_KEY"), os.environ.get("AUDIT_TRUSTED_KEYS")
        )
        return [Target(services[0], args.database_url, keys, dict(os.environ))]
    data_dir = (args.data_dir or config.data_dir).resolve()
    secrets = dev_secrets(data_dir)
    admin = args.admin_url or f"postgresql://postgres@{config.host}:{config.pg_port}/postgres"
    found = []
    for service in services:
        url = _with_db(admin, f"{args.db_prefix}_{service}")
        keys = args.trusted_key or audit.trusted_keys_from(secrets[f"audit_signing_key_{service}"], None)
        env = service_env(
            service,
            app_url=url,
            owner_url=url,
            nats_url=args.nats_url or "",
            host=config.host,
            port=config.service_ports[service],
            data_dir=data_dir,
            public_key=data_dir / "dev-public-key.pem",
        )
        found.append(Target(service, url, keys, env))
    return found


def parse_since(text: str | None) -> int | datetime | None:
    if text is None:
        return None
    if text.isdigit():
        return int(text)
    return datetime.fromisoformat(text)


# ---------------------------------------------------------------------------------------------- the stream


def service_parts(service: str, env: Mapping[str, str]) -> ServiceParts:
    """The service's own parts, built by its create_app from the given environment."""
    settings_module = importlib.import_module(f"{service}.settings")
    settings_class = getattr(settings_module, f"{service.capitalize()}Settings")
    settings = settings_class(**{k.lower(): v for k, v in env.items()})
    importlib.import_module(f"{service}.main").create_app(settings)
    return DECLARED[service]


def expected_events(app: ServiceApplication, parts: ServiceParts, upto: int) -> Iterator[CloudEvent]:
    """The integration events the relay publishes for stored events up to `upto`, built the way it builds them."""
    outbound = parts.outbound_for(app)
    assert outbound is not None
    position = 0
    while position < upto:
        batch = app.recorder.select_notifications(
            start=position, limit=1000, stop=upto, inclusive_of_start=False
        )
        if not batch:
            return
        for notification in batch:
            domain_event = app.mapper.to_domain_event(notification)
            mapped = outbound(domain_event)
            if mapped is not None:
                yield to_cloudevent(parts.service, domain_event, notification.id, *mapped)
        position = batch[-1].id


async def _read_stream(url: str, stream: str, subject: str) -> list[Any]:
    nc = await nats.connect(url, connect_timeout=5)
    try:
        js = nc.jetstream(timeout=10)
        try:
            info = await js.stream_info(stream)
        except NotFoundError:
            return []
        last = info.state.last_seq
        if info.state.messages == 0:
            return []
        sub = await js.subscribe(
            subject,
            stream=stream,
            ordered_consumer=True,
            config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
        )
        found = []
        try:
            while True:
                msg = await sub.next_msg(timeout=10)
                found.append(msg)
                if msg.metadata.sequence.stream >= last:
                    break
        except TimeoutError:
            pass  # the last message did not match the subject: everything that did has arrived
        finally:
            await sub.unsubscribe()
        return found
    finally:
        await nc.close()


@dataclass
class StreamCheck:
    service: str
    aggregates: int = 0
    events: int = 0
    duplicates: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        state = (
            "OK"
            if self.ok
            else f"MISMATCH: {self.problems[0]}"
            + (f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else "")
        )
        return (
            f"{self.service} stream: {state} ({self.events} integration events over {self.aggregates} "
            f"aggregates, {self.duplicates} duplicate copies)"
        )


def _digest(events: list[CloudEvent]) -> str:
    h = hashlib.sha256()
    for event in sorted(events, key=lambda e: e.notification_id):
        h.update(event.to_bytes())
        h.update(b"\n")
    return h.hexdigest()


def compare_stream(service: str, stored: list[CloudEvent], published: list[CloudEvent]) -> StreamCheck:
    """Per aggregate (the CloudEvent subject): the same number of events and the same content hash."""
    check = StreamCheck(service)
    by_id: dict[str, CloudEvent] = {}
    for event in published:
        seen = by_id.get(event.id)
        if seen is None:
            by_id[event.id] = event
        elif seen.to_bytes() == event.to_bytes():
            check.duplicates += 1  # re-published after a crash, outside the dedupe window: the same event
        else:
            check.problems.append(f"event {event.id} is on the stream twice with different content")
    expected: dict[str, list[CloudEvent]] = defaultdict(list)
    actual: dict[str, list[CloudEvent]] = defaultdict(list)
    for event in stored:
        expected[event.subject].append(event)
    for event in by_id.values():
        actual[event.subject].append(event)
    check.aggregates = len(expected)
    check.events = len(stored)
    for subject in sorted(set(expected) | set(actual)):
        want, got = expected.get(subject, []), actual.get(subject, [])
        if len(want) != len(got):
            missing = sorted({e.id for e in want} - {e.id for e in got})
            extra = sorted({e.id for e in got} - {e.id for e in want})
            check.problems.append(
                f"aggregate {subject}: {len(want)} stored, {len(got)} on the stream"
                + (f"; missing {missing[:3]}" if missing else "")
                + (f"; not stored {extra[:3]}" if extra else "")
            )
        elif _digest(want) != _digest(got):
            stored_bytes = {e.id: e.to_bytes() for e in want}
            differing = sorted(e.id for e in got if stored_bytes.get(e.id) != e.to_bytes())
            check.problems.append(f"aggregate {subject}: content differs from the store at {differing[:3]}")
    return check


def check_stream(target: Target, nats_url: str) -> StreamCheck:
    parts = service_parts(target.service, target.env)
    if parts.outbound is None and parts.outbound_of is None:
        return StreamCheck(target.service)
    app = parts.application(
        persistence_env(
            target.database_url, target.env["CIPHER_KEY"], create_table=False, pool_size=1, max_overflow=0
        ),
        SystemClock(),
    )
    try:
        with psycopg.connect(target.database_url) as conn:
            row = conn.execute(
                "SELECT position FROM relay_position WHERE name = %s", (f"{target.service}-relay",)
            ).fetchone()
        published_upto = int(row[0]) if row else 0
        stored = list(expected_events(app, parts, published_upto))
    finally:
        app.close()
    messages = asyncio.run(
        _read_stream(nats_url, f"LIANXIN_{target.service.upper()}", f"lianxin.{target.service}.>")
    )
    # What the relay sent past its recorded position is in flight: it is compared on the next run.
    published = [
        e for e in (CloudEvent.from_bytes(m.data) for m in messages) if e.notification_id <= published_upto
    ]
    return compare_stream(target.service, stored, published)


def stream_checkpoints(nats_url: str, service: str) -> list[audit.Checkpoint]:
    messages = asyncio.run(
        _read_stream(nats_url, AUDIT_STREAM, audit.CHECKPOINT_SUBJECT.format(service=service))
    )
    found = []
    for msg in messages:
        seq = int((msg.headers or {}).get("Nats-Msg-Id", "0").rsplit(":", 1)[-1])
        found.append(audit.Checkpoint.from_message(seq, msg.data))
    return found


# ---------------------------------------------------------------------------------------------- the command


def run_verify(args: argparse.Namespace) -> int:
    config = DevConfig.from_env()
    since = parse_since(args.since)
    nats_url = args.nats_url or os.environ.get("NATS_URL") or f"nats://{config.host}:{config.nats_port}"
    failed = False
    for target in targets(args, config):
        extra = stream_checkpoints(nats_url, target.service) if args.stream else []
        try:
            with psycopg.connect(target.database_url, connect_timeout=5) as conn:
                result = audit.verify(
                    conn, target.service, target.trusted_keys, extra_checkpoints=extra, since=since
                )
        except psycopg.OperationalError as exc:
            print(f"{target.service}: cannot read the database: {exc}", file=sys.stderr)
            return 2
        print(result.summary())
        for note in result.notes:
            print(f"  note: {note}")
        failed |= not result.ok
        if args.stream:
            check = check_stream(target, nats_url)
            print(check.summary())
            for problem in check.problems[1:]:
                print(f"  also: {problem}")
            failed |= not check.ok
    return 1 if failed else 0
