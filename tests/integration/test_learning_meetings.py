"""Learning's meetings over HTTP and NATS: a mobile member attends online at the host branch (流动党员)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import uuid4

import httpx
import pytest

from tests.integration.conftest import Running
from tests.integration.helpers import eventually
from tests.integration.jetstream import messages
from tests.integration.learning_world import (
    Tenant,
    advance,
    announce,
    known,
    learning_platform,
    new_branch_tenant,
    ok,
    problem_type,
    quarter_of,
    registry_event,
)

pytestmark = pytest.mark.integration
running = pytest.fixture(scope="module", name="running")(learning_platform)


@dataclass(frozen=True)
class OnlineAttendance:
    """What happened, once for the module: a mobile member took part in a meeting at the host branch."""

    home: Tenant
    host: Tenant
    mobile: str
    meeting: dict[str, Any]
    opinion: httpx.Response
    signed_in: httpx.Response
    signed_in_again: httpx.Response
    minutes: httpx.Response


@pytest.fixture(scope="module")
def attended(running: Running) -> OnlineAttendance:
    home, host = new_branch_tenant(running), new_branch_tenant(running)
    mobile = home.register()
    registry_event(
        running,
        home.id,
        "inflow_registered",
        {
            "registration_id": str(uuid4()),
            "member_id": mobile,
            "home_tenant": home.id,
            "home_org_id": home.branch,
            "host_tenant": host.id,
            "host_org_id": host.branch,
            "registered_on": "2026-11-01",
        },
    )
    known(host, mobile)
    meeting = announce(host)
    url = f"{host.url}/v1/meetings/{meeting['id']}"
    opinion = httpx.post(
        f"{url}/opinions",
        headers=host.member_token(mobile),
        json={"text": "建议结合流动党员实际安排线上学习"},
    )
    advance(running, 4 * 86400)
    signed_in = httpx.post(
        f"{url}/sign-in",
        headers=host.member_token(mobile),
        json={"method": "online", "location": "深圳市南山区"},
    )
    again = httpx.post(f"{url}/sign-in", headers=host.member_token(mobile), json={"method": "online"})
    minutes = httpx.post(
        f"{url}/minutes", headers=host.secretary(), json={"minutes": "到会党员重温入党誓词，讨论了……"}
    )
    return OnlineAttendance(home, host, mobile, meeting, opinion, signed_in, again, minutes)


def test_a_mobile_member_gives_an_opinion_on_a_host_meeting_before_it(attended: OnlineAttendance) -> None:
    assert attended.opinion.status_code == 201, attended.opinion.text


def test_a_mobile_member_signs_in_online_at_the_host_meeting(attended: OnlineAttendance) -> None:
    assert ok(attended.signed_in, 201)["status"] == "present"


def test_signing_in_twice_is_a_conflict(attended: OnlineAttendance) -> None:
    assert problem_type(attended.signed_in_again, 409) == "already-signed-in"


def test_the_host_secretary_records_the_minutes(attended: OnlineAttendance) -> None:
    assert attended.minutes.status_code == 200, attended.minutes.text


def test_the_host_branch_lists_the_online_attendance(attended: OnlineAttendance) -> None:
    host = attended.host
    url = f"{host.url}/v1/meetings/{attended.meeting['id']}/attendance"
    rows = eventually(
        lambda: [
            a
            for a in ok(httpx.get(url, headers=host.secretary()))["attendance"]
            if a["member_id"] == attended.mobile
        ],
        what="attendance at the host",
    )
    assert rows[0]["method"] == "online"


def test_the_home_branch_sees_the_attendance_at_the_host(attended: OnlineAttendance) -> None:
    home = attended.home
    url = f"{home.url}/v1/members/{attended.mobile}/history"
    rows = eventually(
        lambda: ok(httpx.get(url, headers=home.secretary()))["attendance"], what="attendance at home"
    )
    assert rows[0]["tenant"] == attended.host.id and rows[0]["status"] == "present"


def test_the_host_cadence_counts_the_meeting_held_but_not_yet_the_quarters_three(
    attended: OnlineAttendance,
) -> None:
    host = attended.host
    quarter = quarter_of(datetime.fromisoformat(attended.meeting["starts_at"]))

    def held() -> list[dict[str, Any]]:
        branches = ok(
            httpx.get(f"{host.url}/v1/cadence", params={"quarter": quarter}, headers=host.secretary())
        )["branches"]
        return [
            b
            for b in branches
            if any(i["meeting_type"] == "themed_party_day" and i["held"] == 1 for i in b["items"])
        ]

    cadence = eventually(held, what="the cadence view")
    assert cadence[0]["organisation_id"] == attended.host.branch and cadence[0]["met"] is False


def test_the_contact_signal_names_the_home_tenant_and_the_host_branch(
    attended: OnlineAttendance, running: Running
) -> None:
    data = json.loads(_signals(running, attended)[0].data)["data"]
    assert data == {
        **data,
        "member_id": attended.mobile,
        "tenant": attended.home.id,
        "organisation_id": attended.host.branch,
    }


def test_the_shared_location_never_leaves_the_service(attended: OnlineAttendance, running: Running) -> None:
    assert "深圳" not in _signals(running, attended)[0].data.decode()


def _signals(running: Running, attended: OnlineAttendance) -> list[Any]:
    subject = f"lianxin.learning.{attended.home.id}.meeting_attended"
    found: list[Any] = eventually(
        lambda: messages(running.platform.nats_url, "LIANXIN_LEARNING", subject), what="the contact signal"
    )
    return found
