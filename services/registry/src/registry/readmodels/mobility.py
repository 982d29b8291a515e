"""Read models of mobile registrations, activity certificates and mobility declarations."""

from __future__ import annotations

from typing import Any

from registry.domain import (
    ActivityCertificate,
    MobileRegistration,
    MobilityDeclaration,
)
from registry.domain.dates import add_months
from shared.db import Connection
from shared.fieldcrypt import FieldCipher
from shared.sealed import seal_column


async def project_declaration(conn: Connection, event: Any, cipher: FieldCipher) -> None:
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


async def project_mobility(conn: Connection, event: Any, cipher: FieldCipher) -> None:
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
            seal_column(cipher, event.contact, "contact"),
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
