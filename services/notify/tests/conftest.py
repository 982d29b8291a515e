"""Notify unit-test fixtures: the application on in-memory persistence with a settable clock and a fake directory."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest

from notify.application import DeliveryPolicy, NotifyApplication
from shared.clock import SettableClock
from shared.envelope import CloudEvent


class FakeDirectory:
    def __init__(self) -> None:
        self.names: dict[UUID, str] = {}
        self.asked: list[tuple[str, UUID]] = []
        self.runs: list[tuple[str, list[UUID]]] = []  # the reads of a run's names: (tenant, ids)
        self.tenants: dict[
            UUID, str
        ] = {}  # a member listed only to this tenant's reads (default: every tenant)
        self.unlisted: set[UUID] = set()  # members the run's read leaves out (not on the roll yet)
        self.failing = False  # the run's read raises

    def member_name(self, tenant: str, member_id: UUID) -> str | None:
        self.asked.append((tenant, member_id))
        return self.names.get(member_id)

    def member_names(self, tenant: str, member_ids: Sequence[UUID]) -> dict[UUID, str | None]:
        self.runs.append((tenant, list(member_ids)))
        if self.failing:
            raise RuntimeError("the registry's answer made no sense")
        return {
            m: self.names.get(m)
            for m in member_ids
            if m not in self.unlisted and self.tenants.get(m, tenant) == tenant
        }


@pytest.fixture
def clock() -> SettableClock:
    # 10:00 in Shanghai: outside any usual quiet hours.
    return SettableClock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))


@pytest.fixture
def directory() -> FakeDirectory:
    return FakeDirectory()


@pytest.fixture
def app(clock: SettableClock, directory: FakeDirectory) -> NotifyApplication:
    return NotifyApplication(
        {"PERSISTENCE_MODULE": "eventsourcing.popo"},
        clock,
        directory=directory,
        delivery=DeliveryPolicy(max_attempts=3, backoff_base_seconds=10, backoff_cap_seconds=300),
    )


EventFactory = Callable[..., CloudEvent]


@pytest.fixture
def cloudevent(clock: SettableClock) -> EventFactory:
    """CloudEvents stamped by the test clock, as the upstream relay would stamp them at that moment."""
    sequences: dict[str, int] = {}

    def make(
        service: str,
        name: str,
        data: dict[str, Any],
        *,
        tenant: str = "demo-university",
        subject: str | None = None,
        event_id: str | None = None,
    ) -> CloudEvent:
        sequences[service] = sequences.get(service, 0) + 1
        subject = subject or str(uuid4())
        return CloudEvent(
            id=event_id or f"{subject}:{sequences[service]}",
            source=f"/lianxin/{service}",
            type=f"cn.lianxin.{service}.{name}.v1",
            subject=subject,
            time=clock.now(),
            tenantid=tenant,
            sequence=str(sequences[service]),
            correlationid="c",
            data=data,
        )

    return make
