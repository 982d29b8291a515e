"""asyncpg for the read side: pools, per-tenant transactions under row-level security, migrations."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeAlias

import asyncpg

MIGRATION_LOCK = 727_001
# A pooled connection (asyncpg hands out a proxy that behaves as a Connection).
Connection: TypeAlias = Any


async def _no_reset(conn: asyncpg.Connection) -> None:
    return None


async def create_pool(url: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    # Nothing sets session state on a pooled connection (tenants are SET LOCAL, LISTEN and advisory locks use
    # connections of their own), so a released connection needs no reset: asyncpg's default reset is a round
    # trip, and a committed transaction, on every release.
    pool = await asyncpg.create_pool(
        url, min_size=min_size, max_size=max_size, command_timeout=30, timeout=5, reset=_no_reset
    )
    assert pool is not None
    return pool


@asynccontextmanager
async def tenant_transaction(pool: asyncpg.Pool, tenant: str) -> AsyncIterator[Connection]:
    """Every read-model query runs here: row-level security policies compare rows to `app.tenant`."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT set_config('app.tenant', $1, true)", tenant)
        yield conn


@asynccontextmanager
async def system_transaction(pool: asyncpg.Pool) -> AsyncIterator[Connection]:
    """For projections and consumers that write rows of many tenants: policies admit `app.tenant = '*'`."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT set_config('app.tenant', '*', true)")
        yield conn


def tenant_policy(table: str) -> str:
    """DDL enabling and forcing row-level security on a table with a `tenant_id` column."""
    return (
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;"
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY;"
        f"DROP POLICY IF EXISTS tenant_isolation ON {table};"
        f"CREATE POLICY tenant_isolation ON {table} USING ("
        f" tenant_id = current_setting('app.tenant', true) OR current_setting('app.tenant', true) = '*')"
        f" WITH CHECK (tenant_id = current_setting('app.tenant', true)"
        f" OR current_setting('app.tenant', true) = '*');"
    )


SCHEDULER_MIGRATION = """
CREATE TABLE IF NOT EXISTS deadlines (
    tenant_id text NOT NULL,
    id text PRIMARY KEY,
    kind text NOT NULL,
    subject_id text NOT NULL,
    due_at timestamptz NOT NULL,
    payload jsonb NOT NULL DEFAULT '{}',
    fired_at timestamptz,
    cancelled_at timestamptz,
    attempts int NOT NULL DEFAULT 0,
    last_error text
);
CREATE INDEX IF NOT EXISTS deadlines_due ON deadlines (due_at) WHERE fired_at IS NULL AND cancelled_at IS NULL;
"""

PARKED_MIGRATION = """
CREATE TABLE IF NOT EXISTS projection_parked (
    name text NOT NULL,
    notification_id bigint NOT NULL,
    topic text NOT NULL,
    error text NOT NULL,
    parked_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, notification_id)
);
"""

SHARED_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE IF NOT EXISTS relay_position (
        name text PRIMARY KEY,
        position bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE IF NOT EXISTS projection_position (
        name text PRIMARY KEY,
        position bigint NOT NULL
    );
    CREATE TABLE IF NOT EXISTS idempotency_keys (
        tenant_id text NOT NULL,
        key text NOT NULL,
        request_hash text NOT NULL,
        status_code int,
        body jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, key)
    );
    """
    + tenant_policy("idempotency_keys"),
    # Deadlines (shared.scheduler): rows derived from events, fired once by the scheduler.
    SCHEDULER_MIGRATION + tenant_policy("deadlines"),
    # The scheduler sleeps until the next deadline; a new or moved deadline wakes it (NOTIFY at commit).
    """
    CREATE OR REPLACE FUNCTION deadlines_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('lianxin_deadlines', '');
        RETURN NULL;
    END $$;
    DROP TRIGGER IF EXISTS deadlines_changed ON deadlines;
    CREATE TRIGGER deadlines_changed AFTER INSERT OR UPDATE OF due_at ON deadlines
        FOR EACH STATEMENT EXECUTE FUNCTION deadlines_changed();
    """,
    # The NOTIFY says when the soonest new or moved deadline is due (epoch seconds), so a scheduler already
    # waking earlier ignores it: a registration's deadlines months ahead no longer wake it for two selects.
    """
    CREATE OR REPLACE FUNCTION deadlines_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE soonest timestamptz;
    BEGIN
        SELECT min(due_at) INTO soonest FROM new_rows WHERE fired_at IS NULL AND cancelled_at IS NULL;
        IF soonest IS NOT NULL THEN
            PERFORM pg_notify('lianxin_deadlines', extract(epoch FROM soonest)::text);
        END IF;
        RETURN NULL;
    END $$;
    CREATE OR REPLACE FUNCTION deadlines_moved() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE soonest timestamptz;
    BEGIN
        SELECT min(n.due_at) INTO soonest FROM new_rows n JOIN old_rows o USING (id)
            WHERE n.due_at IS DISTINCT FROM o.due_at AND n.fired_at IS NULL AND n.cancelled_at IS NULL;
        IF soonest IS NOT NULL THEN
            PERFORM pg_notify('lianxin_deadlines', extract(epoch FROM soonest)::text);
        END IF;
        RETURN NULL;
    END $$;
    DROP TRIGGER IF EXISTS deadlines_changed ON deadlines;
    DROP FUNCTION IF EXISTS deadlines_changed();
    CREATE TRIGGER deadlines_inserted AFTER INSERT ON deadlines REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION deadlines_inserted();
    CREATE TRIGGER deadlines_moved AFTER UPDATE ON deadlines REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION deadlines_moved();
    """,
    # Events a projection could not apply (shared.projection): kept aside so one bad event blocks no tenant.
    PARKED_MIGRATION,
    # A subject's open deadlines (scheduler.cancel_for, on every contact event of the registry) by index: a full
    # scan took 50 ms at 10,000 members (about six rows each) and grew with the roll.
    """
    CREATE INDEX IF NOT EXISTS deadlines_open_by_subject ON deadlines (subject_id)
        WHERE fired_at IS NULL AND cancelled_at IS NULL;
    """,
)


async def migrate(owner_url: str, service: str, migrations: Sequence[str]) -> None:
    """Apply the shared and the service's migrations once each, in order, under an advisory lock."""
    conn = await asyncpg.connect(owner_url, timeout=5)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (scope text, version int, PRIMARY KEY (scope, version))"
        )
        for scope, steps in (("shared", SHARED_MIGRATIONS), (service, tuple(migrations))):
            done = {
                r["version"]
                for r in await conn.fetch("SELECT version FROM schema_migrations WHERE scope = $1", scope)
            }
            for version, ddl in enumerate(steps, start=1):
                if version in done:
                    continue
                async with conn.transaction():
                    await conn.execute(ddl)
                    await conn.execute("INSERT INTO schema_migrations VALUES ($1, $2)", scope, version)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
        await conn.close()
