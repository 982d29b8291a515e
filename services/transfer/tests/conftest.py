"""The transfer unit tests' fixtures: an in-memory application on a settable clock."""

from __future__ import annotations

import pytest

from shared.clock import SettableClock
from transfer.application import TransferApplication


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock()


@pytest.fixture
def app(clock: SettableClock) -> TransferApplication:
    return TransferApplication({"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock)
