"""Durable pull consumers of every service's integration stream, landing batches exactly once into DuckDB.

A batch commits its raw rows, facts and stream positions in one DuckDB transaction; the messages are acked only
after the commit. A redelivered message finds its position tracked and is acked without effect; a poison message
is parked (table `parked`, metric lianxin_analytics_parked_total) and acked, so the stream keeps moving. The
consumers redeliver without limit (max_deliver -1): only a store that cannot write at all makes a message come
back, and it must land once the store can.
"""

from __future__ import annotations

import contextlib
import logging

from nats.js import JetStreamContext
from prometheus_client import Counter

from analytics.store import AnalyticsStore, Incoming, Landed
from shared.consumer import fetch
from shared.messaging import ConsumerSpec
from shared.threads import run_sync

logger = logging.getLogger("lianxin.analytics.landing")

LANDED = Counter("lianxin_analytics_landed_total", "Events landed in the analytics store", ["stream"])
DUPLICATES = Counter(
    "lianxin_analytics_duplicates_total", "Redelivered or re-published messages skipped", ["stream"]
)
PARKED = Counter("lianxin_analytics_parked_total", "Messages parked as unlandable, with a reason", ["stream"])


def record(result: Landed) -> None:
    """The metrics of one landing, per stream; each parked message logged with its position and reason."""
    for stream, part in result.streams.items():
        LANDED.labels(stream).inc(part.landed)
        DUPLICATES.labels(stream).inc(part.duplicates)
        PARKED.labels(stream).inc(len(part.parked))
        for seq, reason in part.parked:
            logger.error("message parked", extra={"stream": stream, "stream_seq": seq, "reason": reason})


class StreamLander:
    def __init__(
        self, *, js: JetStreamContext, spec: ConsumerSpec, store: AnalyticsStore, batch: int
    ) -> None:
        self.js = js
        self.spec = spec
        self.store = store
        self.batch = max(1, min(batch, spec.max_ack_pending))

    async def run(self) -> None:
        sub = await self.js.pull_subscribe_bind(self.spec.durable, self.spec.stream)
        try:
            while True:
                messages = await fetch(sub, self.batch)
                if not messages:
                    continue
                batch = [Incoming(self.spec.stream, m.metadata.sequence.stream, m.data) for m in messages]
                record(await run_sync(self.store.land, batch))
                for message in messages:  # after the commit: a lost ack only redelivers, and that counts once
                    await message.ack()
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
