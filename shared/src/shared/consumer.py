"""Durable pull consumers: effect and tracking commit together, ack after commit, dead letters never silent."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from eventsourcing.domain import Aggregate
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.errors import ConnectionClosedError, NoServersError
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from opentelemetry.trace import SpanKind
from pydantic import BaseModel, ValidationError

from shared.envelope import CloudEvent
from shared.eventstore import ServiceApplication, Tracking
from shared.messaging import (
    DEAD_CONSUMER,
    DEAD_REASON,
    DEAD_SEQUENCE,
    DEAD_SUBJECT,
    MSG_ID,
    ConsumerSpec,
    dead_letter_subject,
)
from shared.telemetry import CONSUMED, DEAD_LETTERS, extract_context, tracer
from shared.threads import run_sync

logger = logging.getLogger("lianxin.consumer")

Handler = Callable[[CloudEvent], Awaitable[None]]
# What a service does with one upstream event whose contract it reads: the aggregates to store with its position.
Reaction = Callable[[CloudEvent, Any], Iterable[Aggregate | None]]


class PermanentFailure(Exception):
    """The message can never be applied (malformed, unknown contract, refused by the domain)."""


def apply_tracked(
    app: ServiceApplication, event: CloudEvent, contracts: Mapping[str, type[BaseModel]], react: Reaction
) -> list[Aggregate]:
    """Apply one upstream event once: skip it if its position is tracked, check it against its contract (a
    mismatch is permanent), let the service react, and store what changed with the position in one transaction.
    An event of a type the service does not read only advances the position. Returns what was stored.

    The reaction's reads (the aggregates it loads, a subject key it creates) run in the save's transaction
    (`ServiceApplication.in_one_transaction`): one commit per event. The tracking row's insert refuses a position
    at or below the stored one (IntegrityError), so the save itself is what makes an event apply once; the position
    this process last committed (a lower bound of the stored one) skips a known duplicate without a round trip,
    and the stored position is read only when the reaction or the save fails (after that transaction has rolled
    back), to tell a duplicate from a real refusal or clash."""
    tracking = Tracking(event.service, event.notification_id)
    if app.known_tracked(tracking.application_name) >= tracking.notification_id:
        return []
    contract = contracts.get(event.type)
    data: Any = None
    if contract is not None:
        try:
            data = contract.model_validate(event.data)
        except ValidationError as exc:
            raise PermanentFailure(f"{event.type} does not match its contract: {exc}") from exc

    def react_and_save() -> list[Aggregate]:
        changed = [] if contract is None else [a for a in react(event, data) if a is not None]
        app.save_tracked(tracking, *changed)
        return changed

    try:
        return app.in_one_transaction(react_and_save)
    except Exception:
        # A redelivered event the domain now refuses, or an earlier or concurrent application of this very event
        # (the tracking insert's IntegrityError): a duplicate once tracked, not a dead letter. Anything else goes
        # up: a clash or a failure, retried by redelivery, which runs the reaction again on reloaded aggregates.
        if app.already_processed(tracking.application_name, tracking.notification_id):
            return []
        raise


def tracked_handler(
    app: ServiceApplication, contracts: Mapping[str, type[BaseModel]], react: Reaction
) -> Handler:
    """The consumer handler for `apply_tracked`, run in the worker threads (the event store is synchronous)."""

    async def handle(event: CloudEvent) -> None:
        await run_sync(apply_tracked, app, event, contracts, react)

    return handle


def backoff_seconds(delivered: int, *, base: float = 0.5, cap: float = 30.0) -> float:
    """Exponential backoff with full jitter for the nth delivery."""
    return random.uniform(0, min(cap, base * 2 ** max(0, delivered - 1)))


async def fetch(sub: JetStreamContext.PullSubscription, batch: int) -> list[Msg]:
    """One pull: the messages, or none on a timeout, or none after a pause when the connection is down.

    nats-py raises its own TimeoutError when the pull expires, but a plain asyncio.TimeoutError when the deadline
    has run out before its second (lingering) request, which happens on a loaded machine: both mean no message
    arrived (a pull that got any returns them), and neither may end the consumer's loop."""
    try:
        return await sub.fetch(batch=batch, timeout=1)
    except (NatsTimeout, TimeoutError):
        return []
    except (ConnectionClosedError, NoServersError, ConnectionError) as exc:
        logger.warning("consumer fetch failed; retrying", extra={"error": repr(exc)})
        await asyncio.sleep(1)
        return []


class ConsumerRunner:
    def __init__(self, *, nc: NATS, js: JetStreamContext, spec: ConsumerSpec, handler: Handler) -> None:
        self.nc = nc
        self.js = js
        self.spec = spec
        self.handler = handler
        self.dead_subject = dead_letter_subject(spec.service, spec.durable)

    async def run(self) -> None:
        advisory = await self.nc.subscribe(
            f"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{self.spec.stream}.{self.spec.durable}",
            cb=self._on_max_deliveries,
        )
        sub = None
        try:
            sub = await self.js.pull_subscribe_bind(self.spec.durable, self.spec.stream)
            while True:
                for msg in await fetch(sub, max(1, min(self.spec.max_ack_pending, 64))):
                    await self._handle(msg)
        finally:
            # Unsubscribed here, the pull subscription leaves nothing for drain() to cancel at shutdown.
            for subscription in (sub, advisory):
                if subscription is not None:
                    with contextlib.suppress(Exception):
                        await subscription.unsubscribe()

    async def _handle(self, msg: Msg) -> None:
        delivered = msg.metadata.num_delivered
        try:
            event = CloudEvent.from_bytes(msg.data)
        except (ValueError, ValidationError) as exc:
            await self._dead_letter(msg, f"malformed CloudEvent: {exc}")
            await msg.term()
            return
        ctx = extract_context({"traceparent": event.traceparent} if event.traceparent else msg.headers)
        with tracer().start_as_current_span(f"consume {event.type}", context=ctx, kind=SpanKind.CONSUMER):
            try:
                await self.handler(event)
            except PermanentFailure as exc:
                await self._dead_letter(msg, str(exc))
                await msg.term()
                return
            except Exception as exc:
                CONSUMED.labels(self.spec.service, self.spec.durable, "retry").inc()
                delay = backoff_seconds(delivered)
                logger.warning(
                    "transient failure; message will be redelivered",
                    extra={"event_id": event.id, "delivered": delivered, "error": repr(exc)},
                )
                await msg.nak(delay=delay)
                return
        # Not awaited: the next fetch follows the ack on the same connection, so the server has it first; an ack
        # lost on the way only brings a redelivery, which the tracked position skips.
        await msg.ack()
        CONSUMED.labels(self.spec.service, self.spec.durable, "applied").inc()

    async def _dead_letter(self, msg: Msg, reason: str, *, stream_seq: int | None = None) -> None:
        seq = stream_seq if stream_seq is not None else msg.metadata.sequence.stream
        headers = {
            MSG_ID: f"dead:{self.spec.stream}:{seq}",
            DEAD_REASON: reason[:1000],
            DEAD_SUBJECT: msg.subject,
            DEAD_SEQUENCE: str(seq),
            DEAD_CONSUMER: self.spec.durable,
        }
        await self.js.publish(self.dead_subject, msg.data, headers=headers)
        DEAD_LETTERS.labels(self.spec.service, self.spec.durable).inc()
        CONSUMED.labels(self.spec.service, self.spec.durable, "dead").inc()
        logger.error(
            "message dead-lettered", extra={"subject": msg.subject, "stream_seq": seq, "reason": reason}
        )

    async def _on_max_deliveries(self, advisory: Msg) -> None:
        """JetStream only announces an exhausted max_deliver; copy the message to the dead-letter subject."""
        try:
            seq = int(json.loads(advisory.data)["stream_seq"])
            original = await self.js.get_msg(self.spec.stream, seq)
            fake = _Stored(original.subject or "", original.data or b"")
            await self._dead_letter(
                fake,  # type: ignore[arg-type]
                f"max_deliver ({self.spec.max_deliver}) exhausted",
                stream_seq=seq,
            )
        except Exception:
            logger.exception("could not dead-letter after max deliveries")


class _Stored:
    def __init__(self, subject: str, data: bytes) -> None:
        self.subject = subject
        self.data = data
