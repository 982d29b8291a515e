"""Root conftest: import the real `shared` package first, so pytest's importlib mode never shadows it with
the `shared/` folder when it names the modules of shared/tests.

`LIANXIN_TRAVEL=<ISO instant with offset>` moves the machine's wall clock for the whole run, collection included
(time-machine, ticking), so `make test-timeshift` shows that no test reads the machine's date."""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import datetime
from typing import Any

import pytest

import shared  # noqa: F401

_TRAVEL = os.environ.get("LIANXIN_TRAVEL", "").strip()
_traveller: Any = None
_own_temproot: str | None = None


def _separate_temproot() -> None:
    """Each run keeps its temporary folders in a root of its own. pytest makes /tmp/pytest-of-<user> private
    (0700) whenever a run starts, and the embedded PostgreSQL runs as another user that must reach its data
    under it: a second pytest starting on the same machine would cut off the first run's database."""
    global _own_temproot
    if os.environ.get("PYTEST_DEBUG_TEMPROOT"):
        return
    _own_temproot = tempfile.mkdtemp(prefix="lianxin-pytest-")
    os.environ["PYTEST_DEBUG_TEMPROOT"] = _own_temproot


def pytest_configure(config: pytest.Config) -> None:
    global _traveller
    _separate_temproot()
    if not _TRAVEL:
        return
    import time_machine

    destination = datetime.fromisoformat(_TRAVEL)
    if destination.tzinfo is None:
        raise pytest.UsageError("LIANXIN_TRAVEL needs an offset, e.g. 2028-02-29T00:30:00+08:00")
    _traveller = time_machine.travel(destination, tick=True)
    _traveller.start()


def pytest_unconfigure(config: pytest.Config) -> None:
    if _traveller is not None:
        _traveller.stop()
    if _own_temproot is not None and not os.environ.get("LIANXIN_KEEP_TEST_TMP"):
        shutil.rmtree(_own_temproot, ignore_errors=True)


def pytest_report_header(config: pytest.Config) -> str | None:
    return f"machine clock travelled to {_TRAVEL}" if _TRAVEL else None
