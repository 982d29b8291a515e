"""Transfer read models: cases visible to both parties, public letter facts for verification, and deadlines."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from shared import scheduler
from shared.db import Connection
from transfer.domain import TransferCase
from transfer.domain.deadlines import REMINDER_DAYS, expires_on, receipt_due_on

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE transfer_cases (
        id uuid PRIMARY KEY,
        sending_tenant text NOT NULL,
        receiving_tenant text,
        member_id uuid NOT NULL,
        sending_org_id uuid NOT NULL,
        receiving_org_id uuid,
        receiving_org_name text NOT NULL,
        destination text NOT NULL,
        state text NOT NULL,
        waiting_for text,
        letter_no text,
        expires_on date,
        checked_in_on date,
        receipt_due_on date,
        batch_id uuid,
        updated_at timestamptz NOT NULL
    );
    CREATE INDEX cases_by_sender ON transfer_cases (sending_tenant, state);
    CREATE INDEX cases_by_receiver ON transfer_cases (receiving_tenant, state);
    ALTER TABLE transfer_cases ENABLE ROW LEVEL SECURITY;
    ALTER TABLE transfer_cases FORCE ROW LEVEL SECURITY;
    -- Both parties see a case; nobody else does.
    CREATE POLICY party ON transfer_cases USING (
        sending_tenant = current_setting('app.tenant', true)
        OR receiving_tenant = current_setting('app.tenant', true)
        OR current_setting('app.tenant', true) = '*')
        WITH CHECK (current_setting('app.tenant', true) = '*');

    -- What anyone may learn by a letter's code: no personal data but a masked name.
    CREATE TABLE letters (
        code text PRIMARY KEY,
        case_id uuid NOT NULL,
        tenant text NOT NULL,
        letter_no text NOT NULL,
        kid text NOT NULL,
        masked_name text,
        from_org text,
        to_org text,
        issued_on date NOT NULL,
        expires_on date NOT NULL,
        status text NOT NULL
    );
    CREATE INDEX letters_by_case ON letters (case_id);
    """,
)


# The letter's deadlines end together: when it is received, voided, refused, returned, cancelled or expires.
LETTER_TIMERS = ["transfer.expiry", "transfer.expiry_reminder"]


def _mask(name: Any) -> str | None:
    return None if not name else str(name)[0] + "*" * (len(str(name)) - 1)


def _midnight_after(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=UTC)


class TransferProjection:
    name = "transfer-read-models"

    async def apply(self, conn: Connection, event: Any, notification_id: int) -> None:
        if isinstance(event, TransferCase.Requested):
            await conn.execute(
                "INSERT INTO transfer_cases (id, sending_tenant, receiving_tenant, member_id, sending_org_id, "
                "receiving_org_id, receiving_org_name, destination, state, updated_at) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'draft', $9) ON CONFLICT (id) DO NOTHING",
                event.originator_id,
                event.sending_tenant,
                event.receiving_tenant,
                event.member_id,
                event.sending_org_id,
                event.receiving_org_id,
                event.receiving_org_name,
                event.destination.value,
                event.timestamp,
            )
        elif isinstance(event, TransferCase.Stepped):
            await self._stepped(conn, event)
        elif isinstance(event, TransferCase.LetterIssued):
            letter = event.letter
            await conn.execute(
                "UPDATE transfer_cases SET letter_no = $2, expires_on = $3, state = CASE WHEN state = "
                "'committee_approved' THEN 'letter_issued' ELSE state END, updated_at = $4 WHERE id = $1",
                event.originator_id,
                letter["letter_no"],
                date.fromisoformat(letter["expires_on"]),
                event.timestamp,
            )
            await conn.execute(
                "INSERT INTO letters VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'valid') "
                "ON CONFLICT (code) DO NOTHING",
                letter["code"],
                event.originator_id,
                letter["tenant"],
                letter["letter_no"],
                letter["kid"],
                _mask(letter.get("name")),
                letter.get("from_org"),
                letter.get("to_org"),
                date.fromisoformat(letter["issued_on"]),
                date.fromisoformat(letter["expires_on"]),
            )
            tenant = letter["tenant"]
            subject = str(event.originator_id)
            await scheduler.schedule(
                conn,
                tenant_id=tenant,
                id=f"transfer.expiry:{subject}:{letter['letter_no']}",
                kind="transfer.expiry",
                subject_id=subject,
                due_at=_midnight_after(expires_on(letter)),
            )
            issued_on = date.fromisoformat(letter["issued_on"])
            for days in REMINDER_DAYS:
                remind_on = expires_on(letter) - timedelta(days=days)
                if remind_on > issued_on:  # a short letter skips the reminders already behind it
                    await scheduler.schedule(
                        conn,
                        tenant_id=tenant,
                        id=f"transfer.expiry_reminder:{subject}:{letter['letter_no']}:{days}",
                        kind="transfer.expiry_reminder",
                        subject_id=subject,
                        payload={"days_before": days},
                        due_at=_midnight_after(remind_on - timedelta(days=1)),
                    )
        elif isinstance(event, TransferCase.LetterVoided):
            await conn.execute(
                "UPDATE letters SET status = 'voided' WHERE letter_no = $2 AND case_id = $1",
                event.originator_id,
                event.letter_no,
            )
            await scheduler.cancel_for(conn, str(event.originator_id), event.timestamp, kinds=LETTER_TIMERS)
        elif isinstance(event, TransferCase.ParticipantRequested | TransferCase.ParticipantAnswered):
            waiting = event.request if isinstance(event, TransferCase.ParticipantRequested) else None
            await conn.execute(
                "UPDATE transfer_cases SET waiting_for = $2, updated_at = $3 WHERE id = $1",
                event.originator_id,
                waiting,
                event.timestamp,
            )

    async def _stepped(self, conn: Connection, event: TransferCase.Stepped) -> None:
        subject = str(event.originator_id)
        await conn.execute(
            "UPDATE transfer_cases SET state = $2, updated_at = $3 WHERE id = $1",
            event.originator_id,
            event.state.value,
            event.timestamp,
        )
        if event.step in (
            "transfer_received",
            "transfer_completed",
            "transfer_refused",
            "transfer_returned",
            "transfer_cancelled",
            "letter_expired",
            "letter_voided",
        ):
            await scheduler.cancel_for(conn, subject, event.timestamp, kinds=LETTER_TIMERS)
        if event.step == "transfer_completed":
            await conn.execute(
                "UPDATE letters SET status = 'completed' WHERE case_id = $1 AND status = 'valid'",
                event.originator_id,
            )
            await scheduler.cancel_for(conn, subject, event.timestamp, kinds=["transfer.receipt_overdue"])
        if event.step == "letter_expired":
            await conn.execute(
                "UPDATE letters SET status = 'expired' WHERE case_id = $1 AND status IN ('valid', 'voided')",
                event.originator_id,
            )
        if event.step == "member_checked_in":
            checked_in = date.fromisoformat(event.details["checked_in_on"])
            due = receipt_due_on(checked_in)
            await conn.execute(
                "UPDATE transfer_cases SET checked_in_on = $2, receipt_due_on = $3 WHERE id = $1",
                event.originator_id,
                checked_in,
                due,
            )
            tenant = await conn.fetchval(
                "SELECT sending_tenant FROM transfer_cases WHERE id = $1", event.originator_id
            )
            await scheduler.schedule(
                conn,
                tenant_id=tenant,
                id=f"transfer.receipt_overdue:{subject}",
                kind="transfer.receipt_overdue",
                subject_id=subject,
                due_at=_midnight_after(due),
            )
        if event.step == "receipt_returned":
            await scheduler.cancel_for(conn, subject, event.timestamp, kinds=["transfer.receipt_overdue"])
