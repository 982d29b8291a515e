"""The outbox relay: the event store is the outbox; publish with Nats-Msg-Id, record the position after the PubAcks.

The position is written at most once a second (and when the relay stops), not after every batch: under a steady
trickle of single registrations a write per batch was a commit per registration. A crash re-publishes what was
acknowledged since the last write, at most a second's worth, and JetStream drops those as duplicates (the
Nats-Msg-Id window is two minutes); a consumer's tracked position skips any that get through."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import asyncpg
from eventsourcing.persistence import Notification
from nats.js import JetStreamContext

from shared import failpoints
from shared.envelope import CloudEvent, IntegrationEvent
from shared.eventstore import ServiceApplication
from shared.logtail import LogTail, event_of, log_share
from shared.messaging import MSG_ID
from shared.telemetry import RELAY_LAG, RELAY_PUBLISHED

logger = logging.getLogger("lianxin.relay")

# A service's outbound mapping: domain event -> (tenant, contract) to publish, or None for internal events.
Outbound = Callable[[Any], tuple[str, IntegrationEvent] | None]
RELAY_LOCK_BASE = 727_100


def to_cloudevent(
    service: str, domain_event: Any, notification_id: int, tenant: str, contract: IntegrationEvent
) -> CloudEvent:
    meta: dict[str, Any] = getattr(domain_event, "meta", None) or {}
    return CloudEvent(
        id=f"{domain_event.originator_id}:{domain_event.originator_version}",
        source=f"/lianxin/{service}",
        type=contract.TYPE,
        subject=str(domain_event.originator_id),
        time=domain_event.timestamp,
        tenantid=tenant,
        sequence=str(notification_id),
        correlationid=meta.get("correlation_id") or str(domain_event.originator_id),
        causationid=meta.get("causation_id"),
        traceparent=meta.get("traceparent"),
        data=contract.model_dump(mode="json"),
    )


class Relay:
    def __init__(
        self,
        *,
        service: str,
        app: ServiceApplication,
        js: JetStreamContext,
        pool: asyncpg.Pool,
        listen_url: str,
        outbound: Outbound,
        batch_size: int = 500,
        record_seconds: float = 1.0,
    ) -> None:
        self.service = service
        self.app = app
        self.js = js
        self.pool = pool
        self.outbound = outbound
        self.listen_url = listen_url
        # The projection runner's batches when they continue from here: one read of the log per commit, not two.
        self.tail = LogTail(app, listen_url, batch_size=batch_size, share=log_share(app))
        self.position = 0  # recorded in relay_position
        self.acked = 0  # every event up to here has its PubAck
        self.record_seconds = record_seconds
        self.name = f"{service}-relay"

    async def lag(self) -> int:
        return max(0, await asyncio.to_thread(self.tail.max_id) - self.acked)

    async def run(self) -> None:
        """One relay per service holds the advisory lock; others wait for it.

        The lock lives on a connection of its own, never on a pooled one: pooled connections carry no session
        state, so the pool returns them without a reset round trip."""
        lock_conn = await asyncpg.connect(self.listen_url, timeout=5)
        try:
            # Another instance of this service may hold the lock: poll, there is no local event to wait on.
            while True:
                if await lock_conn.fetchval("SELECT pg_try_advisory_lock($1)", RELAY_LOCK_BASE):
                    break
                await asyncio.sleep(2)
            self.position = (
                await self.pool.fetchval("SELECT position FROM relay_position WHERE name = $1", self.name)
                or 0
            )
            self.acked = self.position
            flusher = asyncio.create_task(self._flush_every(self.record_seconds))
            try:
                async for batch in self.tail.batches(self.position):
                    await self._publish(batch)
                    failpoints.hit("relay.after_publish")
                    self.acked = batch[-1].id
                    # A short batch means the log was read to its end: no need to ask PostgreSQL how far behind.
                    RELAY_LAG.labels(self.service).set(
                        await self.lag() if len(batch) >= self.tail.batch_size else 0
                    )
            finally:
                flusher.cancel()
                with contextlib.suppress(BaseException):
                    await flusher
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._flush(), timeout=2)
        finally:
            await lock_conn.close()  # closing the session releases its advisory lock

    async def _flush_every(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            await self._flush()

    async def _flush(self) -> None:
        if self.acked > self.position:
            await self._record(self.acked)

    async def _publish(self, batch: list[Notification]) -> None:
        futures = []
        for notification in batch:
            domain_event = event_of(self.app, notification)
            mapped = self.outbound(domain_event)
            if mapped is None:
                continue
            event = to_cloudevent(self.service, domain_event, notification.id, *mapped)
            headers = {MSG_ID: event.id, "Content-Type": "application/cloudevents+json"}
            if event.traceparent:
                headers["traceparent"] = event.traceparent
            futures.append(
                await self.js.publish_async(event.nats_subject(), event.to_bytes(), headers=headers)
            )
        # Pipelined: every ack must come back before the position moves; a failure re-publishes the batch.
        acks = await asyncio.wait_for(asyncio.gather(*futures), timeout=30)
        RELAY_PUBLISHED.labels(self.service).inc(sum(1 for ack in acks if not ack.duplicate))

    async def _record(self, position: int) -> None:
        await self.pool.execute(
            "INSERT INTO relay_position (name, position) VALUES ($1, $2) "
            "ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, updated_at = now() "
            "WHERE relay_position.position < EXCLUDED.position",
            self.name,
            position,
        )
        self.position = position
