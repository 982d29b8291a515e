"""Looking at JetStream from the outside: counting messages, reading dead letters, consumer state."""

from __future__ import annotations

import asyncio
from typing import Any

import nats
from nats.js.api import ConsumerConfig, DeliverPolicy


async def _messages(url: str, stream: str, subject: str) -> list[Any]:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        info = await js.stream_info(stream, subjects_filter=subject)
        expected = sum((info.state.subjects or {}).values())
        if expected == 0:
            return []
        sub = await js.subscribe(
            subject,
            stream=stream,
            ordered_consumer=True,
            config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
        )
        found = []
        for _ in range(expected):
            found.append(await sub.next_msg(timeout=5))
        await sub.unsubscribe()
        return found
    finally:
        await nc.close()


def messages(url: str, stream: str, subject: str) -> list[Any]:
    return asyncio.run(_messages(url, stream, subject))


async def _publish(url: str, subject: str, payload: bytes, headers: dict[str, str]) -> None:
    nc = await nats.connect(url)
    try:
        await nc.jetstream().publish(subject, payload, headers=headers)
    finally:
        await nc.close()


def publish(url: str, subject: str, payload: bytes, headers: dict[str, str] | None = None) -> None:
    asyncio.run(_publish(url, subject, payload, headers or {}))


async def _consumer_idle(url: str, stream: str, durable: str) -> bool:
    nc = await nats.connect(url)
    try:
        info = await nc.jetstream().consumer_info(stream, durable)
        return info.num_pending == 0 and info.num_ack_pending == 0
    finally:
        await nc.close()


def consumer_idle(url: str, stream: str = "LIANXIN_REGISTRY", durable: str = "notify-from-registry") -> bool:
    return asyncio.run(_consumer_idle(url, stream, durable))
