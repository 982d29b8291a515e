#!/usr/bin/env bash
# Run by the postgres image from docker-entrypoint-initdb.d, once, on an empty data directory, as the
# superuser (executed, not sourced: the file is executable). The same layout as provision() in
# shared/src/shared/dbsetup.py: per service a database lianxin_<svc> owned by lianxin_<svc>_owner, the role that
# runs the migrations, and lianxin_<svc>_app with DML only, so row-level security applies to it.
# Safe to run again by hand (psql as the superuser): it creates what is missing and resets the passwords.
set -euo pipefail
: "${LIANXIN_DB_PASSWORD:?set LIANXIN_DB_PASSWORD}"
superuser="${POSTGRES_USER:-postgres}"

for svc in registry transfer learning notify; do
  owner="lianxin_${svc}_owner"; app="lianxin_${svc}_app"; db="lianxin_${svc}"

  # Roles and database. psql variables (:'name' a literal, :"name" an identifier) quote every value.
  psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$superuser" --dbname postgres \
       -v owner="$owner" -v app="$app" -v db="$db" -v pw="$LIANXIN_DB_PASSWORD" <<'SQL'
SELECT format(CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role)
                   THEN 'ALTER ROLE %I LOGIN PASSWORD %L' ELSE 'CREATE ROLE %I LOGIN PASSWORD %L' END,
              role, :'pw')
  FROM unnest(ARRAY[:'owner', :'app']) AS role \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'owner')
  WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
SQL

  # Privileges, inside the service's database.
  psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$superuser" --dbname "$db" \
       -v owner="$owner" -v app="$app" -v db="$db" <<'SQL'
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO :"app";
ALTER SCHEMA public OWNER TO :"owner";
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO :"app";
SQL
done

# Profile idp: Keycloak's own database, when KEYCLOAK_DB_PASSWORD is set (docker-compose.yml passes it through).
if [ -n "${KEYCLOAK_DB_PASSWORD:-}" ]; then
  psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$superuser" --dbname postgres -v pw="$KEYCLOAK_DB_PASSWORD" <<'SQL'
SELECT format(CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'keycloak')
                   THEN 'ALTER ROLE keycloak LOGIN PASSWORD %L' ELSE 'CREATE ROLE keycloak LOGIN PASSWORD %L' END, :'pw') \gexec
SELECT 'CREATE DATABASE keycloak OWNER keycloak'
  WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'keycloak') \gexec
SQL
fi
