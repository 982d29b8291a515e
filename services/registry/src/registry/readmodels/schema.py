"""The registry's read-model tables under row-level security, in the order they were added (append only)."""

from __future__ import annotations

from registry.readmodels.dues import DUES_MIGRATION
from shared.db import tenant_policy

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
    """
    ALTER TABLE members
        ADD COLUMN roll text NOT NULL DEFAULT 'on_roll',
        ADD COLUMN hold_case_id text,
        ADD COLUMN name_sealed text,
        ADD COLUMN national_id_masked text,
        ADD COLUMN phone_masked text,
        ADD COLUMN gender text;
    ALTER TABLE members RENAME COLUMN status TO standing;
    CREATE INDEX members_by_roll ON members (tenant_id, roll, id);
    """,
    """
    CREATE TABLE mobile_registrations (
        tenant_id text NOT NULL,
        id uuid PRIMARY KEY,
        member_id uuid NOT NULL,
        home_org_id uuid NOT NULL,
        kind text NOT NULL,
        state text NOT NULL,
        destination text NOT NULL,
        host_tenant text,
        host_org_id uuid,
        name_sealed text,
        category text,
        contact text NOT NULL,
        left_on date NOT NULL,
        until date,
        transfer_suggested boolean NOT NULL,
        certificate_id uuid,
        certificate_number text,
        certificate_state text,
        certificate_review_due date,
        updated_at timestamptz NOT NULL
    );
    CREATE INDEX mobile_by_home ON mobile_registrations (tenant_id, state);
    CREATE INDEX mobile_by_host ON mobile_registrations (host_tenant, state);
    ALTER TABLE mobile_registrations ENABLE ROW LEVEL SECURITY;
    ALTER TABLE mobile_registrations FORCE ROW LEVEL SECURITY;
    -- The home tenant sees its registrations; the host tenant sees those addressed to it (the API shares
    -- only the columns a host needs).
    CREATE POLICY home_or_host ON mobile_registrations USING (
        tenant_id = current_setting('app.tenant', true) OR host_tenant = current_setting('app.tenant', true)
        OR current_setting('app.tenant', true) = '*')
        WITH CHECK (current_setting('app.tenant', true) = '*');
    """,
    """
    CREATE TABLE contact_status (
        tenant_id text NOT NULL,
        id uuid PRIMARY KEY,
        member_id uuid NOT NULL UNIQUE,
        organisation_id uuid NOT NULL,
        state text NOT NULL,
        cause text,
        last_contact_at timestamptz NOT NULL,
        last_org_life_at timestamptz NOT NULL,
        flagged_at timestamptz,
        failed_search boolean NOT NULL DEFAULT false
    );
    CREATE INDEX contact_by_state ON contact_status (tenant_id, state);
    CREATE TABLE tenant_settings (
        tenant_id text PRIMARY KEY,
        id uuid NOT NULL UNIQUE,
        settings jsonb NOT NULL
    );
    """
    + tenant_policy("contact_status")
    + tenant_policy("tenant_settings"),
    """
    CREATE TABLE role_assignments (
        tenant_id text NOT NULL,
        organisation_id uuid NOT NULL,
        subject text NOT NULL,
        role text NOT NULL,
        active boolean NOT NULL,
        changed_at timestamptz NOT NULL,
        PRIMARY KEY (organisation_id, subject, role)
    );
    CREATE INDEX roles_by_subject ON role_assignments (tenant_id, subject);
    """
    + tenant_policy("role_assignments"),
    # Masked ID numbers keep only the last four characters (the region digits and a shown birth date together
    # left two candidates); rows masked the earlier way are masked again.
    """
    UPDATE members SET national_id_masked = repeat('*', length(national_id_masked) - 4) || right(national_id_masked, 4)
    WHERE national_id_masked IS NOT NULL AND length(national_id_masked) > 4;
    """,
    """
    CREATE TABLE mobility_declarations (
        tenant_id text NOT NULL,
        id uuid PRIMARY KEY,
        member_id uuid NOT NULL,
        home_org_id uuid NOT NULL,
        state text NOT NULL,
        name_sealed text,
        reason text NOT NULL,
        destination text NOT NULL,
        expected_months integer NOT NULL,
        fixed_place boolean NOT NULL,
        contact text NOT NULL,
        question text,
        registration_id uuid,
        declared_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
    );
    CREATE INDEX declarations_by_state ON mobility_declarations (tenant_id, state);
    CREATE INDEX declarations_by_member ON mobility_declarations (member_id);
    """
    + tenant_policy("mobility_declarations"),
    DUES_MIGRATION,
    """
    CREATE TABLE development_records (
        tenant_id text NOT NULL,
        id uuid PRIMARY KEY,
        organisation_id uuid NOT NULL,
        stage text NOT NULL,
        name_sealed text,
        applied_on date NOT NULL,
        stage_since date NOT NULL,
        member_id uuid,
        updated_at timestamptz NOT NULL
    );
    CREATE INDEX development_by_stage ON development_records (tenant_id, stage, organisation_id);
    """
    + tenant_policy("development_records"),
    """
    CREATE TABLE screening_campaigns (
        tenant_id text NOT NULL,
        id uuid PRIMARY KEY,
        title text NOT NULL,
        scope text NOT NULL,
        opened_on date NOT NULL,
        due_on date NOT NULL,
        closed_on date
    );
    CREATE TABLE screening_members (
        tenant_id text NOT NULL,
        campaign_id uuid NOT NULL,
        member_id uuid NOT NULL,
        organisation_id uuid NOT NULL,
        outcome text,
        PRIMARY KEY (campaign_id, member_id)
    );
    CREATE INDEX screening_by_member ON screening_members (tenant_id, member_id);
    """
    + tenant_policy("screening_campaigns")
    + tenant_policy("screening_members"),
    # The work lists read the few members whose contact is not normal and the few held by a transfer: partial
    # indexes keep those reads from scanning the whole roll (readmodels/worklists.py).
    """
    CREATE INDEX IF NOT EXISTS contact_not_normal ON contact_status (tenant_id) WHERE state <> 'normal';
    CREATE INDEX IF NOT EXISTS members_held_by_transfer ON members (tenant_id) WHERE hold_case_id IS NOT NULL;
    """,
)
