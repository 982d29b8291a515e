"""Read models of the dues ledger (党费): paid months per member and the yearly amounts, for arrears lists and the
branch's yearly collection report. The ledger itself (payments, corrections, who recorded them) is the aggregate.
Also the probation reminder's deadline (a month before the end)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from registry.domain.dues import BEIJING, DuesAccount, months_from
from registry.domain.members import Member
from registry.domain.probation import calendar_months_on
from shared import scheduler
from shared.db import Connection, tenant_policy

DUES_MIGRATION = (
    """
    CREATE TABLE dues_ledgers (
        tenant_id text NOT NULL,
        member_id uuid PRIMARY KEY,
        organisation_id uuid NOT NULL,
        starts text NOT NULL
    );
    CREATE TABLE dues_months (
        tenant_id text NOT NULL,
        member_id uuid NOT NULL,
        month text NOT NULL,
        organisation_id uuid NOT NULL,
        payment_id text NOT NULL,
        amount numeric(12, 2),
        paid_at text,
        by_proxy boolean NOT NULL DEFAULT false,
        received_on date,
        PRIMARY KEY (member_id, month)
    );
    CREATE INDEX dues_months_by_org ON dues_months (tenant_id, organisation_id, month);
    CREATE TABLE dues_amounts (
        tenant_id text NOT NULL,
        member_id uuid NOT NULL,
        year int NOT NULL,
        monthly_amount numeric(12, 2) NOT NULL,
        PRIMARY KEY (member_id, year)
    );
    ALTER TABLE contact_status
        ADD COLUMN proposed_cause text,
        ADD COLUMN lost_contact_proposed boolean NOT NULL DEFAULT false,
        ADD COLUMN dues_lapse_at timestamptz,
        ADD COLUMN oldest_open_work_at timestamptz,
        ADD COLUMN self_lapse_ground text;
    UPDATE contact_status SET proposed_cause = cause WHERE state = 'at_risk';
    CREATE TABLE work_assignments (
        tenant_id text NOT NULL,
        id text PRIMARY KEY,
        member_id uuid NOT NULL,
        title text NOT NULL,
        assigned_at timestamptz NOT NULL,
        assigned_by text NOT NULL,
        completed_at timestamptz,
        completed_by text
    );
    CREATE INDEX work_by_member ON work_assignments (tenant_id, member_id);
    """
    + tenant_policy("dues_ledgers")
    + tenant_policy("dues_months")
    + tenant_policy("dues_amounts")
    + tenant_policy("work_assignments")
)


async def project_dues(conn: Connection, event: Any) -> None:
    if isinstance(event, DuesAccount.Opened):
        await conn.execute(
            "INSERT INTO dues_ledgers VALUES ($1, $2, $3, $4) ON CONFLICT (member_id) DO NOTHING",
            event.tenant_id,
            event.member_id,
            event.organisation_id,
            event.starts,
        )
        for year, amount in event.carried_from.get("amounts", {}).items():
            await _amount(conn, event.tenant_id, event.member_id, int(year), amount)
        for month in event.carried_months:
            await _month(conn, event.tenant_id, event.member_id, event.organisation_id, month, "carried")
    elif isinstance(event, DuesAccount.AmountFixed):
        await _amount(conn, event.tenant_id, event.member_id, event.year, event.monthly_amount)
    elif isinstance(event, DuesAccount.OpeningRecorded):
        row = await conn.fetchrow(
            "SELECT organisation_id, starts FROM dues_ledgers WHERE member_id = $1", event.member_id
        )
        for month in months_from(row["starts"], event.paid_through):
            await _month(conn, event.tenant_id, event.member_id, row["organisation_id"], month, "opening")
    elif isinstance(event, DuesAccount.PaymentRecorded):
        for month, amount in event.months.items():
            await _month(
                conn,
                event.tenant_id,
                event.member_id,
                event.organisation_id,
                month,
                event.payment_id,
                amount=amount,
                paid_at=event.paid_at,
                by_proxy=event.by_proxy,
                received_on=event.received_on,
            )
    elif isinstance(event, DuesAccount.PaymentCorrected):
        await conn.execute(
            "DELETE FROM dues_months WHERE member_id = $1 AND payment_id = $2",
            event.member_id,
            event.payment_id,
        )


async def _amount(conn: Connection, tenant_id: str, member_id: Any, year: int, amount: str) -> None:
    await conn.execute(
        "INSERT INTO dues_amounts VALUES ($1, $2, $3, $4::numeric) ON CONFLICT (member_id, year) "
        "DO UPDATE SET monthly_amount = EXCLUDED.monthly_amount",
        tenant_id,
        member_id,
        year,
        amount,
    )


async def _month(
    conn: Connection,
    tenant_id: str,
    member_id: Any,
    organisation_id: Any,
    month: str,
    payment_id: str,
    *,
    amount: str | None = None,
    paid_at: str | None = None,
    by_proxy: bool = False,
    received_on: str | None = None,
) -> None:
    await conn.execute(
        "INSERT INTO dues_months VALUES ($1, $2, $3, $4, $5, $6::numeric, $7, $8, $9) "
        "ON CONFLICT (member_id, month) DO UPDATE SET payment_id = EXCLUDED.payment_id, amount = EXCLUDED.amount, paid_at = EXCLUDED.paid_at, "
        "by_proxy = EXCLUDED.by_proxy, received_on = EXCLUDED.received_on",
        tenant_id,
        member_id,
        month,
        organisation_id,
        payment_id,
        amount,
        paid_at,
        by_proxy,
        date.fromisoformat(received_on) if received_on else None,
    )


async def probation_timer(conn: Connection, event: Member.ProbationSet) -> None:
    """09:00 in Beijing a month before the end; a new end date (extension, corrected admission) moves it."""
    subject = str(event.originator_id)
    await scheduler.cancel_for(conn, subject, event.timestamp, kinds=["probation.ending"])
    facts = event.facts
    if facts["state"] != "running":
        return
    ends_on = (
        facts["ends_on"] if isinstance(facts["ends_on"], date) else date.fromisoformat(str(facts["ends_on"]))
    )
    due = datetime.combine(calendar_months_on(ends_on, -1), time(9), tzinfo=BEIJING)
    await scheduler.schedule(
        conn,
        tenant_id=event.tenant_id,
        id=f"probation.ending:{subject}:{ends_on}:{event.timestamp.timestamp()}",
        kind="probation.ending",
        subject_id=subject,
        due_at=due,
    )
