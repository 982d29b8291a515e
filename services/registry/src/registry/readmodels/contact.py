"""Read models of contact status and the tenant's thresholds; the contact timers they schedule."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from registry.domain import (
    ContactStatus,
    TenantSettings,
)
from registry.domain.contact import ORG_LIFE, SETTINGS_DEFAULTS
from shared import scheduler
from shared.db import Connection

SELF_LAPSE_TIMERS = ["contact.self_lapse", "contact.self_lapse_dues", "contact.self_lapse_work"]


async def project_contact(conn: Connection, event: Any) -> None:
    """The contact table, and the timers derived from it: at-risk, lost contact, self-lapse review."""
    if isinstance(event, TenantSettings.Started):
        await conn.execute(
            "INSERT INTO tenant_settings VALUES ($1, $2, $3::jsonb) ON CONFLICT DO NOTHING",
            event.tenant_id,
            event.originator_id,
            json.dumps(SETTINGS_DEFAULTS),
        )
    elif isinstance(event, TenantSettings.Changed):
        await conn.execute(
            "UPDATE tenant_settings SET settings = settings || $2::jsonb WHERE id = $1",
            event.originator_id,
            json.dumps(event.values),
        )
    elif isinstance(event, ContactStatus.Opened):
        # The row and the tenant's thresholds in one statement.
        opened = await conn.fetchrow(
            "WITH opened AS (INSERT INTO contact_status (tenant_id, id, member_id, organisation_id, state, "
            "last_contact_at, last_org_life_at, dues_lapse_at) VALUES ($1, $2, $3, $4, 'normal', $5, $5, $6) "
            "ON CONFLICT (id) DO NOTHING RETURNING *) "
            "SELECT opened.*, coalesce(s.settings, $7::jsonb) AS settings FROM opened "
            "LEFT JOIN tenant_settings s ON s.tenant_id = opened.tenant_id",
            event.tenant_id,
            event.originator_id,
            event.member_id,
            event.organisation_id,
            event.since,
            event.dues_lapse_at,
            json.dumps(SETTINGS_DEFAULTS),
        )
        if opened is None:  # the row was there: its timers as any later event moves them
            await _timers(conn, event.originator_id, event.timestamp)
        else:
            # A member has one status (its id is derived from the member's), so a new one has no timers to cancel.
            await _schedule_timers(conn, opened, event.timestamp)
    elif isinstance(event, ContactStatus.ContactRecorded):
        org_life = event.kind in ORG_LIFE
        await conn.execute(
            "UPDATE contact_status SET last_contact_at = greatest(last_contact_at, $2), "
            "last_org_life_at = CASE WHEN $3 THEN greatest(last_org_life_at, $2) ELSE last_org_life_at END "
            "WHERE id = $1",
            event.originator_id,
            event.at,
            org_life,
        )
        await _timers(conn, event.originator_id, event.timestamp)
    elif isinstance(event, ContactStatus.FlaggedAtRisk):
        await conn.execute(
            "UPDATE contact_status SET state = 'at_risk', proposed_cause = $2, flagged_at = $3 WHERE id = $1",
            event.originator_id,
            event.cause.value,
            event.timestamp,
        )
        await _timers(conn, event.originator_id, event.timestamp)
    elif isinstance(event, ContactStatus.CauseChosen):
        await conn.execute(
            "UPDATE contact_status SET cause = $2 WHERE id = $1", event.originator_id, event.cause.value
        )
    elif isinstance(event, ContactStatus.LostContactProposed):
        await conn.execute(
            "UPDATE contact_status SET lost_contact_proposed = true WHERE id = $1", event.originator_id
        )
    elif isinstance(event, ContactStatus.DuesClockMoved):
        await conn.execute(
            "UPDATE contact_status SET dues_lapse_at = $2 WHERE id = $1",
            event.originator_id,
            event.lapse_at,
        )
        await _timers(conn, event.originator_id, event.timestamp)
    elif isinstance(event, ContactStatus.WorkAssigned | ContactStatus.WorkCompleted):
        await _work(conn, event)
        await _timers(conn, event.originator_id, event.timestamp)
    elif isinstance(event, ContactStatus.SearchRecorded):
        if not event.succeeded:
            await conn.execute(
                "UPDATE contact_status SET failed_search = true WHERE id = $1", event.originator_id
            )
    elif isinstance(event, ContactStatus.LostContactCaseOpened | ContactStatus.SelfLapseReviewOpened):
        lost = isinstance(event, ContactStatus.LostContactCaseOpened)
        await conn.execute(
            "UPDATE contact_status SET state = $2, flagged_at = coalesce(flagged_at, $3), "
            "self_lapse_ground = $4 WHERE id = $1",
            event.originator_id,
            "lost_contact" if lost else "self_lapse_review",
            event.timestamp,
            getattr(event, "ground", None),
        )
    elif isinstance(event, ContactStatus.BackToNormal):
        await conn.execute(
            "UPDATE contact_status SET state = 'normal', cause = NULL, proposed_cause = NULL, "
            "flagged_at = NULL, failed_search = false, lost_contact_proposed = false, "
            "self_lapse_ground = NULL WHERE id = $1",
            event.originator_id,
        )
        await _timers(conn, event.originator_id, event.timestamp)


async def _timers(conn: Connection, status_id: Any, now: Any) -> None:
    """Deadlines follow the last contact: each contact moves them (earlier ones are cancelled)."""
    row = await conn.fetchrow(
        "SELECT c.*, coalesce(s.settings, $2::jsonb) AS settings FROM contact_status c "
        "LEFT JOIN tenant_settings s ON s.tenant_id = c.tenant_id WHERE c.id = $1",
        status_id,
        json.dumps(SETTINGS_DEFAULTS),
    )
    if row is None:
        return
    await scheduler.cancel_for(
        conn, str(row["member_id"]), now, kinds=["contact.at_risk", "contact.lost", *SELF_LAPSE_TIMERS]
    )
    await _schedule_timers(conn, row, now)


async def _schedule_timers(conn: Connection, row: Any, now: Any) -> None:
    """The timers of a contact_status row (with its tenant's `settings`), in one statement."""
    values = {**SETTINGS_DEFAULTS, **json.loads(row["settings"])}
    subject = str(row["member_id"])
    # Each reschedule is a new deadline id: a cancelled id stays cancelled when scheduled again.
    stamp = int(row["last_contact_at"].timestamp())
    # 党章 art. 9's three clocks, each its own deadline: org life, dues (from the ledger), assigned work.
    timers = {"contact.self_lapse": row["last_org_life_at"] + timedelta(days=values["self_lapse_days"])}
    if row["dues_lapse_at"] is not None:
        timers["contact.self_lapse_dues"] = row["dues_lapse_at"]
    if row["oldest_open_work_at"] is not None:
        timers["contact.self_lapse_work"] = row["oldest_open_work_at"] + timedelta(
            days=values["self_lapse_days"]
        )
    if row["state"] == "normal":
        timers["contact.at_risk"] = row["last_contact_at"] + timedelta(days=values["at_risk_days"])
    if row["state"] == "at_risk":
        timers["contact.lost"] = row["last_contact_at"] + timedelta(days=values["lost_contact_days"])
    await scheduler.schedule_all(
        conn,
        tenant_id=row["tenant_id"],
        subject_id=subject,
        due={f"{kind}:{subject}:{stamp}:{now.timestamp()}": (kind, due) for kind, due in timers.items()},
    )


async def _work(conn: Connection, event: Any) -> None:
    status = await conn.fetchrow(
        "SELECT tenant_id, member_id FROM contact_status WHERE id = $1", event.originator_id
    )
    if isinstance(event, ContactStatus.WorkAssigned):
        await conn.execute(
            "INSERT INTO work_assignments (tenant_id, id, member_id, title, assigned_at, assigned_by) "
            "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
            status["tenant_id"],
            event.assignment_id,
            status["member_id"],
            event.title,
            event.assigned_at,
            event.by,
        )
    else:
        await conn.execute(
            "UPDATE work_assignments SET completed_at = $2, completed_by = $3 WHERE id = $1",
            event.assignment_id,
            event.completed_at,
            event.by,
        )
        await conn.execute(
            "UPDATE contact_status SET last_contact_at = greatest(last_contact_at, $2) WHERE id = $1",
            event.originator_id,
            event.completed_at,
        )
    await conn.execute(
        "UPDATE contact_status SET oldest_open_work_at = (SELECT min(assigned_at) FROM "
        "work_assignments WHERE member_id = $2 AND completed_at IS NULL) WHERE id = $1",
        event.originator_id,
        status["member_id"],
    )
