"""Registry read models in PostgreSQL under row-level security, projected from the registry's own events."""

from __future__ import annotations

from typing import Any

from shared.db import Connection, tenant_policy

from registry.domain import Member, Organisation

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE organisations (
        tenant_id text NOT NULL,
        id uuid PRIMARY KEY,
        code text NOT NULL,
        name text NOT NULL,
        kind text NOT NULL,
        parent_id uuid,
        closed boolean NOT NULL DEFAULT false,
        founded_at timestamptz NOT NULL,
        UNIQUE (tenant_id, code)
    );
    CREATE TABLE members (
        tenant_id text NOT NULL,
        id uuid PRIMARY KEY,
        organisation_id uuid NOT NULL,
        category text NOT NULL,
        status text NOT NULL,
        registered_on date NOT NULL,
        version int NOT NULL
    );
    CREATE INDEX members_by_org ON members (tenant_id, organisation_id, id);
    """
    + tenant_policy("organisations")
    + tenant_policy("members"),
)


class RegistryProjection:
    """Organisation names are an organisation's public facts; member names stay out of this table."""

    name = "registry-read-models"

    async def apply(self, conn: Connection, event: Any, notification_id: int) -> None:
        if isinstance(event, Organisation.Founded):
            await conn.execute(
                "INSERT INTO organisations (tenant_id, id, code, name, kind, parent_id, founded_at) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
                event.tenant_id, event.originator_id, event.code, event.name, event.kind.value, event.parent_id,
                event.timestamp)
        elif isinstance(event, Member.Registered):
            await conn.execute(
                "INSERT INTO members (tenant_id, id, organisation_id, category, status, registered_on, version) "
                "VALUES ($1, $2, $3, $4, 'active', $5, $6) ON CONFLICT (id) DO NOTHING",
                event.tenant_id, event.originator_id, event.organisation_id, event.category.value,
                event.registered_on, event.originator_version)
