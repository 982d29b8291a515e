"""Deliveries for operators: list them by status (dead letters first of all), read one, replay a dead one."""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel

from notify.api.common import Notify, Operators
from notify.readmodels import queries
from shared.runtime import RuntimeDep
from shared.threads import run_sync

# Attempts recorded before replies were kept out carry "HTTP 500: <first bytes of the reply>" or a robot's errmsg:
# shown only up to the status or code, so nothing an internal server answered reaches the tenant.
REPLY_EXCERPT = re.compile(r"^(.*?(?:HTTP \d{3}|robot errcode -?\d+))(?::.*)?$", re.DOTALL)


def without_reply(error: str | None) -> str | None:
    return REPLY_EXCERPT.sub(r"\1", error) if error else error


class DeliveryOut(BaseModel):
    id: UUID
    rule: str
    event_type: str
    event_id: str
    recipient: str
    channel: str
    destination: str
    status: str
    attempts: int
    last_error: str | None
    due_at: datetime
    updated_at: datetime
    sent_at: datetime | None


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None


deliveries = APIRouter(prefix="/v1/deliveries", tags=["deliveries"])


@deliveries.get("", response_model=DeliveryPage, summary="Deliveries of the tenant by status, newest first")
async def list_deliveries(
    user: Operators,
    runtime: RuntimeDep,
    status: Literal["pending", "sent", "dead", "withdrawn"] | None = None,
    event_id: str | None = None,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> DeliveryPage:
    before = int(cursor) if cursor and cursor.isdigit() else None
    rows, next_cursor = await queries.deliveries(
        runtime.pool, user.tenant, status=status, event_id=event_id, before=before, limit=limit
    )
    return DeliveryPage(items=[_delivery_out(row) for row in rows], next_cursor=next_cursor)


@deliveries.get("/{delivery_id}", response_model=DeliveryOut, summary="One delivery")
async def get_delivery(
    delivery_id: UUID, user: Operators, runtime: RuntimeDep, notify: Notify
) -> DeliveryOut:
    await run_sync(notify.get_delivery, user.tenant, delivery_id)  # 404 for another tenant's
    row = await queries.delivery(runtime.pool, user.tenant, delivery_id)
    if row is None:  # stored, not yet projected: answer from the aggregate
        delivery = await run_sync(notify.get_delivery, user.tenant, delivery_id)
        return DeliveryOut(
            id=delivery.id,
            rule=delivery.rule,
            event_type=delivery.event_type,
            event_id=delivery.event_id,
            recipient=delivery.recipient,
            channel=delivery.channel,
            destination=delivery.destination,
            status=delivery.status.value,
            attempts=delivery.attempts,
            last_error=without_reply(delivery.last_error),
            due_at=delivery.requested_at,
            updated_at=delivery.modified_on,
            sent_at=None,
        )
    return _delivery_out(row)


def _delivery_out(row: queries.DeliveryRow) -> DeliveryOut:
    return DeliveryOut(**{**asdict(row), "last_error": without_reply(row.last_error)})


class ReplayOut(BaseModel):
    id: str
    status: str


@deliveries.post(
    "/{delivery_id}/replay",
    status_code=202,
    response_model=ReplayOut,
    summary="Re-open a dead delivery (same id and key)",
)
async def replay_delivery(delivery_id: UUID, user: Operators, notify: Notify) -> ReplayOut:
    delivery = await run_sync(notify.replay_delivery, user.tenant, delivery_id, by=user.subject)
    return ReplayOut(id=str(delivery.id), status=delivery.status.value)
