"""Idempotency-Key against real PostgreSQL: a repeated key replays, a reused key with another body is refused."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from shared import idempotency
from shared.errors import Conflict, Invalid

pytestmark = pytest.mark.integration
ROUTE = "POST /v1/notes"


def creator(created: list[UUID]) -> Any:
    async def create(new_id: UUID) -> dict[str, str]:
        created.append(new_id)
        return {"id": str(new_id)}

    return create


async def post(pool: asyncpg.Pool, key: str | None, payload: dict[str, Any], created: list[UUID]) -> Any:
    return await idempotency.idempotent_create(
        pool, tenant="t-one", key=key, route=ROUTE, payload=payload, create=creator(created)
    )


async def test_a_repeated_key_returns_the_stored_answer_without_creating_again(pool: asyncpg.Pool) -> None:
    created: list[UUID] = []
    first = await post(pool, "k-1", {"text": "hello"}, created)
    again = await post(pool, "k-1", {"text": "hello"}, created)
    assert len(created) == 1
    assert again.status_code == first.status_code == 201
    assert json.loads(again.body) == json.loads(first.body) == {"id": str(created[0])}
    assert again.headers["Idempotent-Replayed"] == "true"


async def test_a_key_reused_with_another_body_is_a_422_naming_the_header(pool: asyncpg.Pool) -> None:
    created: list[UUID] = []
    await post(pool, "k-2", {"text": "hello"}, created)
    with pytest.raises(Invalid) as refused:
        await post(pool, "k-2", {"text": "something else"}, created)
    assert refused.value.extensions["field"] == "Idempotency-Key" and len(created) == 1


async def test_a_key_whose_first_request_is_still_running_is_a_409(pool: asyncpg.Pool) -> None:
    digest = idempotency.request_hash(ROUTE, {"text": "slow"})
    assert await idempotency.begin(pool, "t-one", "k-3", digest) is None  # the first request, not finished
    with pytest.raises(Conflict):
        await idempotency.begin(pool, "t-one", "k-3", digest)


async def test_a_failed_request_frees_its_key_for_the_retry(pool: asyncpg.Pool) -> None:
    async def failing(new_id: UUID) -> dict[str, str]:
        raise RuntimeError("the event store went away")

    with pytest.raises(RuntimeError):
        await idempotency.idempotent_create(
            pool, tenant="t-one", key="k-4", route=ROUTE, payload={"text": "x"}, create=failing
        )
    created: list[UUID] = []
    answer = await post(pool, "k-4", {"text": "x"}, created)
    assert answer.status_code == 201 and created == [idempotency.derived_id("t-one", ROUTE, "k-4")]
