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


def test_probation_and_its_learning_record_follow_a_transfer_with_the_rush_flag(running: Running) -> None:
    registry, learning, transfer = running.url("registry"), running.url("learning"), running.url("transfer")
    sender, receiver = new_tenant(), new_tenant()
    s, rc = running.auth(sender, "committee"), running.auth(receiver, "committee")
    _, s_branch = build_tree(registry, s)
    _, r_branch = build_tree(registry, rc)
    joined = "2026-01-05"
    member = ok(
        httpx.post(
            f"{registry}/v1/members",
            headers=s,
            json={
                "name": "周预备",
                "organisation_id": s_branch,
                "category": "probationary",
                "joined_on": joined,
            },
        ),
        201,
    )["id"]
    eventually(
        lambda: httpx.get(f"{learning}/v1/probation/{member}/summary", headers=s).status_code == 200,
        what="learning to follow the registry's probation",
    )
    ok(
        httpx.patch(
            f"{learning}/v1/options", headers=s, json={"allowed_from": "00:00", "allowed_until": "00:00"}
        )
    )
    me = {"Authorization": f"Bearer {running.token(sender, 'member', subject=f'member:{member}')}"}
    ok(
        httpx.post(f"{learning}/v1/thought-reports", headers=me, json={"title": "思想汇报", "body": "……"}),
        201,
    )

    case = ok(
        httpx.post(
            f"{transfer}/v1/transfers",
            headers=s,
            json={
                "member_id": member,
                "destination": "other_tenant",
                "receiving_tenant": receiver,
                "receiving_org_id": r_branch,
                "reason": "工作调动",
            },
        ),
        201,
    )
    ok(httpx.post(f"{transfer}/v1/transfers/{case['id']}/branch-approval", headers=s))
    ok(
        httpx.post(
            f"{transfer}/v1/transfers/{case['id']}/committee-approval",
            headers=s,
            json={"dues_paid_through": "2026-10", "issuer_address": "北京市", "issuer_phone": "010-1"},
        )
    )
    eventually(
        lambda: ok(httpx.get(f"{transfer}/v1/transfers/{case['id']}", headers=s))["letter"],
        timeout=30,
        what="the letter",
    )
    ok(httpx.post(f"{transfer}/v1/transfers/{case['id']}/acceptance", headers=rc))
    ok(httpx.post(f"{transfer}/v1/transfers/{case['id']}/check-in", headers=rc, json={}))
    arrived = eventually(
        lambda: ok(httpx.get(f"{transfer}/v1/transfers/{case['id']}", headers=s))["enrolled_member_id"],
        timeout=30,
        what="the enrolment",
    )

    summary = eventually(
        lambda: (
            (r := httpx.get(f"{learning}/v1/probation/{arrived}/summary", headers=rc)).status_code == 200
            and r.json()["quota"]["items"]["thought_reports"]["actual"] == 1
            and r.json()
        ),
        timeout=30,
        what="the probation summary at the receiver, with the sender's record",
    )
    assert summary["admitted_on"] == joined and summary["ends_on"] == "2027-01-05"
    registry_view = ok(httpx.get(f"{registry}/v1/members/{arrived}/probation", headers=rc))
    assert registry_view["admitted_on"] == joined
    # Admitted long before arriving: no 突击发展 flag; the flag's boundary is tested with the registry's clock.
    assert summary["rush_admission"] is False and registry_view["rush_admission"] is False
    assert httpx.get(f"{learning}/v1/probation/{arrived}/summary", headers=s).status_code in (403, 404)
