"""docker-compose.yml as the one source of the services' production settings.

`lianxin prod-check` runs each service with the environment the compose file gives it, resolved the way compose
resolves it (`${VAR:-default}`, `${VAR:?error}`, ...), and changes only the addresses of the topology: where
PostgreSQL, NATS, the registry and the mail relay are, the port, and three JetStream replicas instead of one.
tests/integration/test_compose_file.py checks both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from shared.settings import REPO_ROOT

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
# What a topology decides; every other variable comes from the compose file unchanged.
TOPOLOGY = frozenset(
    {
        "HOST",
        "PORT",
        "DATABASE_URL",
        "DATABASE_OWNER_URL",
        "NATS_URL",
        "JETSTREAM_REPLICAS",
        "JETSTREAM_CONFIG",
        "REGISTRY_URL",
        "SMTP_HOST",
        "SMTP_PORT",
    }
)

_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


class MissingVariable(Exception):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """`${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`, `${VAR:+alt}`, `$$`."""

    def substitute(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["bare"]
        op, arg = match["op"], match["arg"] or ""
        present, non_empty = name in env, bool(env.get(name))
        if op == ":-":
            return env[name] if non_empty else arg
        if op == "-":
            return env[name] if present else arg
        if (op == ":?" and not non_empty) or (op == "?" and not present):
            raise MissingVariable(name, arg)
        if op == ":+":
            return arg if non_empty else ""
        if op == "+":
            return arg if present else ""
        return env.get(name, "")

    return _VARIABLE.sub(substitute, value)


def load_compose(path: Path = COMPOSE_FILE) -> dict[str, Any]:
    # safe_load resolves the anchors and `<<` merge keys, as compose does.
    document: dict[str, Any] = yaml.safe_load(path.read_text())
    return document


def resolved_environment(service: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, str]:
    return {key: interpolate(str(value), env) for key, value in service["environment"].items()}


def service_environment(
    service: str,
    operator_env: Mapping[str, str],
    topology: Mapping[str, str],
    compose: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """The compose file's environment for `service`, with the operator's variables and this topology's addresses."""
    unknown = set(topology) - TOPOLOGY
    if unknown:
        raise ValueError(f"not a topology setting: {sorted(unknown)}")
    compose = compose or load_compose()
    return {**resolved_environment(compose["services"][service], operator_env), **topology}
