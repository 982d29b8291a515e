"""Chromium driven by Playwright for the console's browser tests: Debian's `chromium` (Playwright's own download is
unreachable here), one context per person, a screenshot of every page visited, axe-core on every page."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from shared.settings import REPO_ROOT
from tests.integration.conftest import Running

SCREENSHOTS = Path(os.environ.get("LIANXIN_SCREENSHOTS", REPO_ROOT / "screenshots"))
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
NARROW_PHONE = {"width": 360, "height": 740}
DESK = {"width": 1280, "height": 900}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str | None:
    for candidate in (
        os.environ.get("CHROMIUM"),
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module: each module imports this fixture, and two sync Playwrights alive at once
    would share the thread's event loop, so each one ends with its module."""
    path = chromium_path()
    if path is None:
        pytest.skip("no Chromium found: `make browser` installs Debian's chromium (CI has it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        try:
            yield instance
        finally:
            instance.close()


@dataclass
class Person:
    """One person's browser context on the console: visits save a screenshot and run axe-core."""

    page: Any
    console: str
    who: str
    folder: Path
    visited: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    def go(self, path: str) -> Any:
        self.page.goto(self.console + path)
        return self.page

    def shot(self, name: str) -> Path:
        """A screenshot of the page as it is, and axe-core's serious or critical violations on it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        target = (
            self.folder
            / f"{self.who}-{len(self.visited) + 1:02d}-{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
        )
        self.page.screenshot(path=str(target), full_page=True)
        self.visited.append(name)
        self.page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
        results = self.page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        for violation in results["violations"]:
            if violation["impact"] in ("serious", "critical"):
                nodes = "; ".join(n["target"][0] if n["target"] else "?" for n in violation["nodes"][:3])
                self.violations.append(f"{name}: {violation['id']} ({violation['impact']}) at {nodes}")
        return target

    def scrolls_sideways(self) -> bool:
        return bool(
            self.page.evaluate(
                "() => document.documentElement.scrollWidth > document.documentElement.clientWidth + 1"
            )
        )

    def submit(self, button: str) -> None:
        with self.page.expect_navigation():
            self.page.get_by_role("button", name=button, exact=True).first.click()


def sign_in(
    browser: Any,
    running: Running,
    *,
    tenant: str,
    person: str,
    role: str,
    who: str,
    viewport: dict[str, int],
    folder: Path,
) -> Person:
    """Open a context, sign in on the development page by the visible name of the person, land on their start."""
    # bypass_csp: axe-core is injected by the test; the console itself allows no inline script.
    context = browser.new_context(
        viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai", bypass_csp=True
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    me = Person(page, running.url("console"), who, folder)
    me.go(f"/sign-in?tenant={tenant}")
    me.shot("sign-in")
    with page.expect_navigation():
        page.locator("button.person").filter(has=page.locator(".who", has_text=person)).filter(
            has=page.locator(".role", has_text=role)
        ).first.click()
    return me


def run_folder(test_name: str) -> Path:
    """This test's screenshots, replaced on every run."""
    folder = SCREENSHOTS / test_name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
