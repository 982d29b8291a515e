"""docker-compose.yml, validated without a Docker engine: services and profiles, pinned images, health checks,
the environment every service reads (resolved the way compose resolves it, then loaded by the service's own
settings class), the mounted configs, the image, and deploy/postgres/init.sh against shared.dbsetup.

A pure file test: no PostgreSQL, NATS or Docker needed (the one `docker compose config` check skips without
the compose plugin)."""

from __future__ import annotations

import ast
import importlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from lianxin.composeenv import MissingVariable, resolved_environment
from shared import dbsetup
from shared.auth import ROLES
from shared.settings import BaseServiceSettings

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {"registry": 8101, "transfer": 8102, "learning": 8103, "notify": 8104}
INFRA = ("postgres", "nats")
OBSERVABILITY = {"otel-collector", "jaeger", "prometheus"}

# What an operator exports before `docker compose up` (see deploy/README.md): realistic, not placeholders,
# because production settings refuse placeholders.
OPERATOR_ENV = {
    "POSTGRES_PASSWORD": "pg-superuser-4d8b1f",
    "LIANXIN_DB_PASSWORD": "lianxin-db-9c2e71",
    "CIPHER_KEY": "q83vEXAMPLEkeyq83vEXAMPLEkeyq83vEXAMPLEkey0=",
    "PLATFORM_SECRET": "c0a1f3b6d9e24e0f8b7a5c3d1e2f4a6b",
    "AUTH_ISSUER": "https://sso.example.org/realms/party",
    "AUTH_JWKS_URL": "https://sso.example.org/realms/party/protocol/openid-connect/certs",
    "PUBLIC_BASE_URL": "https://letters.example.org",
    "REGISTRY_AUDIT_SIGNING_KEY": "Y2hlY2twb2ludC1zaWduaW5nLWtleS1yZWdpc3RyeSE=",
    "TRANSFER_AUDIT_SIGNING_KEY": "Y2hlY2twb2ludC1zaWduaW5nLWtleS10cmFuc2ZlciE=",
    "LEARNING_AUDIT_SIGNING_KEY": "Y2hlY2twb2ludC1zaWduaW5nLWtleS1sZWFybmluZyE=",
    "NOTIFY_AUDIT_SIGNING_KEY": "Y2hlY2twb2ludC1zaWduaW5nLWtleS1ub3RpZnkhISE=",
    "TRANSFER_CLIENT_SECRET": "transfer-client-5f0c2a9e7b",
    "NOTIFY_CLIENT_SECRET": "notify-client-8d1e4b6c3a",
}
# The idp profile's own (Keycloak).
IDP_ENV = {
    "KEYCLOAK_HOSTNAME": "https://sso.example.org",
    "KEYCLOAK_ADMIN_PASSWORD": "kc-admin-71b3e9",
    "KEYCLOAK_DB_PASSWORD": "kc-db-2a6f0d",
    "LIANXIN_CONSOLE_URL": "https://console.example.org",
    "LIANXIN_DEMO_PASSWORD": "demo-first-login-4c2f9e",
}
# Read from the environment outside the settings classes (shared/messaging.py, shared/failpoints.py).
READ_OUTSIDE_SETTINGS = {"JETSTREAM_REPLICAS", "LIANXIN_FAILPOINTS"}


# ---- fixtures and helpers --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    # safe_load resolves the anchors and `<<` merge keys, as compose does.
    document: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return document


def settings_class(service: str) -> type[BaseServiceSettings]:
    cls = getattr(importlib.import_module(f"{service}.settings"), f"{service.capitalize()}Settings")
    assert issubclass(cls, BaseServiceSettings)
    return cls  # type: ignore[no-any-return]


def required_variables(cls: type[BaseServiceSettings]) -> set[str]:
    """Fields without a default: the process refuses to start unless the environment names them."""
    return {name.upper() for name, field in cls.model_fields.items() if field.is_required()}


def healthcheck_command(service: dict[str, Any]) -> str:
    test = service["healthcheck"]["test"]
    return " ".join(test) if isinstance(test, list) else str(test)


def host_mounts(service: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Bind mounts from the repository: container path -> (repository path, mode)."""
    mounts = {}
    for volume in service.get("volumes", []):
        source, target, *mode = volume.split(":")
        if source.startswith("./"):
            mounts[target] = (source, mode[0] if mode else "rw")
    return mounts


# ---- services, profiles, images, health ------------------------------------------------------------------------


def test_the_platform_services_profiles_and_volumes_exist(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {*INFRA, *SERVICES} <= set(services)
    for name in (*INFRA, *SERVICES):
        assert not services[name].get("profiles"), f"{name} must start without a profile"
    profiled = {n: set(s.get("profiles", [])) for n, s in services.items()}
    assert {n for n, p in profiled.items() if "observability" in p} == OBSERVABILITY
    assert [n for n, p in profiled.items() if "dev" in p] == ["mailpit"]
    assert [n for n, p in profiled.items() if "idp" in p] == ["keycloak"]
    assert "1025:1025" in services["mailpit"]["ports"] and "8025:8025" in services["mailpit"]["ports"]

    declared = set(compose["volumes"])
    named = {
        v.split(":")[0]
        for s in services.values()
        for v in s.get("volumes", [])
        if not v.startswith((".", "/"))
    }
    assert named <= declared, f"named volumes used but not declared: {named - declared}"
    assert any(
        v.endswith(":/var/lib/postgresql/data") and v.split(":")[0] in declared
        for v in services["postgres"]["volumes"]
    ), "PostgreSQL data must live on a named volume"
    assert any(v.split(":")[0] in declared for v in services["nats"]["volumes"]), (
        "NATS data needs a named volume"
    )


def test_every_image_is_pinned_and_the_servers_are_recent_enough(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        image = service.get("image", "")
        tag = image.rpartition(":")[2] if ":" in image.rpartition("/")[2] else ""
        assert tag and tag != "latest" and re.search(r"\d", tag), f"{name}: image {image!r} is not pinned"
    postgres_tag = compose["services"]["postgres"]["image"].split(":")[1]
    assert int(postgres_tag.split(".")[0]) == 17, "PostgreSQL 17"
    nats_tag = compose["services"]["nats"]["image"].split(":")[1]
    nats_version = tuple(int(p) for p in re.findall(r"\d+", nats_tag)[:3])
    assert nats_version >= (2, 12, 3), "NATS 2.12.3+ (the JetStream fixes after the Jepsen analysis)"


def test_every_service_has_a_health_check_and_waits_for_healthy_dependencies(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
        for dependency, condition in (service.get("depends_on") or {}).items():
            assert dependency in services, f"{name} depends on an unknown service {dependency}"
            assert condition == {"condition": "service_healthy"}, f"{name} must wait for {dependency} healthy"
    for name in SERVICES:
        assert set(services[name]["depends_on"]) == set(INFRA), f"{name} must wait for PostgreSQL and NATS"
        probe = healthcheck_command(services[name])
        assert "/readyz" in probe and "python" in probe, f"{name}: probe readiness with the image's Python"
    # Over TCP: during initialisation the entrypoint's temporary server listens on the unix socket only.
    postgres_probe = services["postgres"]["healthcheck"]["test"]
    assert "pg_isready" in postgres_probe and "-h" in postgres_probe
    nats_probe = healthcheck_command(services["nats"])
    assert "8222" in nats_probe and "/healthz?js-enabled-only=true" in nats_probe


def test_the_readiness_probe_is_valid_python(compose: dict[str, Any]) -> None:
    for name in SERVICES:
        test = compose["services"][name]["healthcheck"]["test"]
        assert test[:3] == ["CMD", "python", "-c"], f"{name}: exec form, no shell in the way"
        code = test[3]
        compile(code, f"<{name} healthcheck>", "exec")
        assert "$" not in code, "compose would interpolate a $ in the probe"


def test_the_app_services_run_from_the_one_image_on_their_ports(compose: dict[str, Any]) -> None:
    services = compose["services"]
    images = {services[name]["image"] for name in SERVICES}
    assert len(images) == 1, f"one image for the four services, got {images}"
    for name, port in SERVICES.items():
        service = services[name]
        assert service["build"] in (".", {"context": "."}), f"{name} builds from the repository's Dockerfile"
        assert service["command"] == ["python", "-m", name]
        assert f"{port}:{port}" in service["ports"], f"{name} must publish {port}"
        assert service["environment"]["PORT"] == str(port)


# ---- environment -----------------------------------------------------------------------------------------------


def test_the_settings_classes_have_required_fields_to_check() -> None:
    # Guards the derivation below: if it found nothing, the environment test would pass vacuously.
    base = required_variables(BaseServiceSettings)
    assert base, "BaseServiceSettings has no required field: the derivation is broken"
    for service in SERVICES:
        assert base <= required_variables(settings_class(service))


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_variable_a_service_requires_is_set(
    compose: dict[str, Any], service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cls = settings_class(service)
    declared = compose["services"][service]["environment"]
    required = required_variables(BaseServiceSettings) | required_variables(cls)
    missing = {name for name in required if not str(declared.get(name) or "").strip()}
    assert not missing, f"{service} requires {sorted(missing)} but compose does not set them"

    # Resolved as compose resolves it for an operator, then loaded by the service's own settings class: this
    # also checks what production requires beyond the fields (AUTH_JWKS_URL, no placeholder secrets), types
    # and ranges.
    environment = resolved_environment(compose["services"][service], OPERATOR_ENV)
    for name in {n.upper() for n in cls.model_fields} | set(environment):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings = cls()
    assert settings.lianxin_env == "production"
    assert settings.service_name == service
    assert settings.port == SERVICES[service]
    assert settings.host == "0.0.0.0", "a container must listen beyond its loopback"
    assert settings.auth_jwks_url == OPERATOR_ENV["AUTH_JWKS_URL"]
    assert settings.database_url.startswith(f"postgresql://{dbsetup_role('app', service)}:")
    assert settings.database_url.endswith(f"@postgres:5432/{dbsetup_database(service)}")
    assert settings.owner_url.startswith(f"postgresql://{dbsetup_role('owner', service)}:")
    assert settings.owner_url.endswith(f"@postgres:5432/{dbsetup_database(service)}")
    assert OPERATOR_ENV["LIANXIN_DB_PASSWORD"] in settings.database_url
    assert settings.otel_exporter_otlp_endpoint == "", "no trace export unless the operator asks for it"
    assert str(settings.jetstream_config) == "/app/deploy/nats/jetstream.json"
    assert settings.nats_url == "nats://nats:4222"


def test_the_secrets_are_required_never_defaulted(compose: dict[str, Any]) -> None:
    for service in SERVICES:
        environment = compose["services"][service]["environment"]
        assert environment["LIANXIN_ENV"] == "${LIANXIN_ENV:-production}"
        assert environment["OTEL_EXPORTER_OTLP_ENDPOINT"] == "${OTEL_EXPORTER_OTLP_ENDPOINT:-}"
        for secret in ("CIPHER_KEY", "PLATFORM_SECRET", "AUTH_JWKS_URL"):
            assert re.fullmatch(rf"\$\{{{secret}:\?[^}}]+\}}", environment[secret]), (
                f"{secret} must be required"
            )
        # Each required secret really stops compose when it is missing.
        for secret in ("CIPHER_KEY", "PLATFORM_SECRET", "AUTH_JWKS_URL", "LIANXIN_DB_PASSWORD"):
            without = {k: v for k, v in OPERATOR_ENV.items() if k != secret}
            with pytest.raises(MissingVariable) as refused:
                resolved_environment(compose["services"][service], without)
            assert refused.value.name == secret


def test_every_variable_compose_sets_is_read_by_a_service(compose: dict[str, Any]) -> None:
    # Catches a misspelt name, which pydantic-settings would silently ignore (extra="ignore").
    known = READ_OUTSIDE_SETTINGS | {
        name.upper() for s in SERVICES for name in settings_class(s).model_fields
    }
    for service in SERVICES:
        unknown = set(compose["services"][service]["environment"]) - known
        assert not unknown, f"{service} sets {sorted(unknown)}, which no service reads"


def test_every_operator_variable_is_documented(compose: dict[str, Any]) -> None:
    readme = (ROOT / "deploy/README.md").read_text()
    referenced = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", (ROOT / "docker-compose.yml").read_text()))
    assert set(OPERATOR_ENV) | set(IDP_ENV) <= referenced
    undocumented = {name for name in referenced if f"`{name}`" not in readme}
    assert not undocumented, f"deploy/README.md does not explain {sorted(undocumented)}"


# ---- mounted configs -----------------------------------------------------------------------------------------


def test_mounted_configs_exist_in_the_repository(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for target, (source, _mode) in host_mounts(service).items():
            assert (ROOT / source).is_file(), f"{name} mounts {source} at {target}, which is missing"


def test_nats_runs_jetstream_with_the_repository_config_read_only(compose: dict[str, Any]) -> None:
    nats = compose["services"]["nats"]
    command = nats["command"]
    command = command if isinstance(command, list) else command.split()
    assert "-js" in command or "--jetstream" in command
    config_path = command[command.index("-c") + 1]
    assert host_mounts(nats).get(config_path) == ("./deploy/nats/nats.conf", "ro"), (
        "mount nats.conf read-only"
    )
    store = command[command.index("-sd") + 1]
    assert any(v.split(":")[1] == store and v.split(":")[0] in compose["volumes"] for v in nats["volumes"]), (
        "the JetStream store directory must be a named volume"
    )
    assert command[command.index("-m") + 1] == "8222"
    assert re.search(r"sync_interval\s*:\s*always", (ROOT / "deploy/nats/nats.conf").read_text())


def test_the_observability_configs_wire_traces_and_metrics(compose: dict[str, Any]) -> None:
    services = compose["services"]
    collector_config = {t: s for t, (s, _) in host_mounts(services["otel-collector"]).items()}
    collector = yaml.safe_load((ROOT / next(iter(collector_config.values()))).read_text())
    assert collector["receivers"]["otlp"]["protocols"]["http"]["endpoint"].endswith(":4318")
    traces = collector["service"]["pipelines"]["traces"]
    assert "otlp" in traces["receivers"]
    assert any(collector["exporters"][e]["endpoint"].startswith("jaeger:") for e in traces["exporters"])

    prometheus_config = {t: s for t, (s, _) in host_mounts(services["prometheus"]).items()}
    prometheus = yaml.safe_load((ROOT / prometheus_config["/etc/prometheus/prometheus.yml"]).read_text())
    scraped = {
        target
        for job in prometheus["scrape_configs"]
        if job.get("metrics_path", "/metrics") == "/metrics"
        for static in job["static_configs"]
        for target in static["targets"]
    }
    assert {f"{name}:{port}" for name, port in SERVICES.items()} <= scraped


# ---- PostgreSQL layout -----------------------------------------------------------------------------------------


def dbsetup_role(kind: str, service: str, prefix: str = "lianxin") -> str:
    return f"{prefix}_{service}_{kind}"


def dbsetup_database(service: str, prefix: str = "lianxin") -> str:
    return f"{prefix}_{service}"


def dbsetup_statements() -> list[str]:
    """The privilege statements provision() runs, read from its source (it needs a server to run)."""
    tree = ast.parse((ROOT / "shared/src/shared/dbsetup.py").read_text())
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.For)
            and isinstance(node.iter, ast.Tuple)
            and node.iter.elts
            and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.iter.elts)
        ):
            return [e.value for e in node.iter.elts]  # type: ignore[union-attr]
    raise AssertionError("provision() no longer lists its statements in a tuple; update this test")


def test_the_naming_helpers_match_dbsetup() -> None:
    source = (ROOT / "shared/src/shared/dbsetup.py").read_text()
    for naming in ('f"{prefix}_{service}_owner"', 'f"{prefix}_{service}_app"', 'f"{prefix}_{service}"'):
        assert naming in source, (
            f"dbsetup.py changed its naming ({naming}); update compose, init.sh and this test"
        )
    assert 'prefix: str = "lianxin"' in source


def test_the_init_script_creates_what_dbsetup_provisions(compose: dict[str, Any]) -> None:
    script = (ROOT / "deploy/postgres/init.sh").read_text()
    loop = re.search(r"^for svc in ([a-z ]+); do$", script, re.M)
    assert loop and tuple(loop.group(1).split()) == dbsetup.SERVICES
    for fragment in (
        'owner="lianxin_${svc}_owner"',
        'app="lianxin_${svc}_app"',
        'db="lianxin_${svc}"',
        "CREATE ROLE %I LOGIN PASSWORD %L",
        "CREATE DATABASE %I OWNER %I",
    ):
        assert fragment in script
    normalised = " ".join(script.split())
    statements = dbsetup_statements()
    assert len(statements) >= 5
    for statement in statements:
        expected = statement.format(db=':"db"', app=':"app"', owner=':"owner"')
        assert " ".join(expected.split()) + ";" in normalised, f"init.sh lacks: {expected}"

    postgres = compose["services"]["postgres"]
    mounts = host_mounts(postgres)
    init = [t for t, (s, _) in mounts.items() if s == "./deploy/postgres/init.sh"]
    assert init and init[0].startswith("/docker-entrypoint-initdb.d/") and init[0].endswith(".sh")
    assert "LIANXIN_DB_PASSWORD" in postgres["environment"] and "$LIANXIN_DB_PASSWORD" in script
    # Executable: the entrypoint runs it in its own shell instead of sourcing it into its own.
    assert os.access(ROOT / "deploy/postgres/init.sh", os.X_OK)


# ---- the image -------------------------------------------------------------------------------------------------


def test_the_image_is_pinned_locked_and_unprivileged() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    bases = re.findall(r"^FROM\s+(\S+)", dockerfile, re.M)
    assert bases and all(re.fullmatch(r"python:3\.12\.\d+-slim(-\w+)?", b) for b in bases), bases
    # Every third-party distribution comes from the image's lock, each checked against its hashes.
    assert re.search(r"^COPY requirements\.txt \./$", dockerfile, re.M)
    assert "uv pip sync --python /opt/venv/bin/python --require-hashes" in dockerfile
    assert "--no-deps --requirement requirements.in" in dockerfile
    for directory in ("shared", "services", "src", "deploy"):
        assert re.search(rf"^COPY {directory} {directory}$", dockerfile, re.M), (
            f"the image needs {directory}/"
        )
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.M)
    assert users and users[-1] not in ("root", "0"), "run as a non-root user"
    # psycopg without psycopg-binary loads the system libpq, which slim images lack.
    if not re.search(r"^psycopg-binary==", (ROOT / "requirements.txt").read_text(), re.M):
        assert "libpq5" in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    for private in (".lianxin", ".venv", ".git", ".env"):
        assert private in ignored, f".dockerignore must keep {private} out of the build context"


def test_docker_compose_accepts_the_file_where_the_compose_plugin_answers() -> None:
    docker = shutil.which("docker")
    # `docker compose config` is client-side: it needs the compose plugin, not a running engine.
    if (
        docker is None
        or subprocess.run([docker, "compose", "version"], capture_output=True, timeout=30).returncode != 0
    ):
        pytest.skip("no docker compose on this machine; the tests above validate the file")
    env = {**os.environ, **OPERATOR_ENV}
    env.update(IDP_ENV)
    result = subprocess.run(
        [
            docker,
            "compose",
            "-f",
            str(ROOT / "docker-compose.yml"),
            "--profile",
            "observability",
            "--profile",
            "dev",
            "--profile",
            "idp",
            "config",
            "-q",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


# ---- the idp profile: Keycloak and its realm ----------------------------------------------------------------


@pytest.fixture(scope="module")
def realm() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((ROOT / "deploy/keycloak/lianxin-realm.json").read_text())
    return document


def test_keycloak_imports_the_realm_at_start_with_every_placeholder_set(compose: dict[str, Any]) -> None:
    keycloak = compose["services"]["keycloak"]
    assert "--import-realm" in keycloak["command"]
    assert host_mounts(keycloak) == {
        "/opt/keycloak/data/import/lianxin-realm.json": ("./deploy/keycloak/lianxin-realm.json", "ro")
    }
    environment = resolved_environment(keycloak, {**OPERATOR_ENV, **IDP_ENV})
    text = (ROOT / "deploy/keycloak/lianxin-realm.json").read_text()
    placeholders = set(re.findall(r"\$\{([A-Z_]+)(:[^}]*)?\}", text))
    assert {name for name, _ in placeholders} >= {"TRANSFER_CLIENT_SECRET", "NOTIFY_CLIENT_SECRET"}
    for name, default in placeholders:
        assert default or environment.get(name), (
            f"the realm reads {name}, which compose does not give Keycloak"
        )
    # Keycloak's secrets are required, and its database is created by init.sh only when asked for.
    for secret in ("KEYCLOAK_ADMIN_PASSWORD", "KEYCLOAK_DB_PASSWORD", "LIANXIN_DEMO_PASSWORD"):
        with pytest.raises(MissingVariable):
            resolved_environment(
                keycloak, {k: v for k, v in {**OPERATOR_ENV, **IDP_ENV}.items() if k != secret}
            )
    script = (ROOT / "deploy/postgres/init.sh").read_text()
    assert (
        'if [ -n "${KEYCLOAK_DB_PASSWORD:-}" ]' in script
        and "CREATE DATABASE keycloak OWNER keycloak" in script
    )
    assert environment["KC_DB_URL"].endswith("/keycloak") and environment["KC_DB_USERNAME"] == "keycloak"


def test_the_realm_has_the_console_with_pkce_and_one_confidential_client_per_service(
    realm: dict[str, Any], compose: dict[str, Any]
) -> None:
    from lianxin.oidc import CONSOLE_CLIENT, SERVICE_CLIENTS
    from shared.oauth import SERVICE_SCOPES

    clients = {c["clientId"]: c for c in realm["clients"]}
    console = clients[CONSOLE_CLIENT]
    assert console["publicClient"] and console["standardFlowEnabled"]
    assert console["attributes"]["pkce.code.challenge.method"] == "S256"
    assert not console["implicitFlowEnabled"] and not console["directAccessGrantsEnabled"]
    assert "lianxin" in console["defaultClientScopes"]
    services = {client_id: scopes for client_id, scopes in SERVICE_CLIENTS.values()}
    for client_id, scopes in services.items():
        client = clients[client_id]
        assert not client["publicClient"] and client["serviceAccountsEnabled"]
        assert not client["standardFlowEnabled"] and not client["directAccessGrantsEnabled"]
        assert re.fullmatch(r"\$\{[A-Z]+_CLIENT_SECRET\}", client["secret"]), (
            "secrets come from the environment"
        )
        assert sorted(client["optionalClientScopes"]) == sorted(scopes), "only the scopes its reads need"
        account = next(u for u in realm["users"] if u.get("serviceAccountClientId") == client_id)
        assert account["realmRoles"] == ["service"]
    scopes = {s["name"]: s for s in realm["clientScopes"]}
    assert set(SERVICE_SCOPES) <= set(scopes)
    # The registry trusts exactly these clients with the service role.
    registry_env = resolved_environment(compose["services"]["registry"], OPERATOR_ENV)
    assert set(registry_env["AUTH_SERVICE_CLIENTS"].split(",")) == set(services)
    for service in ("transfer", "notify"):
        env = resolved_environment(compose["services"][service], OPERATOR_ENV)
        assert env["SERVICE_CLIENT_ID"] == SERVICE_CLIENTS[service][0]
        assert env["SERVICE_CLIENT_SECRET"] == OPERATOR_ENV[f"{service.upper()}_CLIENT_SECRET"]


def test_the_realm_puts_tenant_roles_and_orgs_in_the_access_token(realm: dict[str, Any]) -> None:
    scopes = {s["name"]: s for s in realm["clientScopes"]}
    mappers = {m["name"]: m for m in scopes["lianxin"]["protocolMappers"]}
    for claim in ("tenant", "roles", "orgs"):
        config = mappers[claim]["config"]
        assert config["claim.name"] == claim and config["access.token.claim"] == "true"
    assert mappers["roles"]["protocolMapper"] == "oidc-usermodel-realm-role-mapper"
    assert mappers["orgs"]["config"]["multivalued"] == "true"
    for scope in ("lianxin", "lianxin-service"):
        audience = next(
            m for m in scopes[scope]["protocolMappers"] if m["protocolMapper"] == "oidc-audience-mapper"
        )
        assert audience["config"]["included.custom.audience"].startswith("${AUTH_AUDIENCE")
    # Only an administrator sets a person's tenant and organisations.
    profile = json.loads(
        realm["components"]["org.keycloak.userprofile.UserProfileProvider"][0]["config"][
            "kc.user.profile.config"
        ][0]
    )
    for attribute in (a for a in profile["attributes"] if a["name"] in ("tenant", "orgs")):
        assert attribute["permissions"]["edit"] == ["admin"]
    assert {r["name"] for r in realm["roles"]["realm"]} == set(ROLES)


def test_the_realm_has_a_user_per_role_in_each_demo_tenant(realm: dict[str, Any]) -> None:
    people = [u for u in realm["users"] if "serviceAccountClientId" not in u]
    for tenant in ("demo-university", "demo-district"):
        roles = {r for u in people if u["attributes"]["tenant"] == [tenant] for r in u["realmRoles"]}
        assert roles == {"member", "branch_secretary", "committee", "auditor", "tenant_admin"}
    for user in people:
        (credential,) = user["credentials"]
        assert credential["value"] == "${LIANXIN_DEMO_PASSWORD}" and credential["temporary"] is True


# ---- the console -----------------------------------------------------------------------------------------------


def test_the_console_runs_from_the_one_image_after_the_services_and_keeps_its_secret(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from console.settings import ConsoleSettings

    services = compose["services"]
    console = services["console"]
    assert not console.get("profiles"), "the console starts without a profile"
    assert console["image"] == services["registry"]["image"] and console["command"] == [
        "python",
        "-m",
        "console",
    ]
    assert "8100:8100" in console["ports"] and console["healthcheck"]["test"][0] == "CMD"
    assert {name: c["condition"] for name, c in console["depends_on"].items()} == {
        name: "service_healthy" for name in SERVICES
    }, "the console waits for the four services, not the databases"
    environment = console["environment"]
    assert re.fullmatch(r"\$\{SESSION_SECRET:\?[^}]+\}", environment["SESSION_SECRET"])
    assert "DATABASE_URL" not in environment, "the console reads no database"
    unknown = set(environment) - {name.upper() for name in ConsoleSettings.model_fields} - {"PORT"}
    assert not unknown, f"the console sets {sorted(unknown)}, which it does not read"

    operator = {**OPERATOR_ENV, "SESSION_SECRET": "console-session-7f3a9c2e1b"}
    with pytest.raises(MissingVariable):
        resolved_environment(console, OPERATOR_ENV)
    resolved = resolved_environment(console, operator)
    for name in {n.upper() for n in ConsoleSettings.model_fields} | set(resolved) | {"CONSOLE_PORT"}:
        monkeypatch.delenv(name, raising=False)
    for name, value in resolved.items():
        monkeypatch.setenv(name, value)
    settings = ConsoleSettings()
    assert settings.lianxin_env == "production" and settings.port == 8100 and settings.host == "0.0.0.0"
    assert settings.secure_cookies and not settings.dev_sign_in
    assert {settings.registry_url, settings.transfer_url, settings.learning_url, settings.notify_url} == {
        f"http://{name}:{port}" for name, port in SERVICES.items()
    }
    assert settings.analytics_url == "http://analytics:8105", "the desk's charts read analytics"


# ---- analytics: no database of its own, a DuckDB file on a named volume ----------------------------------------


def test_analytics_runs_from_the_image_on_its_port_with_its_store_on_a_volume(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    services = compose["services"]
    analytics = services["analytics"]
    assert not analytics.get("profiles"), "analytics starts with the platform"
    assert analytics["image"] == services["registry"]["image"] and analytics["build"] in (
        ".",
        {"context": "."},
    )
    assert analytics["command"] == ["python", "-m", "analytics"]
    assert "8105:8105" in analytics["ports"] and analytics["environment"]["PORT"] == "8105"
    assert set(analytics["depends_on"]) == {"nats"}, "analytics needs NATS, not PostgreSQL"
    assert "/readyz" in healthcheck_command(analytics)
    mounts = {v.split(":")[1]: v.split(":")[0] for v in analytics["volumes"]}
    store = analytics["environment"]["ANALYTICS_DATABASE"]
    volume = next(target for target in mounts if store.startswith(target + "/"))
    assert mounts[volume] in compose["volumes"], "the DuckDB file must live on a named volume"
    assert "/var/lib/lianxin/analytics" in (ROOT / "Dockerfile").read_text(), (
        "the image creates it for its user"
    )

    cls = settings_class("analytics")
    environment = resolved_environment(analytics, OPERATOR_ENV)
    for name in {n.upper() for n in cls.model_fields} | set(environment):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings = cls()
    assert settings.lianxin_env == "production" and settings.service_name == "analytics"
    assert (settings.port, settings.host) == (8105, "0.0.0.0")
    assert str(settings.analytics_database) == store
    assert settings.auth_jwks_url == OPERATOR_ENV["AUTH_JWKS_URL"]
    assert settings.nats_url == "nats://nats:4222"

    prometheus = yaml.safe_load((ROOT / "deploy/observability/prometheus.yml").read_text())
    assert any(
        "analytics:8105" in s["targets"]
        for job in prometheus["scrape_configs"]
        for s in job["static_configs"]
    )
