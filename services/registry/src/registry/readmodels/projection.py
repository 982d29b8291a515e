"""The registry's projection: its read models in PostgreSQL (readmodels/schema.py), from its own events.

Names are sealed with AES-GCM (CIPHER_KEY); national ID numbers and phones are kept only masked here.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from registry.access import ROLES_CHANNEL
from registry.domain import (
    ActivityCertificate,
    ContactStatus,
    Member,
    MobileRegistration,
    MobilityDeclaration,
    Organisation,
    TenantSettings,
)
from registry.domain.contact import ORG_LIFE, SETTINGS_DEFAULTS
from registry.domain.dates import add_months
from registry.domain.development import DevelopmentRecord
from registry.domain.dues import DuesAccount
from registry.domain.identity import mask_national_id, mask_phone
from registry.domain.screening import ScreeningCampaign
from registry.readmodels.dues import probation_timer, project_dues
from shared import scheduler
from shared.db import Connection
from shared.fieldcrypt import FieldCipher
from shared.sealed import seal_column

SELF_LAPSE_TIMERS = ["contact.self_lapse", "contact.self_lapse_dues", "contact.self_lapse_work"]


class RegistryProjection:
    name = "registry-read-models"

    def __init__(self, cipher: FieldCipher) -> None:
        self.cipher = cipher

    async def apply(self, conn: Connection, event: Any, notification_id: int) -> None:
        if isinstance(event, MobileRegistration.Event | ActivityCertificate.Event):
            await self._mobility(conn, event)
        elif isinstance(event, MobilityDeclaration.Event):
            await self._declaration(conn, event)
        elif isinstance(event, DevelopmentRecord.Event):
            await self._development(conn, event)
        elif isinstance(event, ScreeningCampaign.Event):
            await self._screening(conn, event)
        elif isinstance(event, ContactStatus.Event | TenantSettings.Event):
            await self._contact(conn, event)
        elif isinstance(event, DuesAccount.Event):
            await project_dues(conn, event)
        elif isinstance(event, Organisation.Founded):
            await conn.execute(
                "INSERT INTO organisations (tenant_id, id, code, name, kind, parent_id, founded_at) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
                event.tenant_id,
                event.originator_id,
                event.code,
                event.name,
                event.kind.value,
                event.parent_id,
                event.timestamp,
            )
        elif isinstance(event, Organisation.Renamed):
            await conn.execute(
                "UPDATE organisations SET name = $2 WHERE id = $1", event.originator_id, event.name
            )
        elif isinstance(event, Organisation.Moved):
            await conn.execute(
                "UPDATE organisations SET parent_id = $2 WHERE id = $1", event.originator_id, event.parent_id
            )
        elif isinstance(event, Organisation.RoleGranted | Organisation.RoleRevoked):
            await conn.execute(
                "INSERT INTO role_assignments VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (organisation_id, subject, "
                "role) DO UPDATE SET active = EXCLUDED.active, changed_at = EXCLUDED.changed_at",
                event.tenant_id,
                event.originator_id,
                event.subject,
                event.role,
                isinstance(event, Organisation.RoleGranted),
                event.timestamp,
            )
            # Delivered at commit: every instance drops the revocations it kept (registry.access).
            await conn.execute("SELECT pg_notify($1, '')", ROLES_CHANNEL)
        elif isinstance(event, Organisation.Closed):
            await conn.execute("UPDATE organisations SET closed = true WHERE id = $1", event.originator_id)
        elif isinstance(event, Member.Registered | Member.Enrolled):
            profile = event.profile
            await conn.execute(
                "INSERT INTO members (tenant_id, id, organisation_id, category, standing, registered_on, version, "
                "name_sealed, national_id_masked, phone_masked, gender) "
                "VALUES ($1, $2, $3, $4, 'active', $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING",
                event.tenant_id,
                event.originator_id,
                event.organisation_id,
                event.category.value,
                event.registered_on,
                event.originator_version,
                self.cipher.seal(profile.get("name"), "name"),
                mask_national_id(profile.get("national_id_number")),
                mask_phone(profile.get("phone")),
                profile.get("gender"),
            )
        elif isinstance(event, Member.ProfileCorrected):
            changes = event.changes
            await conn.execute(
                "UPDATE members SET name_sealed = coalesce($2, name_sealed), phone_masked = coalesce($3, phone_masked),"
                " gender = coalesce($4, gender), version = $5 WHERE id = $1",
                event.originator_id,
                self.cipher.seal(changes.get("name"), "name"),
                mask_phone(changes.get("phone")),
                changes.get("gender"),
                event.originator_version,
            )
        elif isinstance(event, Member.PersonalDataErased):
            # Erasure: nothing of the person stays readable here, masked parts included.
            await conn.execute(
                "UPDATE members SET name_sealed = NULL, national_id_masked = NULL, phone_masked = NULL,"
                " version = $2 WHERE id = $1",
                event.originator_id,
                event.originator_version,
            )
            await conn.execute(
                "UPDATE mobile_registrations SET name_sealed = NULL WHERE member_id = $1", event.originator_id
            )
        elif isinstance(event, Member.DecisionRecorded):
            column, value = {
                "regularisation": ("category", "full"),
                "suspension": ("standing", "suspended"),
                "reinstatement": ("standing", "active"),
                "striking_off": ("roll", "struck_off"),
                "probation_cancellation": ("roll", "struck_off"),
            }.get(event.kind.value, ("", ""))
            if column:
                await conn.execute(
                    f"UPDATE members SET {column} = $2, version = $3 WHERE id = $1",
                    event.originator_id,
                    value,
                    event.originator_version,
                )
        elif isinstance(event, Member.ProbationSet):
            await probation_timer(conn, event)
        elif isinstance(event, Member.HoldPlaced):
            await conn.execute(
                "UPDATE members SET hold_case_id = $2 WHERE id = $1", event.originator_id, event.case_id
            )
        elif isinstance(event, Member.HoldLifted):
            await conn.execute("UPDATE members SET hold_case_id = NULL WHERE id = $1", event.originator_id)
        elif isinstance(event, Member.Released):
            await conn.execute(
                "UPDATE members SET hold_case_id = NULL, roll = 'transferred_out' WHERE id = $1",
                event.originator_id,
            )

    async def _declaration(self, conn: Connection, event: Any) -> None:
        if isinstance(event, MobilityDeclaration.Declared):
            member = await conn.fetchrow("SELECT name_sealed FROM members WHERE id = $1", event.member_id)
            await conn.execute(
                "INSERT INTO mobility_declarations (tenant_id, id, member_id, home_org_id, state, name_sealed, "
                "reason, destination, expected_months, fixed_place, contact, declared_at, updated_at) VALUES "
                "($1, $2, $3, $4, 'declared', $5, $6, $7, $8, $9, $10, $11, $11) ON CONFLICT (id) DO NOTHING",
                event.tenant_id,
                event.originator_id,
                event.member_id,
                event.home_org_id,
                member["name_sealed"] if member else None,
                event.reason,
                event.destination,
                event.expected_months,
                event.fixed_place,
                event.contact,
                event.timestamp,
            )
        elif isinstance(event, MobilityDeclaration.Confirmed):
            await conn.execute(
                "UPDATE mobility_declarations SET state = 'confirmed', registration_id = $2, "
                "updated_at = $3 WHERE id = $1",
                event.originator_id,
                event.registration_id,
                event.timestamp,
            )
        elif isinstance(event, MobilityDeclaration.Questioned):
            await conn.execute(
                "UPDATE mobility_declarations SET state = 'questioned', question = $2, "
                "updated_at = $3 WHERE id = $1",
                event.originator_id,
                event.question,
                event.timestamp,
            )

    async def _mobility(self, conn: Connection, event: Any) -> None:
        if isinstance(event, MobileRegistration.OutflowRegistered):
            member = await conn.fetchrow(
                "SELECT name_sealed, category FROM members WHERE id = $1", event.member_id
            )
            await conn.execute(
                "INSERT INTO mobile_registrations (tenant_id, id, member_id, home_org_id, kind, state, destination, "
                "host_tenant, host_org_id, name_sealed, category, contact, left_on, until, transfer_suggested, "
                "updated_at) VALUES ($1, $2, $3, $4, $5, 'outflow_registered', $6, $7, $8, $9, $10, $11, $12, $13, "
                "$14, $15) ON CONFLICT (id) DO NOTHING",
                event.tenant_id,
                event.originator_id,
                event.member_id,
                event.home_org_id,
                event.kind.value,
                event.destination,
                event.host_tenant,
                event.host_org_id,
                member["name_sealed"] if member else None,
                member["category"] if member else None,
                seal_column(self.cipher, event.contact, "contact"),
                event.left_on,
                event.until,
                event.transfer_suggested,
                event.timestamp,
            )
        elif isinstance(event, MobileRegistration.InflowRegistered):
            await conn.execute(
                "UPDATE mobile_registrations SET state = 'inflow_registered', host_org_id = $2, "
                "updated_at = $3 WHERE id = $1",
                event.originator_id,
                event.host_org_id,
                event.timestamp,
            )
        elif isinstance(event, MobileRegistration.Returned | MobileRegistration.ConvertedToTransfer):
            state = "returned" if isinstance(event, MobileRegistration.Returned) else "converted_to_transfer"
            await conn.execute(
                "UPDATE mobile_registrations SET state = $2, updated_at = $3 WHERE id = $1",
                event.originator_id,
                state,
                event.timestamp,
            )
        elif isinstance(event, ActivityCertificate.Issued):
            await conn.execute(
                "UPDATE mobile_registrations SET certificate_id = $4, certificate_number = $2, "
                "certificate_state = 'issued', certificate_review_due = $3 WHERE id = $1",
                event.registration_id,
                event.number,
                add_months(event.issued_on, 12),
                event.originator_id,
            )
        elif isinstance(event, ActivityCertificate.Presented):
            await conn.execute(
                "UPDATE mobile_registrations SET certificate_state = 'presented' WHERE certificate_id = $1",
                event.originator_id,
            )
        elif isinstance(event, ActivityCertificate.Reviewed):
            await conn.execute(
                "UPDATE mobile_registrations SET certificate_review_due = $2 WHERE certificate_id = $1",
                event.originator_id,
                add_months(event.reviewed_on, 12),
            )
        elif isinstance(event, ActivityCertificate.Closed):
            await conn.execute(
                "UPDATE mobile_registrations SET certificate_state = $2 WHERE certificate_id = $1",
                event.originator_id,
                event.state.value,
            )

    async def _development(self, conn: Connection, event: Any) -> None:
        """发展党员 records: who is at which stage since when, for lists and work lists."""
        if isinstance(event, DevelopmentRecord.Opened):
            carried = event.carried or {}
            stage = carried.get("stage", "applicant")
            since = carried.get("since", {}).get(stage) or event.applied_on.isoformat()
            await conn.execute(
                "INSERT INTO development_records (tenant_id, id, organisation_id, stage, name_sealed, applied_on, "
                "stage_since, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING",
                event.tenant_id,
                event.originator_id,
                event.organisation_id,
                stage,
                self.cipher.seal(event.profile.get("name"), "name"),
                event.applied_on,
                date.fromisoformat(since),
                event.timestamp,
            )
        elif isinstance(event, DevelopmentRecord.StepDecided):
            await conn.execute(
                "UPDATE development_records SET stage = $2, stage_since = $3, updated_at = $4 WHERE id = $1",
                event.originator_id,
                event.stage.value,
                event.decided_on,
                event.timestamp,
            )
        elif isinstance(event, DevelopmentRecord.Moved):
            await conn.execute(
                "UPDATE development_records SET organisation_id = $2, updated_at = $3 WHERE id = $1",
                event.originator_id,
                event.organisation_id,
                event.timestamp,
            )
        elif isinstance(event, DevelopmentRecord.MovedOut):
            await conn.execute(
                "UPDATE development_records SET stage = 'moved_out', updated_at = $2 WHERE id = $1",
                event.originator_id,
                event.timestamp,
            )
        elif isinstance(event, DevelopmentRecord.HandedOver):
            await conn.execute(
                "UPDATE development_records SET member_id = $2, updated_at = $3 WHERE id = $1",
                event.originator_id,
                event.member_id,
                event.timestamp,
            )

    async def _screening(self, conn: Connection, event: Any) -> None:
        if isinstance(event, ScreeningCampaign.Opened):
            await conn.execute(
                "INSERT INTO screening_campaigns VALUES ($1, $2, $3, $4, $5, $6, NULL) "
                "ON CONFLICT (id) DO NOTHING",
                event.tenant_id,
                event.originator_id,
                event.title,
                event.scope.value,
                event.opened_on,
                event.due_on,
            )
            await conn.executemany(
                "INSERT INTO screening_members VALUES ($1, $2, $3, $4, NULL) ON CONFLICT DO NOTHING",
                [(event.tenant_id, event.originator_id, UUID(m), UUID(o)) for m, o in event.members.items()],
            )
        elif isinstance(event, ScreeningCampaign.MemberConfirmed):
            await conn.execute(
                "UPDATE screening_members SET outcome = $3 WHERE campaign_id = $1 AND member_id = $2",
                event.originator_id,
                UUID(event.member_id),
                event.outcome.value,
            )
        elif isinstance(event, ScreeningCampaign.Closed):
            await conn.execute(
                "UPDATE screening_campaigns SET closed_on = $2 WHERE id = $1", event.originator_id, event.on
            )

    async def _contact(self, conn: Connection, event: Any) -> None:
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
            await conn.execute(
                "INSERT INTO contact_status (tenant_id, id, member_id, organisation_id, state, last_contact_at, "
                "last_org_life_at) VALUES ($1, $2, $3, $4, 'normal', $5, $5) ON CONFLICT (id) DO NOTHING",
                event.tenant_id,
                event.originator_id,
                event.member_id,
                event.organisation_id,
                event.since,
            )
            await self._timers(conn, event.originator_id, event.timestamp)
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
            await self._timers(conn, event.originator_id, event.timestamp)
        elif isinstance(event, ContactStatus.FlaggedAtRisk):
            await conn.execute(
                "UPDATE contact_status SET state = 'at_risk', proposed_cause = $2, flagged_at = $3 "
                "WHERE id = $1",
                event.originator_id,
                event.cause.value,
                event.timestamp,
            )
            await self._timers(conn, event.originator_id, event.timestamp)
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
            await self._timers(conn, event.originator_id, event.timestamp)
        elif isinstance(event, ContactStatus.WorkAssigned | ContactStatus.WorkCompleted):
            await self._work(conn, event)
            await self._timers(conn, event.originator_id, event.timestamp)
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
            await self._timers(conn, event.originator_id, event.timestamp)

    async def _timers(self, conn: Connection, status_id: Any, now: Any) -> None:
        """Deadlines follow the last contact: each contact moves them (earlier ones are cancelled)."""
        row = await conn.fetchrow(
            "SELECT c.*, coalesce(s.settings, $2::jsonb) AS settings FROM contact_status c "
            "LEFT JOIN tenant_settings s ON s.tenant_id = c.tenant_id WHERE c.id = $1",
            status_id,
            json.dumps(SETTINGS_DEFAULTS),
        )
        if row is None:
            return
        values = {**SETTINGS_DEFAULTS, **json.loads(row["settings"])}
        subject = str(row["member_id"])
        await scheduler.cancel_for(
            conn, subject, now, kinds=["contact.at_risk", "contact.lost", *SELF_LAPSE_TIMERS]
        )
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
        for kind, due in timers.items():
            await scheduler.schedule(
                conn,
                tenant_id=row["tenant_id"],
                id=f"{kind}:{subject}:{stamp}:{now.timestamp()}",
                kind=kind,
                subject_id=subject,
                due_at=due,
            )

    async def _work(self, conn: Connection, event: Any) -> None:
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
