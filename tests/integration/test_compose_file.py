"""docker-compose.yml, validated without a Docker engine: services, pinned images, health, the environment
every service reads, and the database layout of deploy/postgres/init.sh."""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {"registry": 8101, "transfer": 8102, "learning": 8103, "notify": 8104}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return document


def required_settings(service: str) -> set[str]:
    module = importlib.import_module(f"{service}.settings")
    settings_class = getattr(module, f"{service.capitalize()}Settings")
    return {name.upper() for name, field in settings_class.model_fields.items() if field.is_required()}


def test_the_platform_services_and_profiles_exist(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"postgres", "nats", *SERVICES} <= set(services)
    assert {n for n, s in services.items() if "observability" in s.get("profiles", [])} == {
        "otel-collector", "jaeger", "prometheus"}
    assert [n for n, s in services.items() if "dev" in s.get("profiles", [])] == ["mailpit"]
    assert {"postgres-data", "nats-data"} <= set(compose["volumes"])


def test_every_image_is_pinned_and_the_servers_are_recent_enough(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        image = service.get("image", "")
        tag = image.rpartition(":")[2] if ":" in image else ""
        assert tag and tag != "latest" and re.search(r"\d", tag), f"{name}: image {image!r} is not pinned"
    postgres_major = int(compose["services"]["postgres"]["image"].split(":")[1].split(".")[0])
    assert postgres_major == 17
    nats_version = tuple(int(p) for p in re.findall(r"\d+", compose["services"]["nats"]["image"].split(":")[1])[:3])
    assert nats_version >= (2, 12, 3), "JetStream needs 2.12.3+ (the Jepsen fixes)"


def test_every_service_has_a_health_check_and_waits_for_healthy_dependencies(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        assert "healthcheck" in service and service["healthcheck"]["test"], f"{name} has no health check"
    for name in SERVICES:
        depends = compose["services"][name]["depends_on"]
        assert depends == {"postgres": {"condition": "service_healthy"}, "nats": {"condition": "service_healthy"}}
        assert "/readyz" in " ".join(compose["services"][name]["healthcheck"]["test"])


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_variable_a_service_requires_is_set(compose: dict[str, Any], service: str) -> None:
    environment = compose["services"][service]["environment"]
    missing = required_settings(service) - set(environment)
    assert not missing, f"{service} reads {missing} but compose does not set them"
    assert environment["PORT"] == str(SERVICES[service])
    assert f"{SERVICES[service]}:{SERVICES[service]}" in compose["services"][service]["ports"]
    assert environment["DATABASE_URL"].startswith(f"postgresql://lianxin_{service}_app:")
    assert environment["DATABASE_OWNER_URL"].startswith(f"postgresql://lianxin_{service}_owner:")
    assert environment["DATABASE_URL"].endswith(f"/lianxin_{service}")
    # Production refuses local signing keys and placeholder secrets: compose must demand real ones.
    assert environment["LIANXIN_ENV"] == "${LIANXIN_ENV:-production}"
    for secret in ("CIPHER_KEY", "PLATFORM_SECRET", "AUTH_JWKS_URL"):
        assert ":?" in environment[secret], f"{secret} must be required, not defaulted"


def test_mounted_configs_exist_in_the_repository(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name} mounts {source}, which is missing"
    assert "sync_interval: always" in (ROOT / "deploy/nats/nats.conf").read_text()


def test_the_init_script_creates_what_dbsetup_provisions() -> None:
    script = (ROOT / "deploy/postgres/init.sh").read_text()
    assert "for svc in registry transfer learning notify" in script
    dbsetup = (ROOT / "shared/src/shared/dbsetup.py").read_text()
    for naming in ('f"{prefix}_{service}_owner"', 'f"{prefix}_{service}_app"', 'f"{prefix}_{service}"'):
        assert naming in dbsetup
    for fragment in ('owner="lianxin_${svc}_owner"', 'app="lianxin_${svc}_app"', 'db="lianxin_${svc}"',
                     "ALTER DEFAULT PRIVILEGES FOR ROLE", "REVOKE CREATE ON SCHEMA public FROM PUBLIC"):
        assert fragment in script


def test_the_image_runs_every_service_module() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.\d+\.\d+-slim", dockerfile, re.M), "pin the base image"
    assert "uv sync --frozen --no-dev --all-packages" in dockerfile and "USER lianxin" in dockerfile


def test_docker_compose_accepts_the_file_where_an_engine_answers() -> None:
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "info"], capture_output=True, timeout=10).returncode != 0:
        pytest.skip("no Docker engine answers on this machine; the file is validated by the tests above")
    env = {"CIPHER_KEY": "x", "PLATFORM_SECRET": "x", "AUTH_ISSUER": "x", "AUTH_JWKS_URL": "x",
           "POSTGRES_PASSWORD": "x", "LIANXIN_DB_PASSWORD": "x", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([docker, "compose", "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
