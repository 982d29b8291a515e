"""Durable pull consumers: effect and tracking commit together, ack after commit, dead letters never silent."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import random
import zlib
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import asyncpg
from eventsourcing.domain import Aggregate
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.errors import ConnectionClosedError, NoServersError
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from opentelemetry.trace import SpanKind
from pydantic import BaseModel, ValidationError

from shared.envelope import CloudEvent
from shared.eventstore import SavesFailed, ServiceApplication, Tracking
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
from shared.unitofwork import UnitInterrupted, unit_datastore

logger = logging.getLogger("lianxin.consumer")

# What a service does with one upstream event whose contract it reads: the aggregates to store with its position.
Reaction = Callable[[CloudEvent, Any], Iterable[Aggregate | None]]
# A consumer's handler: given the next events of its upstream, in order, it applies some from the front and says
# how far it got (`Applied`); the runner acknowledges those and hands it the rest.
Handler = Callable[[Sequence[CloudEvent]], Awaitable["Applied"]]
EventHandler = Callable[[CloudEvent], Awaitable[None]]


class PermanentFailure(Exception):
    """The message can never be applied (malformed, unknown contract, refused by the domain)."""


@dataclass(frozen=True)
class Applied:
    """How far a handler got through the events it was given: the first `count` are stored (or were duplicates)
    and may be acknowledged; `failure` is what stopped the next one (a `PermanentFailure`: dead letter; anything
    else: it and every later one come back). No failure and a count short of the events: it stopped there by
    choice, and the runner hands it the rest."""

    count: int
    failure: Exception | None = None


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
    try:
        return app.in_one_transaction(lambda: _react_and_save(app, event, contracts, react))
    except Exception:
        # A redelivered event the domain now refuses, or an earlier or concurrent application of this very event
        # (the tracking insert's IntegrityError): a duplicate once tracked, not a dead letter. Anything else goes
        # up: a clash or a failure, retried by redelivery, which runs the reaction again on reloaded aggregates.
        if app.already_processed(tracking.application_name, tracking.notification_id):
            return []
        raise


# What a service reads for a whole run before its events are applied, inside the run's transaction (one query for
# what it would otherwise read event by event): a context its reactions use until the block ends.
Prepare = Callable[[Sequence[CloudEvent]], AbstractContextManager[object]]


def apply_tracked_in_order(
    app: ServiceApplication,
    events: Sequence[CloudEvent],
    contracts: Mapping[str, type[BaseModel]],
    react: Reaction,
    prepare: Prepare | None = None,
    *,
    hold_saves: bool = False,
) -> Applied:
    """`apply_tracked` for consecutive events of one upstream, in one transaction: each event in a savepoint, so
    one that fails rolls back alone, and the run stops there: the events before it commit together (one commit
    for the run, not one per event), it and the ones after are left to come back in order. Never applies an
    event after one that failed: tracked first, that later position would make the earlier event look like a
    duplicate when it came back.

    Each event's savepoint is sent only when its reaction uses the database (`lazy_savepoint`). `hold_saves`: the
    events' saves are held and inserted together at the end of the run, or before a reaction reads an aggregate
    (`ServiceApplication.holding_saves`; for reactions that only return what they change). When that insert
    fails, which event's save was at fault is not known: the whole run rolls back and runs again with each
    event's save its own, which finds it. `prepare` (best effort: a failure only logs) reads what the run's
    reactions need first."""
    datastore = unit_datastore(app)
    if datastore is None:  # in-memory persistence (unit tests): each save is its own
        with _prepared(prepare, events, None):
            for index, event in enumerate(events):
                try:
                    apply_tracked(app, event, contracts, react)
                except Exception as exc:
                    return Applied(index, exc)
        return Applied(len(events))
    unit = datastore
    if len(events) == 1:
        # One event (the usual case when they come one at a time): its transaction is its savepoint, two statements
        # less; after a failure `apply_tracked` tells a duplicate on a connection of its own.
        with _span(events[0]):
            try:
                apply_tracked(app, events[0], contracts, react)
            except Exception as exc:
                return Applied(0, exc)
        return Applied(1)

    def run(hold: bool) -> Applied:
        # Positions stored by this run, not yet committed (so not yet known to `known_tracked`): a duplicate of an
        # event earlier in the run is skipped here, without running its reaction.
        stored: dict[str, int] = {}
        with _prepared(prepare, events, unit), app.holding_saves() if hold else contextlib.nullcontext():
            for index, event in enumerate(events):
                if event.notification_id <= stored.get(event.service, 0):
                    continue
                inserts = app.held_inserts()
                with _span(event):
                    try:
                        with unit.lazy_savepoint():
                            _react_and_save(app, event, contracts, react)
                    except (UnitInterrupted, SavesFailed):
                        raise  # the whole run goes: in_one_transaction or the caller runs it again
                    except Exception as exc:
                        if app.held_inserts() != inserts:
                            # Its read inserted the earlier events' held saves, and its savepoint took them back.
                            raise SavesFailed(
                                f"a failed event took the run's saves with it: {exc!r}"
                            ) from exc
                        # Read inside this transaction: what committed before, and what this run stored.
                        if app.process_recorder.has_tracking_id(event.service, event.notification_id):
                            continue
                        return Applied(index, exc)
                stored[event.service] = max(stored.get(event.service, 0), event.notification_id)
        return Applied(len(events))

    try:
        try:
            return app.in_one_transaction(lambda: run(hold=hold_saves))
        except SavesFailed:
            logger.warning("a run's saves failed together; applying it again one save at a time")
            return app.in_one_transaction(lambda: run(hold=False))
    except Exception as exc:  # the commit failed, or the connection stayed lost: nothing of the run is stored
        return Applied(0, exc)


@contextlib.contextmanager
def _prepared(prepare: Prepare | None, events: Sequence[CloudEvent], unit: Any) -> Iterator[None]:
    """`prepare`'s reads in a savepoint of their own: a failure rolls back only them, and the run goes on
    reading event by event."""
    if prepare is None:
        yield
        return
    with contextlib.ExitStack() as stack:
        try:
            with unit.savepoint() if unit is not None else contextlib.nullcontext():
                stack.enter_context(prepare(events))
        except UnitInterrupted:
            raise
        except Exception:
            logger.exception("a run's reads could not be made together; reading event by event")
        yield


def _react_and_save(
    app: ServiceApplication, event: CloudEvent, contracts: Mapping[str, type[BaseModel]], react: Reaction
) -> list[Aggregate]:
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
    changed = [] if contract is None else [a for a in react(event, data) if a is not None]
    app.save_tracked(tracking, *changed)
    return changed


def _span(event: CloudEvent) -> Any:
    ctx = extract_context({"traceparent": event.traceparent} if event.traceparent else None)
    return tracer().start_as_current_span(f"consume {event.type}", context=ctx, kind=SpanKind.CONSUMER)


def tracked_handler(
    app: ServiceApplication, contracts: Mapping[str, type[BaseModel]], react: Reaction
) -> Handler:
    """The consumer handler for `apply_tracked_in_order`, run in the worker threads (the event store is
    synchronous): what the runner fetched, applied in one transaction up to the first failure."""

    async def handle(events: Sequence[CloudEvent]) -> Applied:
        return await run_sync(apply_tracked_in_order, app, events, contracts, react)

    return handle


def one_at_a_time(handle: EventHandler) -> Handler:
    """A handler of single events as a consumer's handler: it takes the first event, and a raise is its failure."""

    async def first(events: Sequence[CloudEvent]) -> Applied:
        try:
            await handle(events[0])
        except Exception as exc:
            return Applied(0, exc)
        return Applied(1)

    return first


def each_alone(alone: Callable[[CloudEvent], bool], own: EventHandler, rest: Handler) -> Handler:
    """Events `alone` picks go one at a time to `own` (an erasure that also clears read models outside the event
    store, before and after); runs of the others go to `rest` together."""
    own_handler = one_at_a_time(own)

    async def handle(events: Sequence[CloudEvent]) -> Applied:
        if alone(events[0]):
            return await own_handler(events)
        return await rest(list(itertools.takewhile(lambda event: not alone(event), events)))

    return handle


def backoff_seconds(delivered: int, *, base: float = 0.5, cap: float = 30.0) -> float:
    """Exponential backoff with full jitter for the nth delivery."""
    return random.uniform(0, min(cap, base * 2 ** max(0, delivered - 1)))


async def fetch(sub: JetStreamContext.PullSubscription, batch: int, *, seconds: float = 1) -> list[Msg]:
    """One pull: the messages, or none on a timeout, or none after a pause when the connection is down.

    nats-py raises its own TimeoutError when the pull expires, but a plain asyncio.TimeoutError when the deadline
    has run out before its second (lingering) request, which happens on a loaded machine: both mean no message
    arrived (a pull that got any returns them), and neither may end the consumer's loop."""
    try:
        return await sub.fetch(batch=batch, timeout=seconds)
    except (NatsTimeout, TimeoutError):
        return []
    except (ConnectionClosedError, NoServersError, ConnectionError) as exc:
        logger.warning("consumer fetch failed; retrying", extra={"error": repr(exc)})
        await asyncio.sleep(1)
        return []


# Session advisory locks of the consumers, one per durable: (class, crc32 of the durable's name).
CONSUMER_LOCK_CLASS = 727_300
LOCK_POLL_SECONDS = 2.0
BATCH_LIMIT = 64  # events in one transaction at most: the event table's lock is held from its first insert
FENCE_CHECKS = 3  # consumer-info reads before a fetch counts as overlapping another instance's messages
FENCE_PAUSE_SECONDS = 0.02
# The second pull of a lingering consumer collects what came during the linger: the server answers at once when
# something is there, else the pull ends after this.
LINGER_FETCH_SECONDS = 0.01


def consumer_lock_key(durable: str) -> int:
    return zlib.crc32(durable.encode()) - 2**31  # PostgreSQL's int4


def stream_sequence(msg: Msg) -> int:
    return int(msg.metadata.sequence.stream)


class ConsumerRunner:
    """One durable pull consumer: fetch up to `max_ack_pending` messages, apply them in stream order in as few
    transactions as the handler allows, acknowledge what committed, and stop at a failure.

    Order per upstream with more than one message in flight rests on two things (docs/adr/0005):
    - one instance applies a durable at a time: a PostgreSQL advisory lock per durable, held on a connection of
      its own (as the relay's); the others wait for it (`lock_url`; None in tests that run one runner);
    - a fetch is applied only when the messages it brought are every message the server has pending for the
      durable (`num_ack_pending`): anything of a lower stream sequence is then acknowledged, terminated or
      dropped after max_deliver, never still held by an instance that died (or lost its lock) mid-batch, which
      JetStream would redeliver only after ack_wait, behind what this fetch brought. Otherwise the runner holds
      what it fetched and fetches on until those come back too (`_hold_every_pending`).
    On a transient failure the rest of the fetch goes back in order, unacknowledged, without delay, and the runner
    sleeps the backoff before its next fetch (JetStream serves its redelivery queue first, in the order of the
    naks): a delayed nak of the failed message alone would let the ones after it come back first."""

    def __init__(
        self,
        *,
        nc: NATS,
        js: JetStreamContext,
        spec: ConsumerSpec,
        handler: Handler,
        lock_url: str | None = None,
    ) -> None:
        self.nc = nc
        self.js = js
        self.spec = spec
        self.handler = handler
        self.lock_url = lock_url
        self.batch = max(1, min(spec.max_ack_pending, BATCH_LIMIT))
        self.dead_subject = dead_letter_subject(spec.service, spec.durable)

    async def run(self) -> None:
        advisory = await self.nc.subscribe(
            f"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{self.spec.stream}.{self.spec.durable}",
            cb=self._on_max_deliveries,
        )
        lock = None
        sub = None
        try:
            if self.lock_url is not None:
                lock = await self._take_lock(self.lock_url)
            sub = await self.js.pull_subscribe_bind(self.spec.durable, self.spec.stream)
            while True:
                if lock is not None and lock.is_closed():
                    raise ConnectionError(f"lost the lock of {self.spec.durable}; taking it again")
                msgs = await fetch(sub, self.batch)
                if msgs and len(msgs) < self.batch and self.spec.linger_seconds > 0:
                    await asyncio.sleep(self.spec.linger_seconds)
                    msgs += await fetch(sub, self.batch - len(msgs), seconds=LINGER_FETCH_SECONDS)
                if msgs:
                    await self._consume(sub, lock, msgs)
        finally:
            # Unsubscribed here, the pull subscription leaves nothing for drain() to cancel at shutdown.
            for subscription in (sub, advisory):
                if subscription is not None:
                    with contextlib.suppress(Exception):
                        await subscription.unsubscribe()
            if lock is not None:
                with contextlib.suppress(Exception):
                    await lock.close()  # closing the session releases its advisory lock

    async def _take_lock(self, url: str) -> asyncpg.Connection:
        conn = await asyncpg.connect(url, timeout=5)
        try:
            # Another instance may hold it: poll, there is no local event to wait on.
            while True:
                if await conn.fetchval(
                    "SELECT pg_try_advisory_lock($1, $2)",
                    CONSUMER_LOCK_CLASS,
                    consumer_lock_key(self.spec.durable),
                ):
                    break
                await asyncio.sleep(LOCK_POLL_SECONDS)
        except BaseException:
            await conn.close()
            raise
        return conn

    async def _consume(self, sub: JetStreamContext.PullSubscription, lock: Any, fetched: list[Msg]) -> None:
        held = {stream_sequence(msg): msg for msg in fetched}
        if self.spec.max_ack_pending > 1:
            await self._hold_every_pending(sub, lock, held)
        rest = [held[seq] for seq in sorted(held)]
        while rest:
            rest = await self._apply_front(rest)

    async def _hold_every_pending(
        self, sub: JetStreamContext.PullSubscription, lock: Any, held: dict[int, Msg]
    ) -> None:
        """Return once `held` is every message the server has pending for this durable. Acks sent just before may
        not be processed yet: a few reads a moment apart first. Then the others are another instance's, one that
        died or lost its lock mid-batch: keep ours (in progress, so their ack_wait does not run out) and fetch
        until its messages come back (after their ack_wait) and join them. Gives up after twice the ack_wait,
        sending everything back in order."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + 2 * self.spec.ack_wait_seconds
        checks = 0
        while (await self.js.consumer_info(self.spec.stream, self.spec.durable)).num_ack_pending != len(held):
            checks += 1
            if checks < FENCE_CHECKS:
                await asyncio.sleep(FENCE_PAUSE_SECONDS)
                continue
            if loop.time() > give_up or (lock is not None and lock.is_closed()):
                for seq in sorted(held):
                    await held[seq].nak()
                raise ConnectionError(f"messages of {self.spec.durable} stayed pending elsewhere")
            if checks == FENCE_CHECKS:
                logger.warning(
                    "messages of this consumer are pending elsewhere; holding these until they come back",
                    extra={"consumer": self.spec.durable, "held": len(held)},
                )
            for msg in held.values():
                await msg.in_progress()
            for msg in await fetch(sub, self.batch):
                held[stream_sequence(msg)] = msg

    async def _apply_front(self, msgs: list[Msg]) -> list[Msg]:
        """Apply from the front of `msgs`; returns what is left to apply (empty after a transient failure, whose
        messages have gone back)."""
        events: list[CloudEvent] = []
        for msg in msgs:
            try:
                events.append(CloudEvent.from_bytes(msg.data))
            except (ValueError, ValidationError) as exc:
                if events:
                    break
                await self._dead_letter(msg, f"malformed CloudEvent: {exc}")
                await msg.term()
                return msgs[1:]
        applied = await self.handler(events)
        if applied.count == 0 and applied.failure is None:
            raise RuntimeError(f"the handler of {self.spec.durable} applied nothing and gave no reason")
        # Not awaited: the next fetch follows the acks on the same connection, so the server has them first; an ack
        # lost on the way only brings a redelivery, which the tracked position skips.
        for msg in msgs[: applied.count]:
            await msg.ack()
        CONSUMED.labels(self.spec.service, self.spec.durable, "applied").inc(applied.count)
        rest = msgs[applied.count :]
        if applied.failure is None:
            return rest
        failed, event = rest[0], events[applied.count]
        delivered = failed.metadata.num_delivered
        if isinstance(applied.failure, PermanentFailure):
            await self._dead_letter(failed, str(applied.failure))
            await failed.term()
            return rest[1:]
        if 0 < self.spec.max_deliver <= delivered:
            # Its last delivery: dead-lettered here, and the ones after it go on without waiting for ack_wait.
            await self._dead_letter(
                failed, f"max_deliver ({self.spec.max_deliver}) exhausted: {applied.failure!r}"
            )
            await failed.term()
            return rest[1:]
        CONSUMED.labels(self.spec.service, self.spec.durable, "retry").inc()
        delay = backoff_seconds(delivered)
        logger.warning(
            "transient failure; the message and the ones after it will be redelivered",
            extra={
                "event_id": event.id,
                "delivered": delivered,
                "returned": len(rest),
                "in_seconds": delay,
                "error": repr(applied.failure),
            },
        )
        for msg in rest:
            await msg.nak()
        await asyncio.sleep(delay)
        return []

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
        """JetStream only announces an exhausted max_deliver (an instance died during a message's last delivery);
        copy the message to the dead-letter subject."""
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
