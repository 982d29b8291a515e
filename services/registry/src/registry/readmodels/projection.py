"""The registry's projection: its read models in PostgreSQL (readmodels/schema.py), from its own events.

Names are sealed with AES-GCM (CIPHER_KEY); national ID numbers and phones are kept only masked here.
"""

from __future__ import annotations

from datetime import date
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
from registry.domain.development import DevelopmentRecord
from registry.domain.dues import DuesAccount
from registry.domain.identity import mask_national_id, mask_phone
from registry.domain.screening import ScreeningCampaign
from registry.readmodels.contact import project_contact
from registry.readmodels.dues import probation_timer, project_dues
from registry.readmodels.mobility import project_declaration, project_mobility
from shared.db import Connection
from shared.fieldcrypt import FieldCipher


class RegistryProjection:
    name = "registry-read-models"

    def __init__(self, cipher: FieldCipher) -> None:
        self.cipher = cipher

    async def apply(self, conn: Connection, event: Any, notification_id: int) -> None:
        if isinstance(event, MobileRegistration.Event | ActivityCertificate.Event):
            await project_mobility(conn, event, self.cipher)
        elif isinstance(event, MobilityDeclaration.Event):
            await project_declaration(conn, event, self.cipher)
        elif isinstance(event, DevelopmentRecord.Event):
            await self._development(conn, event)
        elif isinstance(event, ScreeningCampaign.Event):
            await self._screening(conn, event)
        elif isinstance(event, ContactStatus.Event | TenantSettings.Event):
            await project_contact(conn, event)
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
