"""`lianxin dev` as a new user runs it: up with the demo seeded, down on SIGTERM with nothing left behind,
data reused and the demo not duplicated on the next start, and a clear error for a port already taken."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import psycopg
import pytest

from shared.auth import issue_dev_token
from shared.devstack import free_port

pytestmark = pytest.mark.integration
SERVICES = ("registry", "transfer", "learning", "notify", "analytics")


def dev_env(data_dir: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "LIANXIN_DATA_DIR": str(data_dir),
        "LIANXIN_PG_PORT": str(free_port()),
        "LIANXIN_NATS_PORT": str(free_port()),
    }
    env.update({f"{s.upper()}_PORT": str(free_port()) for s in SERVICES})
    env["CONSOLE_PORT"] = str(free_port())
    for inherited in ("DATABASE_URL", "NATS_URL"):
        env.pop(inherited, None)
    return env


def start_dev(env: dict[str, str]) -> tuple[subprocess.Popen[str], list[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "lianxin.cli", "dev"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        if "Ctrl-C stops everything." in line:
            return process, lines
    process.kill()
    raise AssertionError("lianxin dev did not come up:\n" + "\n".join(lines))


def stop_dev(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 0, out
    return out


def leftovers(data_dir: Path) -> list[str]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if str(data_dir) in cmdline:
            found.append(cmdline)
    return found


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "lianxin-data"
    for proc in psutil.process_iter(["cmdline"]):  # never leave a server behind, even when a test fails
        if str(tmp_path) in " ".join(proc.info["cmdline"] or []):
            proc.kill()


def counts(env: dict[str, str]) -> tuple[int, int]:
    url = f"postgresql://postgres@127.0.0.1:{env['LIANXIN_PG_PORT']}/lianxin_registry"
    with psycopg.connect(url) as conn:
        orgs = conn.execute("SELECT count(*) FROM organisations").fetchone()
        members = conn.execute("SELECT count(*) FROM members").fetchone()
    assert orgs is not None and members is not None
    return int(orgs[0]), int(members[0])


def test_dev_runs_seeds_stops_cleanly_and_reuses_its_data(data_dir: Path) -> None:
    env = dev_env(data_dir)
    process, banner = start_dev(env)
    try:
        registry = f"http://127.0.0.1:{env['REGISTRY_PORT']}"
        assert any(registry in line for line in banner)
        assert any("make -s token" in line for line in banner)
        token = issue_dev_token(
            data_dir / "dev-signing-key.pem", tenant="demo-university", roles=["committee"]
        )
        orgs = httpx.get(f"{registry}/v1/organisations", headers={"Authorization": f"Bearer {token}"}).json()
        assert {o["code"] for o in orgs["items"]} == {
            "UNIV",
            "CS",
            "ECON",
            "CS-S1",
            "CS-G1",
            "ECON-S1",
            "ECON-T1",
        }
        for service in SERVICES:
            assert httpx.get(f"http://127.0.0.1:{env[f'{service.upper()}_PORT']}/readyz").status_code == 200
        console = f"http://127.0.0.1:{env['CONSOLE_PORT']}"
        assert any(console in line for line in banner), "the banner prints the console's address"
        sign_in = httpx.get(f"{console}/sign-in")
        assert sign_in.status_code == 200
        assert (
            "李明" in sign_in.text
            and "计算机学院本科生第一党支部" in sign_in.text
            and "东城社区党支部" in sign_in.text
        )
        first = counts(env)
    finally:
        out = stop_dev(process)
    assert "stopped" in out
    assert leftovers(data_dir) == []

    process, _ = start_dev(env)
    try:
        assert counts(env) == first == (11, 8)
    finally:
        stop_dev(process)
    assert leftovers(data_dir) == []


def test_a_port_already_taken_is_named_in_a_clear_error(data_dir: Path) -> None:
    env = dev_env(data_dir)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env["NOTIFY_PORT"] = str(taken.getsockname()[1])
        result = subprocess.run(
            [sys.executable, "-m", "lianxin.cli", "dev"], env=env, capture_output=True, text=True, timeout=60
        )
    assert result.returncode == 2
    assert env["NOTIFY_PORT"] in result.stderr and "NOTIFY_PORT" in result.stderr
