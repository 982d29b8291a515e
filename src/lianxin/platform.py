"""The services as child processes over one PostgreSQL and one NATS: used by `lianxin dev` and the tests."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import httpx

from lianxin.config import SERVICES, WITHOUT_DATABASE, console_env, service_env
from shared.dbsetup import provision

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Linux: a child gets SIGTERM when `lianxin dev` dies, even by SIGKILL, so nothing is orphaned."""
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class ServiceProcess:
    def __init__(self, name: str, env: dict[str, str], log_path: Path, base_url: str) -> None:
        self.name = name
        self.env = env
        self.log_path = log_path
        self.base_url = base_url
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.name],
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        log.close()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if not self.alive:
                raise RuntimeError(
                    f"{self.name} exited while starting; see {self.log_path}:\n{self.log_tail()}"
                )
            try:
                response = httpx.get(f"{self.base_url}/readyz", timeout=2)
                if response.status_code == 200:
                    return
                last = response.text
            except httpx.HTTPError as exc:
                last = repr(exc)
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} not ready after {timeout}s ({last}); see {self.log_path}")

    def stop(self, timeout: float = 15) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        """SIGKILL: the crash a fault test wants."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


class Platform:
    def __init__(
        self,
        *,
        admin_url: str,
        nats_url: str,
        data_dir: Path,
        host: str,
        ports: dict[str, int],
        public_key: Path,
        db_prefix: str = "lianxin",
        services: Iterable[str] = SERVICES,
        extra_env: dict[str, str] | None = None,
        console_port: int | None = None,
        service_extra_env: dict[str, dict[str, str]] | None = None,
    ) -> None:
        self.admin_url = admin_url
        self.nats_url = nats_url
        self.data_dir = data_dir
        self.host = host
        self.ports = dict(ports)
        if console_port is not None:
            self.ports["console"] = console_port
        self.public_key = public_key
        self.db_prefix = db_prefix
        self.names = tuple(services)
        self.extra_env = extra_env or {}
        self.service_extra_env = service_extra_env or {}  # e.g. each service's own OAuth2 client
        self.services: dict[str, ServiceProcess] = {}

    def provision(self) -> None:
        databases = provision(
            self.admin_url,
            prefix=self.db_prefix,
            services=tuple(n for n in self.names if n not in WITHOUT_DATABASE),
        )
        for name in self.names:
            database = databases.get(name)
            env = service_env(
                name,
                app_url=database.app_url if database else "",
                owner_url=database.owner_url if database else "",
                nats_url=self.nats_url,
                host=self.host,
                port=self.ports[name],
                data_dir=self.data_dir,
                public_key=self.public_key,
            )
            env["REGISTRY_URL"] = self.url(
                "registry"
            )  # services ask the registry for personal data over HTTP
            if name == "transfer" and "console" in self.ports:
                env["PUBLIC_BASE_URL"] = self.url(
                    "console"
                )  # a letter's QR code opens the console's human page
            env = {**env, **self.extra_env, **self.service_extra_env.get(name, {})}
            self.services[name] = ServiceProcess(
                name, env, self.data_dir / "logs" / f"{name}.log", self.url(name)
            )
        if "console" in self.ports:
            env = console_env(
                host=self.host,
                port=self.ports["console"],
                data_dir=self.data_dir,
                urls={name: self.url(name) for name in SERVICES if name in self.ports},
            )
            # Under test the services run on a shifted clock; the console's "today" follows it.
            env.update({k: v for k, v in self.extra_env.items() if k == "TEST_CLOCK_SHIFT_SECONDS"})
            env.update(self.service_extra_env.get("console", {}))  # e.g. its OpenID provider
            self.services["console"] = ServiceProcess(
                "console", env, self.data_dir / "logs" / "console.log", self.url("console")
            )

    def url(self, name: str) -> str:
        return f"http://{self.host}:{self.ports[name]}"

    def start(self, timeout: float = 90) -> None:
        if not self.services:
            self.provision()
        for service in self.services.values():
            service.start()
        for service in self.services.values():
            service.wait_ready(timeout)

    def stop(self) -> None:
        for service in self.services.values():
            if service.process is not None and service.process.poll() is None:
                service.process.send_signal(signal.SIGTERM)
        for service in self.services.values():
            service.stop()
