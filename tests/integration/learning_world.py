"""The learning service alone, fed the registry's events by the test: tenants, members, the clock, requests.

Only the learning service runs. The registry events it consumes (organisation_founded, member_registered,
inflow_registered, member_enrolled) are published onto LIANXIN_REGISTRY in the registry's contract shapes, with
sequences increasing per upstream, so each scenario controls exactly what learning knows and when. Time moves
through learning's test clock, and the events carry its time, never the machine's.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.integration.conftest import Infra, Running, start_platform
from tests.integration.helpers import eventually, new_tenant
from tests.integration.jetstream import publish

SEQUENCE = itertools.count(1)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def learning_platform(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """A module's platform: `running = pytest.fixture(scope="module", name="running")(learning_platform)`."""
    running = start_platform(
        infra, tmp_path_factory.mktemp("learning"), services=("learning",), extra_env={"TEST_CLOCK": "true"}
    )
    try:
        yield running
    finally:
        running.stop()


@dataclass
class Tenant:
    """A tenant with one branch, as learning learns of it from the registry's events."""

    running: Running
    id: str
    branch: str

    @property
    def url(self) -> str:
        return self.running.url("learning")

    def secretary(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.running.token(self.id, 'branch_secretary', orgs=[self.branch])}"
        }

    def committee(self) -> dict[str, str]:
        return self.running.auth(self.id, "committee")

    def member_token(self, member_id: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.running.token(self.id, 'member', subject=f'member:{member_id}')}"
        }

    def register(self, category: str = "full") -> str:
        member_id = str(uuid4())
        registry_event(
            self.running,
            self.id,
            "member_registered",
            {
                "member_id": member_id,
                "organisation_id": self.branch,
                "category": category,
                "registered_on": now(self.running).astimezone(SHANGHAI).date().isoformat(),
            },
        )
        if category == "probationary":  # the registry owns the period and publishes it
            self.probation(member_id, now(self.running).astimezone(SHANGHAI).date())
        return member_id

    def probation(self, member_id: str, admitted_on: date, extension_months: int = 0) -> None:
        """The registry's probation_changed, as its relay would publish it."""
        year, month = divmod(admitted_on.year * 12 + admitted_on.month - 1 + 12 + extension_months, 12)
        ends_on = admitted_on.replace(year=year, month=month + 1, day=min(admitted_on.day, 28))
        registry_event(
            self.running,
            self.id,
            "probation_changed",
            {
                "member_id": member_id,
                "organisation_id": self.branch,
                "admitted_on": admitted_on.isoformat(),
                "extension_months": extension_months,
                "ends_on": ends_on.isoformat(),
                "state": "running",
                "rush_admission": False,
            },
        )

    def known_member(self, category: str = "full") -> str:
        """A member registered and already consumed by learning."""
        member_id = self.register(category)
        known(self, member_id)
        return member_id

    def open_all_day(self) -> None:
        """Actions count at any hour (the default allows 06:00 to 22:00, and the clock may be anywhere)."""
        ok(
            httpx.patch(
                f"{self.url}/v1/options",
                headers=self.committee(),
                json={"allowed_from": "00:00", "allowed_until": "00:00"},
            )
        )


def registry_event(running: Running, tenant: str, event: str, data: dict[str, Any]) -> None:
    """One registry CloudEvent, as the registry's relay would publish it."""
    sequence = next(SEQUENCE)
    envelope = {
        "specversion": "1.0",
        "id": f"{uuid4()}:1",
        "source": "/lianxin/registry",
        "type": f"cn.lianxin.registry.{event}.v1",
        "subject": str(uuid4()),
        "time": now(running).isoformat(),
        "datacontenttype": "application/json",
        "tenantid": tenant,
        "sequence": str(sequence),
        "correlationid": str(uuid4()),
        "data": data,
    }
    publish(
        running.platform.nats_url,
        f"lianxin.registry.{tenant}.{event}",
        json.dumps(envelope).encode(),
        {"Nats-Msg-Id": envelope["id"]},
    )


def new_branch_tenant(running: Running) -> Tenant:
    tenant, root, branch = new_tenant(), str(uuid4()), str(uuid4())
    registry_event(
        running,
        tenant,
        "organisation_founded",
        {"organisation_id": root, "parent_id": None, "kind": "primary_committee"},
    )
    registry_event(
        running,
        tenant,
        "organisation_founded",
        {"organisation_id": branch, "parent_id": root, "kind": "branch"},
    )
    return Tenant(running, tenant, branch)


def now(running: Running) -> datetime:
    return datetime.fromisoformat(httpx.get(f"{running.url('learning')}/_test/clock").json()["now"])


def advance(running: Running, seconds: float) -> datetime:
    response = httpx.post(f"{running.url('learning')}/_test/clock/advance", json={"seconds": seconds})
    assert response.status_code == 200, response.text
    return datetime.fromisoformat(response.json()["now"])


def known(t: Tenant, member_id: str) -> None:
    """Wait until learning has consumed the member's registration (their history answers in the tenant)."""
    eventually(
        lambda: (
            httpx.get(f"{t.url}/v1/members/{member_id}/history", headers=t.committee()).status_code == 200
        ),
        what=f"learning to know member {member_id}",
    )


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def problem_type(response: httpx.Response, status: int) -> str:
    """The problem type's last segment of an error answer with that status."""
    assert response.status_code == status, response.text
    return str(response.json()["type"]).rsplit("/", 1)[-1]


def announce(
    t: Tenant, meeting_type: str = "themed_party_day", starts_in: timedelta = timedelta(days=4)
) -> dict[str, Any]:
    starts = now(t.running) + starts_in
    return ok(
        httpx.post(
            f"{t.url}/v1/meetings",
            headers={**t.secretary(), "Idempotency-Key": str(uuid4())},
            json={
                "organisation_id": t.branch,
                "meeting_type": meeting_type,
                "title": "十一月主题党日",
                "mode": "hybrid",
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=2)).isoformat(),
                "place": "党员活动室 / 线上会议",
                "agenda": ["重温入党誓词", "学习讨论"],
            },
        ),
        201,
    )


def quarter_of(at: datetime) -> str:
    local = at.astimezone(SHANGHAI)
    return f"{local.year}Q{(local.month - 1) // 3 + 1}"
