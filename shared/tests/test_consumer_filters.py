"""A durable created with the old wide filter takes the layout's event-type filters in place at start-up
(`apply_jetstream_config`): from then on it is delivered only those subjects, and nothing it had pending (not
yet delivered, or delivered and not acknowledged) is lost. Real JetStream."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig

from shared.consumer import fetch
from shared.envelope import event_subject
from shared.messaging import apply_jetstream_config

pytestmark = pytest.mark.integration


def test_an_event_type_is_filtered_on_its_subject_for_every_tenant() -> None:
    assert event_subject("cn.lianxin.transfer.hold_requested.v1") == "lianxin.transfer.*.hold_requested"
    with pytest.raises(ValueError):
        event_subject("hold_requested")


def layout(broker: Any, durable: str, filters: list[str]) -> dict[str, Any]:
    return {
        "streams": [
            {
                "name": broker.stream,
                "subjects": [broker.subjects],
                "duplicate_window_seconds": 120,
                "max_age_days": 1,
            }
        ],
        "consumers": [
            {
                "service": "notes",
                "stream": broker.stream,
                "durable": durable,
                "filter_subjects": filters,
                "max_deliver": 5,
                "ack_wait_seconds": 1,
                "max_ack_pending": 64,
            }
        ],
    }


async def test_a_wide_durable_takes_the_filters_in_place_and_keeps_what_it_had_pending(
    broker: Any, tmp_path: Path
) -> None:
    durable = f"d{broker.tenant}"
    await broker.js.add_stream(
        StreamConfig(
            name=broker.stream, subjects=[broker.subjects], storage=StorageType.FILE, duplicate_window=120
        )
    )
    # As every release before the filters created it: one wide filter, every event of the upstream.
    await broker.js.add_consumer(
        broker.stream,
        ConsumerConfig(
            durable_name=durable,
            filter_subject=broker.subjects,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            max_deliver=5,
            ack_wait=1,
            max_ack_pending=64,
        ),
    )
    subject = f"lianxin.notes.{broker.tenant}.{{}}".format
    for n, event in enumerate(["kept", "dropped", "also_kept", "dropped", "kept", "also_kept"]):
        await broker.js.publish(subject(event), f"{n}".encode())
    sub = await broker.js.pull_subscribe_bind(durable, broker.stream)
    taken = await fetch(sub, 1)  # delivered, never acknowledged: the instance that took it stopped
    assert [m.data for m in taken] == [b"0"]

    path = tmp_path / "jetstream.json"
    path.write_text(json.dumps(layout(broker, durable, [subject("kept"), subject("also_kept")])))
    await apply_jetstream_config(broker.js, path, replicas=1)
    await apply_jetstream_config(broker.js, path, replicas=1)  # idempotent: a second service starting

    info = await broker.js.consumer_info(broker.stream, durable)
    assert info.config.filter_subjects == [subject("kept"), subject("also_kept")]
    assert info.num_ack_pending == 1  # the unacknowledged message is still the durable's
    for n, event in enumerate(["dropped", "kept"], start=6):
        await broker.js.publish(subject(event), f"{n}".encode())

    received: list[tuple[str, bytes]] = []
    for _ in range(20):  # the unacknowledged one comes back after its ack_wait (1 s)
        for msg in await fetch(sub, 64):
            received.append((msg.subject, msg.data))
            await msg.ack_sync()
        if len(received) >= 5:
            break
    assert sorted(data for _, data in received) == [b"0", b"2", b"4", b"5", b"7"]
    assert all(not s.endswith(".dropped") for s, _ in received)
    assert [data for _, data in received][:4] == [b"2", b"4", b"5", b"7"]  # stream order
    info = await broker.js.consumer_info(broker.stream, durable)
    assert (info.num_pending, info.num_ack_pending) == (0, 0)
