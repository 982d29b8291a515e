"""Idempotency-Key on creating POSTs: the first response is stored and replayed; a reused key with another body is refused."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
from fastapi.responses import JSONResponse

from shared.db import tenant_transaction
from shared.errors import Conflict, Invalid
from shared.fieldcrypt import FieldCipher

STALE_PENDING_SECONDS = 30.0
NAMESPACE = uuid.UUID("6f1c7d1e-3b0a-4f43-9d6a-2a1f4f7f6c10")
# The stored first response names people (a created member): sealed under the service's key, set at start-up.
_cipher: FieldCipher | None = None


def seal_bodies_with(cipher: FieldCipher | None) -> None:
    global _cipher
    _cipher = cipher


def _sealed(tenant: str, key: str, body: Any) -> str:
    text = json.dumps(body, default=str)
    if _cipher is None:
        return text
    return json.dumps({"sealed": _cipher.seal(text, f"idempotency:{tenant}:{key}")})


def _opened(tenant: str, key: str, stored: str) -> Any:
    value = json.loads(stored)
    if isinstance(value, dict) and set(value) == {"sealed"} and _cipher is not None:
        return json.loads(_cipher.open(value["sealed"], f"idempotency:{tenant}:{key}") or "null")
    return value  # stored before bodies were sealed


@dataclass(frozen=True)
class Replay:
    status_code: int
    body: Any


def request_hash(route: str, body: Any) -> str:
    return hashlib.sha256(f"{route}\n{json.dumps(body, sort_keys=True, default=str)}".encode()).hexdigest()


def derived_id(tenant: str, route: str, key: str) -> uuid.UUID:
    """The created resource's id follows from the key, so even a race between two retries creates one resource."""
    return uuid.uuid5(NAMESPACE, f"{tenant}\n{route}\n{key}")


async def begin(pool: asyncpg.Pool, tenant: str, key: str, digest: str) -> Replay | None:
    if not 1 <= len(key) <= 200:
        raise Invalid("Idempotency-Key must be 1 to 200 characters", field="Idempotency-Key")
    async with tenant_transaction(pool, tenant) as conn:
        inserted = await conn.fetchval(
            "INSERT INTO idempotency_keys (tenant_id, key, request_hash) VALUES ($1, $2, $3) "
            "ON CONFLICT DO NOTHING RETURNING 1",
            tenant,
            key,
            digest,
        )
        if not inserted:
            # A request that died mid-way (its process or the database went away) left its key pending and could
            # not free it; after a while the retry takes it over. The resource id follows from the key, so the
            # retry finds what the first attempt may have stored instead of creating it again.
            inserted = await conn.fetchval(
                "UPDATE idempotency_keys SET created_at = now() WHERE tenant_id = $1 AND key = $2 "
                "AND request_hash = $3 AND status_code IS NULL AND created_at < now() - make_interval(secs => $4) "
                "RETURNING 1",
                tenant,
                key,
                digest,
                STALE_PENDING_SECONDS,
            )
        if inserted:
            return None
        row = await conn.fetchrow(
            "SELECT request_hash, status_code, body FROM idempotency_keys WHERE tenant_id = $1 AND key = $2",
            tenant,
            key,
        )
    assert row is not None
    if row["request_hash"] != digest:
        raise Invalid("this Idempotency-Key was used with a different request", field="Idempotency-Key")
    if row["status_code"] is None:
        raise Conflict("a request with this Idempotency-Key is still being processed; retry shortly")
    return Replay(row["status_code"], _opened(tenant, key, row["body"]))


async def finish(pool: asyncpg.Pool, tenant: str, key: str, status_code: int, body: Any) -> None:
    async with tenant_transaction(pool, tenant) as conn:
        await conn.execute(
            "UPDATE idempotency_keys SET status_code = $3, body = $4::jsonb WHERE tenant_id = $1 AND key = $2",
            tenant,
            key,
            status_code,
            _sealed(tenant, key, body),
        )


async def abandon(pool: asyncpg.Pool, tenant: str, key: str) -> None:
    """A failed request frees its key so the client may retry it."""
    async with tenant_transaction(pool, tenant) as conn:
        await conn.execute(
            "DELETE FROM idempotency_keys WHERE tenant_id = $1 AND key = $2 AND status_code IS NULL",
            tenant,
            key,
        )


async def idempotent_create(
    pool: asyncpg.Pool,
    *,
    tenant: str,
    key: str | None,
    route: str,
    payload: Any,
    create: Callable[[uuid.UUID], Awaitable[Any]],
) -> JSONResponse:
    """Run `create(new_id)` at most once per (tenant, key); replays answer with the stored response."""
    if key is None:
        return JSONResponse(await create(uuid.uuid4()), status_code=201)
    replay = await begin(pool, tenant, key, request_hash(route, payload))
    if replay is not None:
        return JSONResponse(
            replay.body, status_code=replay.status_code, headers={"Idempotent-Replayed": "true"}
        )
    try:
        body = await create(derived_id(tenant, route, key))
    except BaseException:
        await abandon(pool, tenant, key)
        raise
    await finish(pool, tenant, key, 201, body)
    return JSONResponse(body, status_code=201)
