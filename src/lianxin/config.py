"""Where the embedded platform keeps its data, which ports it takes, and the environment each service gets."""

from __future__ import annotations

import json
import os
import secrets
from base64 import b64encode
from dataclasses import dataclass
from pathlib import Path

from shared.audit import new_signing_key
from shared.auth import ensure_dev_keypair
from shared.settings import REPO_ROOT

SERVICES = ("registry", "transfer", "learning", "notify", "analytics")
DEFAULT_PORTS = {"registry": 8101, "transfer": 8102, "learning": 8103, "notify": 8104, "analytics": 8105}
# Services without a PostgreSQL database of their own (analytics keeps a DuckDB file under the data folder).
WITHOUT_DATABASE = frozenset({"analytics"})
CONSOLE_PORT = 8100  # the web console: a backend-for-frontend over the four services, no database of its own


@dataclass(frozen=True)
class DevConfig:
    data_dir: Path
    host: str
    pg_port: int
    nats_port: int
    service_ports: dict[str, int]
    console_port: int = CONSOLE_PORT

    @classmethod
    def from_env(cls) -> DevConfig:
        data_dir = Path(os.environ.get("LIANXIN_DATA_DIR", REPO_ROOT / ".lianxin")).resolve()
        return cls(
            data_dir=data_dir,
            host=os.environ.get("LIANXIN_HOST", "127.0.0.1"),
            pg_port=int(os.environ.get("LIANXIN_PG_PORT", "15432")),
            nats_port=int(os.environ.get("LIANXIN_NATS_PORT", "14222")),
            service_ports={
                s: int(os.environ.get(f"{s.upper()}_PORT", str(p))) for s, p in DEFAULT_PORTS.items()
            },
            console_port=int(os.environ.get("CONSOLE_PORT", str(CONSOLE_PORT))),
        )

    def url(self, service: str) -> str:
        port = self.console_port if service == "console" else self.service_ports[service]
        return f"http://{self.host}:{port}"

    @property
    def signing_key(self) -> Path:
        return ensure_dev_keypair(self.data_dir)[0]

    @property
    def public_key(self) -> Path:
        return ensure_dev_keypair(self.data_dir)[1]


def dev_secrets(data_dir: Path) -> dict[str, str]:
    """Generated once per data folder, so events encrypted yesterday still decrypt today."""
    path = data_dir / "secrets.json"
    values: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    wanted = {
        "cipher_key": lambda: b64encode(os.urandom(32)).decode(),
        "platform_secret": lambda: secrets.token_urlsafe(32),
        "session_secret": lambda: secrets.token_urlsafe(32),  # the console's session cookies
        # One Ed25519 key per service signs its audit checkpoints (added to older data folders too).
        **{f"audit_signing_key_{s}": new_signing_key for s in SERVICES},
    }
    missing = {name: make() for name, make in wanted.items() if name not in values}
    if missing:
        data_dir.mkdir(parents=True, exist_ok=True)
        values.update(missing)
        path.write_text(json.dumps(values))
        path.chmod(0o600)
    return values


def service_env(
    service: str,
    *,
    app_url: str,
    owner_url: str,
    nats_url: str,
    host: str,
    port: int,
    data_dir: Path,
    public_key: Path,
) -> dict[str, str]:
    values = dev_secrets(data_dir)
    return {
        "LIANXIN_ENV": "development",
        "HOST": host,
        "PORT": str(port),
        "DATABASE_URL": app_url,
        "DATABASE_OWNER_URL": owner_url,
        "NATS_URL": nats_url,
        "CIPHER_KEY": values["cipher_key"],
        "PLATFORM_SECRET": values["platform_secret"],
        "AUDIT_SIGNING_KEY": values[f"audit_signing_key_{service}"],
        "AUTH_PUBLIC_KEY_FILE": str(public_key),
        "AUTH_ISSUER": "lianxin-dev",
        "AUTH_AUDIENCE": "lianxin",
        # LIANXIN_TEST_CLOCK=true lets a demo move time (POST /_test/clock/advance); production refuses it.
        "TEST_CLOCK": os.environ.get("LIANXIN_TEST_CLOCK", "false"),
        **(analytics_env(data_dir) if service == "analytics" else {}),
    }


def console_env(*, host: str, port: int, data_dir: Path, urls: dict[str, str]) -> dict[str, str]:
    """The console's environment: the services' URLs, its session key, and the development sign-in key."""
    values = dev_secrets(data_dir)
    return {
        "LIANXIN_ENV": "development",
        "HOST": host,
        "CONSOLE_PORT": str(port),
        "SESSION_SECRET": values["session_secret"],
        "DEV_SIGNING_KEY_FILE": str(ensure_dev_keypair(data_dir)[0]),
        **{f"{name.upper()}_URL": url for name, url in urls.items()},
    }


def analytics_env(data_dir: Path) -> dict[str, str]:
    return {
        "ANALYTICS_DATABASE": str(analytics_database(data_dir)),
        "ANALYTICS_EXPORT_DIR": str(data_dir / "analytics" / "export"),
    }


def analytics_database(data_dir: Path) -> Path:
    return data_dir / "analytics" / "analytics.duckdb"
