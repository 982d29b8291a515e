"""Real PostgreSQL and NATS for the black-box tests: given by DATABASE_URL/NATS_URL, else testcontainers where a
Docker engine answers, else the embedded servers from the wheels, on free ports. The four services run as child
processes, exactly as `lianxin dev` runs them."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import psycopg
import pytest

from lianxin.platform import Platform
from shared.auth import ensure_dev_keypair, issue_dev_token
from shared.devstack import EmbeddedNats, EmbeddedPostgres, free_port
from shared.settings import REPO_ROOT

ALL_SERVICES = ("registry", "transfer", "learning", "notify", "analytics")

# Every platform under test runs on the same chosen date, never the machine's: Monday 23 November 2026, 10:00 in
# Beijing (inside check-in hours, outside quiet hours). LIANXIN_TEST_CLOCK_START tries another instant. The
# services' clocks run from there (shifted from the machine's, so a restarted service carries on) and tests move
# them with POST /_test/clock/advance; tests read them with GET /_test/clock (helpers.service_now).
TEST_CLOCK_START = datetime.fromisoformat(
    os.environ.get("LIANXIN_TEST_CLOCK_START", "2026-11-23T10:00:00+08:00")
)
_CLOCK_SHIFT = (TEST_CLOCK_START - datetime.now(UTC)).total_seconds()  # the one reading of the machine's date
# A developer may run a subset while another service is being rebuilt: LIANXIN_TEST_SERVICES=registry,notify.
SERVICES = tuple(s for s in os.environ.get("LIANXIN_TEST_SERVICES", ",".join(ALL_SERVICES)).split(",") if s)


@dataclass
class Infra:
    admin_url: str
    nats_url: str  # empty: each platform starts its own embedded NATS
    postgres: EmbeddedPostgres | None = None


def _docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="session")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Infra]:
    if os.environ.get("DATABASE_URL") and os.environ.get("NATS_URL"):
        yield Infra(os.environ["DATABASE_URL"], os.environ["NATS_URL"])
        return
    if _docker_answers():
        from testcontainers.core.container import DockerContainer
        from testcontainers.postgres import PostgresContainer

        with (
            PostgresContainer("postgres:17.6", driver=None) as pg,
            DockerContainer("nats:2.12.3").with_command("-js").with_exposed_ports(4222) as nats,
        ):
            nats_url = f"nats://{nats.get_container_host_ip()}:{nats.get_exposed_port(4222)}"
            yield Infra(pg.get_connection_url(), nats_url)
        return
    root = tmp_path_factory.mktemp("infra")
    postgres = EmbeddedPostgres(root / "postgres", port=free_port())
    postgres.start()
    try:
        # NATS is per platform (start_platform): streams and durable consumers are global to a server.
        yield Infra(postgres.dsn(), "", postgres)
    finally:
        postgres.stop()


@dataclass
class Running:
    platform: Platform
    infra: Infra
    data_dir: Path
    nats: EmbeddedNats | None

    def sql(self, service: str, query: str, *params: object) -> list[tuple[Any, ...]]:
        """Read a service's database as the administrator (row-level security does not apply)."""
        url = urlparse(self.infra.admin_url)._replace(path=f"/{self.platform.db_prefix}_{service}")
        with psycopg.connect(urlunparse(url), autocommit=True) as conn:
            cursor = conn.execute(query, params)  # type: ignore[arg-type]
            return cursor.fetchall() if cursor.description is not None else []

    def stop(self) -> None:
        self.platform.stop()
        if self.nats is not None:
            self.nats.stop()

    def url(self, service: str) -> str:
        return self.platform.url(service)

    def token(
        self,
        tenant: str,
        *roles: str,
        orgs: list[str] | None = None,
        subject: str | None = None,
        ttl_seconds: int = 3600,
    ) -> str:
        return issue_dev_token(
            self.data_dir / "dev-signing-key.pem",
            tenant=tenant,
            roles=list(roles),
            orgs=orgs,
            subject=subject or f"user-{uuid.uuid4().hex[:6]}",
            ttl_seconds=ttl_seconds,
        )

    def auth(self, tenant: str, *roles: str, orgs: list[str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(tenant, *roles, orgs=orgs)}"}


def start_platform(
    infra: Infra,
    data_dir: Path,
    *,
    extra_env: dict[str, str] | None = None,
    services: tuple[str, ...] = SERVICES,
    console: bool = False,
    service_extra_env: dict[str, dict[str, str]] | None = None,
    console_port: int | None = None,
) -> Running:
    data_dir.mkdir(parents=True, exist_ok=True)
    _, public_key = ensure_dev_keypair(data_dir)
    nats = None
    if not infra.nats_url:
        nats = EmbeddedNats(
            data_dir / "nats", port=free_port(), config_file=REPO_ROOT / "deploy" / "nats" / "nats.conf"
        )
        nats.start()
    nats_url = infra.nats_url or (nats.url if nats else "")
    env = {"TEST_CLOCK": "true", "TEST_CLOCK_SHIFT_SECONDS": repr(_CLOCK_SHIFT), **(extra_env or {})}
    platform = Platform(
        admin_url=infra.admin_url,
        nats_url=nats_url,
        data_dir=data_dir,
        host="127.0.0.1",
        ports={s: free_port() for s in ALL_SERVICES},
        public_key=public_key,
        db_prefix=f"lx{uuid.uuid4().hex[:8]}",
        services=services,
        extra_env=env,
        console_port=(console_port or free_port()) if console else None,
        service_extra_env=service_extra_env,
    )
    running = Running(platform, infra, data_dir, nats)
    try:
        platform.start()
    except BaseException:
        running.stop()
        raise
    return running


@pytest.fixture(scope="session")
def running(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """The whole platform with the console, shared by the tests that do not break it."""
    running = start_platform(
        infra, tmp_path_factory.mktemp("platform"), console=set(SERVICES) == set(ALL_SERVICES)
    )
    try:
        yield running
    finally:
        running.stop()


# The console's Chromium fixture, for every browser test of this folder (imported last: it reads Running from here).
from tests.integration.console_browser import browser  # noqa: E402, F401
