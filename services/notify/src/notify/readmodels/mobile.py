"""Read models of the phone channels, under row-level security: SMS sent with their receipts, the monthly count
per tenant (the cost), escalations with their steps; and the deadline rows of escalation steps."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from notify.delivery.mobile import ESCALATION
from notify.domain.escalation import Escalation
from notify.domain.sms_record import SmsRecord
from shared.db import Connection, tenant_policy
from shared.scheduler import cancel_for, schedule

MOBILE_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE sms_messages (
        tenant_id text NOT NULL,
        id uuid PRIMARY KEY,
        provider text NOT NULL,
        message_id text NOT NULL,
        delivery_id uuid NOT NULL,
        recipient text NOT NULL,
        month text NOT NULL,
        units int NOT NULL,
        status text NOT NULL,
        receipt_code text,
        accepted_at timestamptz NOT NULL,
        receipt_at timestamptz
    );
    CREATE INDEX sms_messages_by_delivery ON sms_messages (tenant_id, delivery_id);
    CREATE TABLE sms_usage (
        tenant_id text NOT NULL,
        month text NOT NULL,
        provider text NOT NULL,
        messages int NOT NULL DEFAULT 0,
        units int NOT NULL DEFAULT 0,
        delivered int NOT NULL DEFAULT 0,
        failed int NOT NULL DEFAULT 0,
        PRIMARY KEY (tenant_id, month, provider)
    );
    CREATE TABLE escalations (
        tenant_id text NOT NULL,
        id uuid PRIMARY KEY,
        rule text NOT NULL,
        item_id text NOT NULL,
        deadline timestamptz NOT NULL,
        steps jsonb NOT NULL,
        taken jsonb NOT NULL DEFAULT '{}'::jsonb,
        closed_at timestamptz,
        opened_at timestamptz NOT NULL
    );
    """
    + tenant_policy("sms_messages")
    + tenant_policy("sms_usage")
    + tenant_policy("escalations"),
)


class MobileProjection:
    name = "notify-mobile"

    async def apply(self, conn: Connection, event: Any, notification_id: int) -> None:
        if isinstance(event, SmsRecord.Accepted):
            inserted = await conn.fetchval(
                "INSERT INTO sms_messages (tenant_id, id, provider, message_id, delivery_id, recipient, month, units,"
                " status, accepted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'accepted', $9)"
                " ON CONFLICT (id) DO NOTHING RETURNING 1",
                event.tenant_id,
                event.originator_id,
                event.provider,
                event.message_id,
                event.delivery_id,
                event.recipient,
                event.month,
                event.units,
                event.at,
            )
            if inserted:
                await conn.execute(
                    "INSERT INTO sms_usage (tenant_id, month, provider, messages, units) VALUES ($1, $2, $3, 1, $4)"
                    " ON CONFLICT (tenant_id, month, provider) DO UPDATE SET messages = sms_usage.messages + 1,"
                    " units = sms_usage.units + EXCLUDED.units",
                    event.tenant_id,
                    event.month,
                    event.provider,
                    event.units,
                )
        elif isinstance(event, SmsRecord.Receipted):
            row = await conn.fetchrow(
                "UPDATE sms_messages m SET status = $2, receipt_code = $3, receipt_at = $4, units = $5"
                " FROM (SELECT id, units FROM sms_messages WHERE id = $1) old"
                " WHERE m.id = old.id AND m.status = 'accepted'"
                " RETURNING m.tenant_id, m.month, m.provider, $5 - old.units AS more_units",
                event.originator_id,
                "delivered" if event.delivered else "failed",
                event.code,
                event.at,
                event.units,
            )
            if row is not None:
                column = "delivered" if event.delivered else "failed"
                await conn.execute(
                    f"UPDATE sms_usage SET {column} = {column} + 1, units = units + $4 WHERE tenant_id = $1"
                    " AND month = $2 AND provider = $3",
                    row["tenant_id"],
                    row["month"],
                    row["provider"],
                    row["more_units"],
                )
        elif isinstance(event, Escalation.Event):
            await self._escalation(conn, event)

    async def _escalation(self, conn: Connection, event: Any) -> None:
        escalation = event.originator_id
        if isinstance(event, Escalation.Opened):
            await conn.execute(
                "INSERT INTO escalations (tenant_id, id, rule, item_id, deadline, steps, opened_at)"
                " VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7) ON CONFLICT (id) DO NOTHING",
                event.tenant_id,
                escalation,
                event.rule,
                event.item_id,
                event.deadline,
                json.dumps(event.steps),
                event.timestamp,
            )
            for step in event.steps:
                await schedule(
                    conn,
                    tenant_id=event.tenant_id,
                    id=f"escalation:{escalation}:{step['step']}",
                    kind=ESCALATION,
                    subject_id=str(escalation),
                    due_at=datetime.fromisoformat(step["at"]),
                    payload={"escalation_id": str(escalation), "step": step["step"]},
                )
        elif isinstance(event, Escalation.StepTaken):
            await conn.execute(
                "UPDATE escalations SET taken = taken || $2::jsonb WHERE id = $1",
                escalation,
                json.dumps(
                    {
                        event.step: {
                            "at": event.at.isoformat(),
                            "deliveries": event.deliveries,
                            "note": event.note,
                        }
                    }
                ),
            )
        elif isinstance(event, Escalation.Closed):
            await conn.execute("UPDATE escalations SET closed_at = $2 WHERE id = $1", escalation, event.at)
            await cancel_for(conn, str(escalation), event.at, [ESCALATION])
