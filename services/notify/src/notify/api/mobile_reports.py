"""What the phone channels cost and did, for the committee, tenant_admin and operators: escalations with their
steps, the SMS count per month with its cost, and the SMS accepted with their receipts."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel

from notify.api.common import Notify
from notify.readmodels import queries
from shared.auth import Principal, require_roles
from shared.runtime import RuntimeDep
from shared.threads import run_sync

Accountants = Annotated[Principal, require_roles("committee", "tenant_admin", "operator")]
MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"

mobile_reports = APIRouter(prefix="/v1/mobile", tags=["mobile"])


class UsageLine(BaseModel):
    provider: str
    messages: int
    units: int
    delivered: int
    failed: int
    cost_fen: int


class UsageOut(BaseModel):
    month: str
    unit_price_fen: int
    lines: list[UsageLine]
    messages: int
    units: int
    cost_fen: int


class SmsMessageOut(BaseModel):
    provider: str
    message_id: str
    delivery_id: UUID
    recipient: str
    month: str
    units: int
    status: str
    receipt_code: str | None
    accepted_at: datetime
    receipt_at: datetime | None


class EscalationOut(BaseModel):
    id: UUID
    rule: str
    item_id: str
    deadline: datetime
    steps: list[dict[str, str]]
    taken: dict[str, Any]
    closed_at: datetime | None


@mobile_reports.get(
    "/escalations", response_model=list[EscalationOut], summary="Escalations of the tenant, newest first"
)
async def list_escalations(
    user: Accountants,
    runtime: RuntimeDep,
    open_only: Annotated[bool, Query(alias="open")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[EscalationOut]:
    rows = await queries.escalations(runtime.pool, user.tenant, open_only=open_only, limit=limit)
    return [EscalationOut(**asdict(row)) for row in rows]


@mobile_reports.get(
    "/sms/usage", response_model=UsageOut, summary="SMS sent and billed units in a month (Beijing time)"
)
async def sms_usage(
    user: Accountants,
    runtime: RuntimeDep,
    notify: Notify,
    month: Annotated[str, Query(pattern=MONTH, description="YYYY-MM")],
) -> UsageOut:
    policy = await run_sync(notify.mobile_policy_of, user.tenant)
    sms = policy.parts.get("sms") if policy else None
    price = int(sms.get("unit_price_fen", 0)) if sms else 0
    rows = await queries.sms_usage(runtime.pool, user.tenant, month)
    lines = [UsageLine(**asdict(row), cost_fen=row.units * price) for row in rows]
    return UsageOut(
        month=month,
        unit_price_fen=price,
        lines=lines,
        messages=sum(line.messages for line in lines),
        units=sum(line.units for line in lines),
        cost_fen=sum(line.cost_fen for line in lines),
    )


@mobile_reports.get(
    "/sms/messages", response_model=list[SmsMessageOut], summary="SMS accepted, with their receipts"
)
async def sms_messages(
    user: Accountants,
    runtime: RuntimeDep,
    delivery_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[SmsMessageOut]:
    rows = await queries.sms_messages(runtime.pool, user.tenant, delivery_id=delivery_id, limit=limit)
    return [SmsMessageOut(**asdict(row)) for row in rows]
