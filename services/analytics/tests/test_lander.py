"""The lander: every stream's messages land together in one transaction, acked after the commit and in delivery
order; a poison message in the middle of a batch is parked while the rest lands; a crash between the commit and
the acks redelivers the batch, which counts once.

JetStream is replaced by subscriptions that hand out their messages in order and redeliver the unacked ones to
the next subscription of the same durable, as a consumer's ack wait would."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from nats.errors import TimeoutError as NatsTimeout

from analytics.consumers import Lander
from analytics.store import AnalyticsStore, Incoming, Landed
from analytics.synthetic import Feed, Generator, at
from shared.messaging import ConsumerSpec

STREAMS = ("LIANXIN_REGISTRY", "LIANXIN_TRANSFER", "LIANXIN_LEARNING")
POISON = b'{"id": "x", "type": "not an envelope"}'


class FakeMessage:
    def __init__(self, durable: FakeDurable, incoming: Incoming) -> None:
        self.durable = durable
        self.data = incoming.payload
        self.metadata = SimpleNamespace(sequence=SimpleNamespace(stream=incoming.stream_seq))
        self.stream = incoming.stream

    async def ack(self) -> None:
        self.durable.on_ack(self)


class FakeDurable:
    """One durable consumer: its messages in stream order, what was acked, and what is fetched but unacked."""

    def __init__(self, broker: Broker, stream: str) -> None:
        self.broker, self.stream = broker, stream
        self.pending: list[
            Incoming
        ] = []  # not yet delivered, or delivered and not acked by a dead subscription
        self.unacked: dict[int, Incoming] = {}
        self.acked: list[int] = []
        self.most_unacked = 0
        self.arrived = asyncio.Event()

    def publish(self, incoming: Incoming) -> None:
        self.pending.append(incoming)
        self.arrived.set()

    def on_ack(self, message: FakeMessage) -> None:
        self.broker.before_ack(message)
        seq = message.metadata.sequence.stream
        self.acked.append(seq)
        self.unacked.pop(seq, None)

    def redeliver(self) -> None:
        """The ack wait ran out: what was delivered and never acked comes first again, in stream order."""
        self.pending = sorted(self.unacked.values(), key=lambda m: m.stream_seq) + self.pending
        self.unacked.clear()


class FakeSubscription:
    def __init__(self, durable: FakeDurable) -> None:
        self.durable = durable

    async def fetch(self, batch: int, timeout: float) -> list[FakeMessage]:  # noqa: ASYNC109 (nats-py's signature)
        d = self.durable
        if not d.pending:
            d.arrived.clear()
            try:
                await asyncio.wait_for(d.arrived.wait(), 0.05)
            except TimeoutError:
                raise NatsTimeout from None
        taken, d.pending = d.pending[:batch], d.pending[batch:]
        for incoming in taken:
            d.unacked[incoming.stream_seq] = incoming
        d.most_unacked = max(d.most_unacked, len(d.unacked))
        return [FakeMessage(d, incoming) for incoming in taken]

    async def unsubscribe(self) -> None:
        pass


class Broker:
    """What the lander needs of a JetStreamContext: `pull_subscribe_bind`."""

    def __init__(self, streams: Sequence[str] = STREAMS) -> None:
        self.durables = {stream: FakeDurable(self, stream) for stream in streams}
        self.before_ack: Callable[[FakeMessage], None] = lambda _: None

    async def pull_subscribe_bind(self, durable: str, stream: str) -> FakeSubscription:
        return FakeSubscription(self.durables[stream])

    def publish(self, messages: Sequence[Incoming]) -> None:
        for incoming in messages:
            self.durables[incoming.stream].publish(incoming)

    def all_acked(self) -> bool:
        return all(not d.pending and not d.unacked for d in self.durables.values())


class RecordingStore(AnalyticsStore):
    """The real store, noting each batch it was given and what it made of it."""

    def __init__(self, path: Path | None) -> None:
        super().__init__(path)
        self.batches: list[list[Incoming]] = []
        self.results: list[Landed] = []

    def land(self, batch: Sequence[Incoming]) -> Landed:
        self.batches.append(list(batch))
        result = super().land(batch)
        self.results.append(result)
        return result


def spec(stream: str, max_ack_pending: int = 1024) -> ConsumerSpec:
    return ConsumerSpec(
        "analytics", stream, f"analytics-from-{stream}", ("lianxin.>",), -1, 60, max_ack_pending
    )


def lander(broker: Broker, store: AnalyticsStore, *, batch: int, linger: float) -> Lander:
    specs = [spec(stream) for stream in broker.durables]
    return Lander(js=broker, specs=specs, store=store, batch=batch, linger=linger)  # type: ignore[arg-type]


async def until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


async def running(lander: Lander, condition: Callable[[], bool], what: str) -> None:
    task = asyncio.create_task(lander.run())
    try:
        await until(lambda: condition() or task.done(), what)
        if task.done():
            task.result()  # the lander stopped: its exception
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def events(gen: Generator, feed: Feed, per_stream: dict[str, int]) -> list[Incoming]:
    """Events of the given services, each on its stream's next position; one subject per service."""
    out = []
    day = date(2026, 3, 2)
    for service, n in per_stream.items():
        made = [
            gen.event(
                service, "meeting_attended", "tenant-aa", at(day + timedelta(days=i)), f"{service}-subject"
            )
            for i in range(n)
        ]
        out += feed.messages(made)
    return out


def count(store: AnalyticsStore, sql: str) -> int:
    with store.reader() as r:
        row = r.execute(sql).fetchone()
    assert row is not None
    return int(row[0])


async def test_a_trickle_from_every_stream_lands_in_one_commit(gen: Generator, feed: Feed) -> None:
    broker, store = Broker(), RecordingStore(None)
    registry = events(gen, feed, {"registry": 2})
    others = events(gen, feed, {"transfer": 1, "learning": 1})
    broker.publish(registry)
    task = asyncio.create_task(lander(broker, store, batch=4, linger=60).run())
    try:
        # The registry's fetch is short of a batch (a trickle): the writer waits for more, up to the linger, and
        # what the other streams bring meanwhile joins it, until the four messages make a full batch. (A linger
        # this long would fail the test by its own timeout if it were spent.)
        await until(lambda: len(broker.durables["LIANXIN_REGISTRY"].unacked) == 2, "the registry's fetch")
        await asyncio.sleep(0.1)
        assert store.batches == []
        broker.publish(others)
        await until(broker.all_acked, "everything acked")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert len(store.batches) == 1
    assert [(m.stream, m.stream_seq) for m in store.batches[0]] == [
        (m.stream, m.stream_seq) for m in registry + others
    ]
    assert {s: p.landed for s, p in store.results[0].streams.items()} == {
        "LIANXIN_REGISTRY": 2,
        "LIANXIN_TRANSFER": 1,
        "LIANXIN_LEARNING": 1,
    }
    assert count(store, "SELECT count(*) FROM events") == 4


async def test_order_within_a_stream_is_kept_across_batches_and_acks(gen: Generator, feed: Feed) -> None:
    broker, store = Broker(), RecordingStore(None)
    messages = events(gen, feed, {"registry": 9, "transfer": 5, "learning": 0})
    broker.publish(messages)
    await running(lander(broker, store, batch=2, linger=0), broker.all_acked, "everything acked")
    for stream, n in (("LIANXIN_REGISTRY", 9), ("LIANXIN_TRANSFER", 5)):
        landed = [m.stream_seq for batch in store.batches for m in batch if m.stream == stream]
        assert landed == list(range(1, n + 1)), stream  # one subject per stream: its events in stream order
        assert broker.durables[stream].acked == landed
        # a backlog is fetched one batch ahead of the landing, never further: two batches unacked at most
        assert broker.durables[stream].most_unacked <= 2 * 2
    with store.reader() as r:
        subjects = r.execute("SELECT subject, sequence FROM events ORDER BY rowid").fetchall()
    for subject in ("registry-subject", "transfer-subject"):
        sequences = [seq for s, seq in subjects if s == subject]
        assert sequences == sorted(sequences)


async def test_a_backlog_lands_without_waiting_for_the_linger(gen: Generator, feed: Feed) -> None:
    broker, store = Broker(), RecordingStore(None)
    broker.publish(events(gen, feed, {"registry": 5}))
    # Full batches land at once, and so does the short last one that follows them; a minute's linger spent
    # anywhere would fail the test by its own timeout.
    await running(lander(broker, store, batch=2, linger=60), broker.all_acked, "everything acked")
    assert [m.stream_seq for batch in store.batches for m in batch] == [1, 2, 3, 4, 5]


async def test_a_poison_message_in_the_middle_of_a_batch_is_parked_and_the_rest_lands(
    gen: Generator, feed: Feed
) -> None:
    broker, store = Broker(), RecordingStore(None)
    registry = events(gen, feed, {"registry": 2})
    poison = Incoming("LIANXIN_REGISTRY", 3, POISON)
    feed.seq["LIANXIN_REGISTRY"] += 1  # the poison took position 3
    after = events(gen, feed, {"registry": 1, "transfer": 2})
    broker.publish([registry[0], registry[1], poison, *after])

    def landed_before_acked(message: FakeMessage) -> None:
        tracked = count(
            store,
            f"SELECT count(*) FROM tracking WHERE stream = '{message.stream}' "
            f"AND stream_seq = {message.metadata.sequence.stream}",
        )
        assert tracked == 1, "acked before its position was committed"

    broker.before_ack = landed_before_acked
    # six messages, a batch of six: the writer waits for the transfer stream's two (never the linger's minute)
    await running(lander(broker, store, batch=6, linger=60), broker.all_acked, "everything acked")
    assert len(store.batches) == 1  # the poison sat in the middle of one batch
    [result] = store.results
    assert (result.landed, result.duplicates) == (5, 0)
    assert result.streams["LIANXIN_REGISTRY"].parked[0][0] == 3
    assert "malformed CloudEvent" in result.streams["LIANXIN_REGISTRY"].parked[0][1]
    assert broker.durables["LIANXIN_REGISTRY"].acked == [1, 2, 3, 4]
    assert [p["stream_seq"] for p in store.parked_messages()] == [3]
    assert count(store, "SELECT count(*) FROM events") == 5


async def test_a_crash_between_commit_and_ack_redelivers_the_batch_and_it_counts_once(
    gen: Generator, feed: Feed, tmp_path: Path
) -> None:
    broker = Broker()
    first = events(gen, feed, {"registry": 3, "transfer": 2})
    broker.publish(first)
    store = RecordingStore(tmp_path / "a.duckdb")

    def connection_lost(message: FakeMessage) -> None:
        raise ConnectionError("nats connection lost")

    broker.before_ack = connection_lost
    with pytest.raises(ExceptionGroup):
        await running(lander(broker, store, batch=5, linger=60), lambda: False, "the lander to fail")
    assert (
        len(store.results) == 1 and store.results[0].landed == 5
    )  # committed, then the acks were lost with the process
    assert not any(d.acked for d in broker.durables.values())
    before = store.digest()
    store.close()

    # The process restarts: a new store on the same file (its tracked positions read from it), and JetStream
    # redelivers the unacked batch, ahead of two new messages.
    broker.before_ack = lambda _: None
    for durable in broker.durables.values():
        durable.redeliver()
    second = events(gen, feed, {"registry": 1, "transfer": 1})
    broker.publish(second)
    restarted = RecordingStore(tmp_path / "a.duckdb")
    try:
        await running(lander(broker, restarted, batch=8, linger=0), broker.all_acked, "everything acked")
        total = Landed()
        for result in restarted.results:
            total.merge(result)
        assert (total.landed, total.duplicates, total.parked) == (2, 5, [])
        assert count(restarted, "SELECT count(*) FROM events") == 7
        assert count(restarted, "SELECT count(*) FROM tracking") == 7
        assert broker.durables["LIANXIN_REGISTRY"].acked == [1, 2, 3, 4]
        assert broker.durables["LIANXIN_TRANSFER"].acked == [1, 2, 3]
        again = restarted.digest()
        assert again["events"]["rows"] == before["events"]["rows"] + 2
    finally:
        restarted.close()


async def test_a_store_that_cannot_write_acks_nothing(gen: Generator, feed: Feed) -> None:
    broker, store = Broker(), RecordingStore(None)
    broker.publish(events(gen, feed, {"registry": 2}))

    def broken(batch: Sequence[Incoming]) -> Any:
        raise OSError("disk full")

    store.land = broken  # type: ignore[method-assign]
    with pytest.raises(ExceptionGroup):
        await running(lander(broker, store, batch=8, linger=0), lambda: False, "the lander to fail")
    assert broker.durables["LIANXIN_REGISTRY"].acked == []
    assert len(broker.durables["LIANXIN_REGISTRY"].unacked) == 2  # they come back after the ack wait
