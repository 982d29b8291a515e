"""Durable pull consumers of every service's integration stream, landed together, in batches, exactly once into
DuckDB.

One lander serves every stream analytics reads: a puller per durable consumer fetches messages and hands them, in
the order JetStream delivered them, to one writer, which lands what has arrived from all the streams in one
DuckDB transaction (raw rows, facts and stream positions) and acks the messages only after the commit, in the
same order. A landing costs a fixed few milliseconds of CPU whatever its size (each DuckDB statement costs about
0.3 ms, and a landing runs about ten), so a trickle of events must not be landed one by one: the writer waits up to `linger` seconds after the
first message for more to join, unless a full batch arrives first. A backlog fills batches at once and lands
without waiting (also its last, short batch: the writer does not wait after a landing that took a full batch); a
puller that fetched a full batch fetches the next while the writer lands the first (never more than two batches
ahead of the acks); one that fetched less asks again only once its messages are landed.

A redelivered message finds its position tracked and is acked without effect; a poison message is parked (table
`parked`, metric lianxin_analytics_parked_total) and acked, so the streams keep moving. The consumers redeliver
without limit (max_deliver -1): only a store that cannot write at all makes a message come back (the landing
fails, the lander stops and is restarted, the unacked messages return after their ack wait), and it must land
once the store can.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from nats.aio.msg import Msg
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


@dataclass
class Pulled:
    """One fetch of one stream, in delivery order; `landed` is set once its messages are committed and acked."""

    stream: str
    messages: list[Msg]
    landed: asyncio.Event = field(default_factory=asyncio.Event)


class Lander:
    def __init__(
        self,
        *,
        js: JetStreamContext,
        specs: Sequence[ConsumerSpec],
        store: AnalyticsStore,
        batch: int,
        linger: float,
    ) -> None:
        self.js = js
        self.specs = list(specs)
        self.store = store
        # Two batches of a stream may be unacked at once (one landing, the next fetched): both within its consumer's
        # max_ack_pending, or the server would hold back the second.
        self.batch = max(1, min([batch, *(spec.max_ack_pending // 2 for spec in self.specs)]))
        self.linger = linger

    async def run(self) -> None:
        queue: asyncio.Queue[Pulled] = asyncio.Queue()
        subs: list[JetStreamContext.PullSubscription] = []
        try:
            for spec in self.specs:
                subs.append(await self.js.pull_subscribe_bind(spec.durable, spec.stream))
            async with (
                asyncio.TaskGroup() as group
            ):  # one failing (a landing that cannot commit) stops them all
                for spec, sub in zip(self.specs, subs, strict=True):
                    group.create_task(self._pull(spec.stream, sub, queue))
                group.create_task(self._write(queue))
        finally:
            for sub in subs:
                with contextlib.suppress(Exception):
                    await sub.unsubscribe()

    async def _pull(
        self, stream: str, sub: JetStreamContext.PullSubscription, queue: asyncio.Queue[Pulled]
    ) -> None:
        ahead: Pulled | None = None  # a full batch handed over, maybe still landing
        while True:
            messages = await fetch(sub, self.batch)
            if not messages:
                continue
            pulled = Pulled(stream, messages)
            queue.put_nowait(pulled)
            if len(messages) < self.batch:  # the stream is drained for now: ask again once these have landed
                await pulled.landed.wait()
                ahead = None
            else:  # a backlog: fetch the next batch while this one lands, but no further ahead
                if ahead is not None:
                    await ahead.landed.wait()
                ahead = pulled

    async def _write(self, queue: asyncio.Queue[Pulled]) -> None:
        loop = asyncio.get_running_loop()
        draining = (
            False  # the last landing took a full batch of some stream: a backlog, whose tail comes short
        )
        while True:
            taken = [await queue.get()]
            count = len(taken[0].messages)
            if (
                not draining
            ):  # a trickle: let more join the batch for up to `linger` seconds, or until it is full
                deadline = loop.time() + self.linger
                while count < self.batch and (left := deadline - loop.time()) > 0:
                    try:
                        taken.append(await asyncio.wait_for(queue.get(), left))
                    except TimeoutError:
                        break
                    count += len(taken[-1].messages)
            while not queue.empty():
                taken.append(queue.get_nowait())
            draining = any(len(pulled.messages) >= self.batch for pulled in taken)
            await self._land(taken)

    async def _land(self, taken: list[Pulled]) -> None:
        batch = [
            Incoming(pulled.stream, message.metadata.sequence.stream, message.data)
            for pulled in taken
            for message in pulled.messages
        ]
        record(await run_sync(self.store.land, batch))
        for pulled in taken:  # after the commit: a lost ack only redelivers, and that counts once
            for message in pulled.messages:
                await message.ack()
            pulled.landed.set()
