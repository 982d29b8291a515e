"""NATS connections and the JetStream layout declared in deploy/nats/jetstream.json."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

logger = logging.getLogger("lianxin.messaging")

MSG_ID = "Nats-Msg-Id"
DEAD_REASON = "Lianxin-Dead-Reason"
DEAD_SUBJECT = "Lianxin-Original-Subject"
DEAD_SEQUENCE = "Lianxin-Original-Sequence"
DEAD_CONSUMER = "Lianxin-Consumer"


@dataclass(frozen=True)
class ConsumerSpec:
    service: str
    stream: str
    durable: str
    # The subjects of the event types its handler acts on (JetStream multi-filter): the server delivers nothing
    # else, so nothing else takes a round trip (docs/adr/0005, Amendment).
    filter_subjects: tuple[str, ...]
    max_deliver: int
    ack_wait_seconds: float
    max_ack_pending: int
    # After a fetch that brought fewer than a full batch, wait this long and take what came meanwhile into the
    # same run: one transaction, one commit, one read of the upstream's names for several events instead of a
    # wake-up per event. Each event's effect then comes up to this much later; a backlog fills its batches and
    # never waits. For consumers nothing waits on (notices, not saga steps): 0 elsewhere.
    linger_seconds: float = 0.0

    @classmethod
    def of(cls, declared: dict[str, Any]) -> ConsumerSpec:
        """A consumer as deploy/nats/jetstream.json declares it."""
        return cls(**{**declared, "filter_subjects": tuple(declared["filter_subjects"])})


async def connect(url: str, name: str) -> NATS:
    """Reconnects forever: a NATS restart pauses publishing and consuming, it never ends the process."""

    async def on_error(exc: Exception) -> None:
        logger.warning("nats error", extra={"error": repr(exc)})

    async def on_disconnect() -> None:
        logger.warning("nats disconnected")

    async def on_reconnect() -> None:
        logger.info("nats reconnected")

    # NATS_URL may list the servers of a cluster, comma-separated; the client fails over between them.
    servers = [u.strip() for u in url.split(",") if u.strip()]
    return await nats.connect(
        servers,
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        connect_timeout=5,
        allow_reconnect=True,
        error_cb=on_error,
        disconnected_cb=on_disconnect,
        reconnected_cb=on_reconnect,
    )


def load_layout(path: Path) -> dict[str, Any]:
    layout: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return layout


def consumer_specs(path: Path, service: str) -> list[ConsumerSpec]:
    return [ConsumerSpec.of(c) for c in load_layout(path)["consumers"] if c["service"] == service]


def dead_letter_subject(service: str, durable: str) -> str:
    return f"lianxin.deadletter.{service}.{durable}"


async def apply_jetstream_config(js: JetStreamContext, path: Path, *, replicas: int | None = None) -> None:
    """Create or update every stream and durable consumer; safe to run from every service at once."""
    layout = load_layout(path)
    replicas = replicas or int(os.environ.get("JETSTREAM_REPLICAS", "1"))
    for s in layout["streams"]:
        config = StreamConfig(
            name=s["name"],
            subjects=s["subjects"],
            storage=StorageType.FILE,
            num_replicas=replicas,
            duplicate_window=float(s["duplicate_window_seconds"]),
            max_age=float(s["max_age_days"]) * 86400,
        )
        try:
            await js.stream_info(s["name"])
            await js.update_stream(config)
        except NotFoundError:
            try:
                await js.add_stream(config)
            except BadRequestError:  # another service created it between our two calls
                await js.update_stream(config)
    for c in layout["consumers"]:
        spec = ConsumerSpec.of(c)
        # Create or update: an existing durable takes the new filters in place, its pending messages kept.
        await js.add_consumer(spec.stream, consumer_config(spec))


def consumer_config(spec: ConsumerSpec) -> ConsumerConfig:
    """The durable pull consumer a spec declares: explicit acks, from the stream's first message."""
    return ConsumerConfig(
        durable_name=spec.durable,
        filter_subjects=list(spec.filter_subjects),
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        max_deliver=spec.max_deliver,
        ack_wait=spec.ack_wait_seconds,
        max_ack_pending=spec.max_ack_pending,
    )
