"""Learning behind the real registry: members, mobile registrations and contact signals cross NATS both ways.

Runs on the session platform (all four services); it only adds tenants of its own.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.integration.conftest import Running
from tests.integration.helpers import build_tree, eventually, new_tenant, service_now

pytestmark = pytest.mark.integration


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def test_a_registered_mobile_member_attends_at_the_host_and_the_registry_hears_of_it(
    running: Running,
) -> None:
    registry, learning = running.url("registry"), running.url("learning")
    home, host = new_tenant(), new_tenant()
    home_committee, host_committee = running.auth(home, "committee"), running.auth(host, "committee")
    _, home_branch = build_tree(registry, home_committee)
    _, host_branch = build_tree(registry, host_committee)
    member = ok(
        httpx.post(
            f"{registry}/v1/members",
            headers=home_committee,
            json={"name": "李华", "organisation_id": home_branch, "category": "probationary"},
        ),
        201,
    )["id"]
    eventually(
        lambda: (
            httpx.get(f"{learning}/v1/probation/{member}/summary", headers=home_committee).status_code == 200
        ),
        what="learning to open the probation assessment",
    )

    registration = ok(
        httpx.post(
            f"{registry}/v1/mobile-registrations",
            headers=home_committee,
            json={
                "member_id": member,
                "reason": "外出务工",
                "destination": "示范区",
                "host_tenant": host,
                "expected_months": 4,
                "fixed_place": False,
                "contact": "微信",
            },
        ),
        201,
    )["id"]
    ok(
        httpx.post(
            f"{registry}/v1/mobile-registrations/{registration}/inflow",
            headers=host_committee,
            json={"host_org_id": host_branch, "host_contact": "王书记"},
        )
    )
    eventually(
        lambda: (
            httpx.get(f"{learning}/v1/members/{member}/history", headers=host_committee).status_code == 200
        ),
        what="the host tenant to see the mobile member",
    )

    starts = service_now(learning) + timedelta(minutes=10)
    meeting = ok(
        httpx.post(
            f"{learning}/v1/meetings",
            headers=host_committee,
            json={
                "organisation_id": host_branch,
                "meeting_type": "themed_party_day",
                "title": "主题党日",
                "mode": "online",
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=1)).isoformat(),
                "short_notice_reason": "流动党员专场",
            },
        ),
        201,
    )
    signing_in = service_now(learning)
    member_token = {"Authorization": f"Bearer {running.token(host, 'member', subject=f'member:{member}')}"}
    ok(
        httpx.post(
            f"{learning}/v1/meetings/{meeting['id']}/sign-in", headers=member_token, json={"method": "online"}
        ),
        201,
    )

    # The registry's last contact moves to the sign-in (it started at the registration, before it).
    eventually(
        lambda: running.sql(
            "registry",
            "SELECT 1 FROM contact_status WHERE member_id = %s AND last_contact_at >= %s",
            member,
            signing_in,
        ),
        what="the registry to record the attendance as contact",
    )
    at_home = eventually(
        lambda: ok(httpx.get(f"{learning}/v1/members/{member}/history", headers=home_committee))[
            "attendance"
        ],
        what="home sees attendance",
    )
    assert at_home[0]["tenant"] == host
