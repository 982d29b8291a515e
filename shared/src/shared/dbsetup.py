"""Provisions each service's database with an owner role (migrations) and an application role (DML only)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse, urlunparse

import psycopg
from psycopg import sql

SERVICES = ("registry", "transfer", "learning", "notify")


@dataclass(frozen=True)
class ServiceDatabase:
    service: str
    app_url: str
    owner_url: str


def _with(url: str, *, user: str, password: str, dbname: str) -> str:
    parsed = urlparse(url)
    netloc = f"{user}:{password}@{parsed.hostname}:{parsed.port or 5432}"
    return urlunparse(parsed._replace(netloc=netloc, path=f"/{dbname}"))


def provision(
    admin_url: str,
    *,
    prefix: str = "lianxin",
    password: str = "lianxin",
    services: tuple[str, ...] = SERVICES,
) -> dict[str, ServiceDatabase]:
    """Idempotent: roles `<prefix>_<svc>_owner` / `<prefix>_<svc>_app`, database `<prefix>_<svc>`."""
    result: dict[str, ServiceDatabase] = {}
    with psycopg.connect(admin_url, autocommit=True) as admin:
        for service in services:
            owner, app, dbname = f"{prefix}_{service}_owner", f"{prefix}_{service}_app", f"{prefix}_{service}"
            for role in (owner, app):
                exists = admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
                statement = (
                    "ALTER ROLE {} LOGIN PASSWORD {}" if exists else "CREATE ROLE {} LOGIN PASSWORD {}"
                )
                admin.execute(sql.SQL(statement).format(sql.Identifier(role), sql.Literal(password)))
            if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone():
                admin.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {}").format(
                        sql.Identifier(dbname), sql.Identifier(owner)
                    )
                )
            with psycopg.connect(
                _with(
                    admin_url,
                    user=urlparse(admin_url).username or "postgres",
                    password=urlparse(admin_url).password or "",
                    dbname=dbname,
                ),
                autocommit=True,
            ) as db:
                for statement in (
                    "REVOKE ALL ON DATABASE {db} FROM PUBLIC",
                    "GRANT CONNECT, TEMPORARY ON DATABASE {db} TO {app}",
                    "ALTER SCHEMA public OWNER TO {owner}",
                    "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
                    "GRANT USAGE ON SCHEMA public TO {app}",
                    "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
                    "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}",
                    "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
                    "GRANT USAGE, SELECT ON SEQUENCES TO {app}",
                ):
                    db.execute(
                        sql.SQL(statement).format(
                            db=sql.Identifier(dbname), app=sql.Identifier(app), owner=sql.Identifier(owner)
                        )
                    )
            result[service] = ServiceDatabase(
                service=service,
                app_url=_with(admin_url, user=app, password=password, dbname=dbname),
                owner_url=_with(admin_url, user=owner, password=password, dbname=dbname),
            )
    return result
