"""The audit work each service does in the background: sign a checkpoint of its chain every interval, publish
the checkpoints on NATS, and walk its own log against chain and checkpoints; the result shows in /readyz and
/metrics."""

from __future__ import annotations

import asyncio
import logging
import time

import anyio.to_thread
import psycopg
from nats.js import JetStreamContext
from prometheus_client import Counter, Gauge
from psycopg import sql

from shared import audit
from shared.clock import Clock
from shared.messaging import MSG_ID

logger = logging.getLogger("lianxin.audit")

CHAIN_OK = Gauge(
    "lianxin_audit_chain_ok", "1 when the last verification of the event log found nothing", ["service"]
)
VERIFIED_EVENTS = Gauge(
    "lianxin_audit_verified_events", "Events checked by the last verification", ["service"]
)
VERIFIED_AT = Gauge(
    "lianxin_audit_last_verification_timestamp_seconds", "When the last verification ended", ["service"]
)
VERIFY_SECONDS = Gauge(
    "lianxin_audit_verification_seconds", "How long the last verification took", ["service"]
)
CHECKPOINTS = Counter("lianxin_audit_checkpoints_total", "Signed checkpoints written", ["service"])
CHECKPOINTS_PUBLISHED = Counter(
    "lianxin_audit_checkpoints_published_total", "Checkpoints acknowledged by JetStream", ["service"]
)
CHECKPOINT_LOCK = 727_210


class AuditJob:
    def __init__(
        self,
        *,
        service: str,
        database_url: str,
        js: JetStreamContext,
        clock: Clock,
        signing_key: str,
        trusted_keys: str,
        checkpoint_seconds: float,
        verify_seconds: float,
    ) -> None:
        self.service = service
        self.database_url = database_url
        self.js = js
        self.clock = clock
        self.key = audit.load_signing_key(signing_key) if signing_key else None
        self.trusted = audit.trusted_keys_from(signing_key or None, trusted_keys)
        self.checkpoint_seconds = checkpoint_seconds
        self.verify_seconds = verify_seconds
        self.last: audit.Verification | None = None

    async def run_checkpoints(self) -> None:
        if self.key is None:
            logger.warning(
                "AUDIT_SIGNING_KEY not set: no signed checkpoints", extra={"service": self.service}
            )
            await asyncio.Event().wait()  # nothing to do; returning would make the supervisor restart us
        while True:
            await anyio.to_thread.run_sync(self.checkpoint)
            await self.publish()
            await asyncio.sleep(self.checkpoint_seconds)

    def checkpoint(self) -> audit.Checkpoint | None:
        """One instance of the service signs at a time (an advisory lock); the others skip this round."""
        assert self.key is not None
        with psycopg.connect(self.database_url, connect_timeout=5) as conn:
            got = conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (CHECKPOINT_LOCK,)).fetchone()
            if not got or not got[0]:
                return None
            written = audit.write_checkpoint(
                conn, self.service, self.key, self.clock.now(), only_if_moved=True
            )
        if written is not None:
            CHECKPOINTS.labels(self.service).inc()
        return written

    def _unpublished(self) -> list[tuple[int, bytes]]:
        table = sql.Identifier(audit.Tables(self.service).checkpoints)
        with psycopg.connect(self.database_url, connect_timeout=5) as conn:
            rows = conn.execute(
                sql.SQL(
                    "SELECT seq, payload, signature FROM {} WHERE published_at IS NULL ORDER BY seq LIMIT 500"
                ).format(table)
            ).fetchall()
        return [(seq, audit.checkpoint_message(payload, bytes(sig))) for seq, payload, sig in rows]

    def _mark_published(self, seqs: list[int]) -> None:
        table = sql.Identifier(audit.Tables(self.service).checkpoints)
        with psycopg.connect(self.database_url, connect_timeout=5) as conn:
            conn.execute(
                sql.SQL("UPDATE {} SET published_at = now() WHERE seq = ANY(%s)").format(table), (seqs,)
            )

    async def publish(self) -> None:
        """Publish every checkpoint not yet acknowledged (a crash between ack and mark re-publishes; the
        Nats-Msg-Id drops the copy)."""
        pending = await anyio.to_thread.run_sync(self._unpublished)
        if not pending:
            return
        subject = audit.CHECKPOINT_SUBJECT.format(service=self.service)
        for seq, message in pending:
            await self.js.publish(subject, message, headers={MSG_ID: f"{self.service}:checkpoint:{seq}"})
        await anyio.to_thread.run_sync(self._mark_published, [seq for seq, _ in pending])
        CHECKPOINTS_PUBLISHED.labels(self.service).inc(len(pending))

    async def run_verification(self) -> None:
        while True:
            await self.verify_once()
            await asyncio.sleep(self.verify_seconds)

    async def verify_once(self) -> audit.Verification:
        started = time.perf_counter()
        result = await anyio.to_thread.run_sync(self._verify)
        VERIFY_SECONDS.labels(self.service).set(time.perf_counter() - started)
        VERIFIED_EVENTS.labels(self.service).set(result.events)
        VERIFIED_AT.labels(self.service).set(time.time())
        CHAIN_OK.labels(self.service).set(1 if result.ok else 0)
        if not result.ok:
            logger.error("event log verification failed", extra={"finding": str(result.finding)})
        self.last = result
        return result

    def _verify(self) -> audit.Verification:
        with psycopg.connect(self.database_url, connect_timeout=5) as conn:
            return audit.verify(conn, self.service, self.trusted)

    async def ready(self) -> tuple[bool, str]:
        if self.last is None:
            return True, "not yet verified"
        return self.last.ok, self.last.summary()
