"""A member moves out as a mobile member to another tenant and is registered there as inflow; each side sees
only what it should."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.conftest import Running
from tests.integration.helpers import build_tree, eventually, national_id, new_tenant

pytestmark = pytest.mark.integration


def test_outflow_to_another_tenant_and_inflow_there(running: Running) -> None:
    registry = running.url("registry")
    home, host = new_tenant(), new_tenant()
    home_committee = running.auth(home, "committee")
    _, home_branch = build_tree(registry, home_committee)
    host_committee = running.auth(host, "committee")
    _, host_branch = build_tree(registry, host_committee)
    member = httpx.post(
        f"{registry}/v1/members",
        headers=home_committee,
        json={
            "name": "赵磊",
            "organisation_id": home_branch,
            "category": "full",
            "national_id_number": national_id(),
            "phone": "13900001111",
        },
    ).json()

    secretary = running.auth(home, "branch_secretary", orgs=[home_branch])
    outflow = httpx.post(
        f"{registry}/v1/mobile-registrations",
        headers=secretary,
        json={
            "member_id": member["id"],
            "reason": "外出务工",
            "destination": "示范区东城街道",
            "host_tenant": host,
            "expected_months": 4,
            "fixed_place": False,
            "contact": "微信 zhaolei",
        },
    )
    assert outflow.status_code == 201, outflow.text
    registration = outflow.json()
    assert (
        registration["certificate_number"].startswith("ROOT-") and registration["transfer_suggested"] is False
    )

    again = httpx.post(
        f"{registry}/v1/mobile-registrations",
        headers=secretary,
        json={
            "member_id": member["id"],
            "reason": "again",
            "destination": "x",
            "expected_months": 2,
            "fixed_place": False,
            "contact": "x",
        },
    )
    assert again.status_code == 409

    host_secretary = running.auth(host, "branch_secretary", orgs=[host_branch])
    incoming = eventually(
        lambda: httpx.get(
            f"{registry}/v1/mobile-registrations", headers=host_committee, params={"side": "host"}
        ).json()["items"],
        what="the host's pending inflow",
    )
    assert incoming[0]["name"] == "赵磊" and incoming[0]["home_org_id"] is None
    # The host sees the registration, not the member's record in the home tenant.
    assert httpx.get(f"{registry}/v1/members/{member['id']}", headers=host_committee).status_code == 404
    assert httpx.get(f"{registry}/v1/members", headers=host_committee).json()["items"] == []

    inflow = httpx.post(
        f"{registry}/v1/mobile-registrations/{registration['id']}/inflow",
        headers=host_secretary,
        json={"host_org_id": host_branch, "host_contact": "东城社区 王书记"},
    )
    assert inflow.status_code == 200, inflow.text
    assert inflow.json()["state"] == "inflow_registered" and inflow.json()["certificate_state"] == "presented"

    # A third tenant sees nothing of it and cannot act on it.
    outsider = running.auth(new_tenant(), "committee")
    assert (
        httpx.get(f"{registry}/v1/mobile-registrations", headers=outsider, params={"side": "host"}).json()[
            "items"
        ]
        == []
    )
    assert (
        httpx.post(
            f"{registry}/v1/mobile-registrations/{registration['id']}/return", headers=outsider
        ).status_code
        == 404
    )

    mobile_roll = httpx.get(f"{registry}/v1/members", headers=secretary, params={"mobile": "true"}).json()[
        "items"
    ]
    assert [m["id"] for m in mobile_roll] == [member["id"]]
    home_view = httpx.get(f"{registry}/v1/mobile-registrations", headers=secretary).json()["items"]
    assert home_view[0]["state"] == "inflow_registered" and home_view[0]["host_org_id"] == host_branch

    back = httpx.post(f"{registry}/v1/mobile-registrations/{registration['id']}/return", headers=secretary)
    assert back.status_code == 200 and back.json()["certificate_state"] == "surrendered"


def test_six_months_at_a_fixed_place_suggests_a_transfer(running: Running) -> None:
    registry, tenant = running.url("registry"), new_tenant()
    headers = running.auth(tenant, "committee")
    _, branch = build_tree(registry, headers)
    member = httpx.post(
        f"{registry}/v1/members",
        headers=headers,
        json={"name": "孙丽", "organisation_id": branch, "category": "full"},
    ).json()
    response = httpx.post(
        f"{registry}/v1/mobile-registrations",
        headers=headers,
        json={
            "member_id": member["id"],
            "reason": "工作调动",
            "destination": "上海",
            "expected_months": 12,
            "fixed_place": True,
            "contact": "电话",
        },
    )
    assert response.status_code == 201 and response.json()["transfer_suggested"] is True


def test_a_graduate_deferral_is_at_most_two_years(running: Running) -> None:
    registry, tenant = running.url("registry"), new_tenant()
    headers = running.auth(tenant, "committee")
    _, branch = build_tree(registry, headers)
    member = httpx.post(
        f"{registry}/v1/members",
        headers=headers,
        json={"name": "周强", "organisation_id": branch, "category": "probationary"},
    ).json()
    too_long = httpx.post(
        f"{registry}/v1/mobile-registrations",
        headers=headers,
        json={
            "member_id": member["id"],
            "kind": "graduate_deferral",
            "reason": "待就业",
            "destination": "学校",
            "expected_months": 30,
            "fixed_place": False,
            "contact": "电话",
        },
    )
    assert too_long.status_code == 422 and too_long.json()["field"] == "expected_months"
    ok = httpx.post(
        f"{registry}/v1/mobile-registrations",
        headers=headers,
        json={
            "member_id": member["id"],
            "kind": "graduate_deferral",
            "reason": "待就业",
            "destination": "学校",
            "expected_months": 24,
            "fixed_place": False,
            "contact": "电话",
        },
    )
    assert ok.status_code == 201 and ok.json()["until"] and ok.json()["certificate_number"] is None


def test_a_secretary_who_loses_the_role_loses_access_at_once_and_the_successor_sees_the_work(
    running: Running,
) -> None:
    registry, tenant = running.url("registry"), new_tenant()
    committee = running.auth(tenant, "committee")
    _, branch = build_tree(registry, committee)
    member = httpx.post(
        f"{registry}/v1/members",
        headers=committee,
        json={"name": "钱七", "organisation_id": branch, "category": "full"},
    ).json()
    old = {
        "Authorization": f"Bearer {running.token(tenant, 'branch_secretary', orgs=[branch], subject='old-sec')}"
    }
    new = {
        "Authorization": f"Bearer {running.token(tenant, 'branch_secretary', orgs=[branch], subject='new-sec')}"
    }
    for subject in ("old-sec", "new-sec"):
        granted = httpx.post(
            f"{registry}/v1/organisations/{branch}/roles",
            headers=committee,
            json={"subject": subject, "role": "branch_secretary"},
        )
        assert granted.status_code == 204
    assert (
        httpx.post(
            f"{registry}/v1/mobile-registrations",
            headers=old,
            json={
                "member_id": member["id"],
                "reason": "务工",
                "destination": "外地",
                "host_tenant": new_tenant(),
                "expected_months": 3,
                "fixed_place": False,
                "contact": "电话",
            },
        ).status_code
        == 201
    )
    assert httpx.get(f"{registry}/v1/members/{member['id']}", headers=old).status_code == 200

    revoked = httpx.delete(
        f"{registry}/v1/organisations/{branch}/roles/old-sec/branch_secretary", headers=committee
    )
    assert revoked.status_code == 204
    eventually(
        lambda: httpx.get(f"{registry}/v1/members/{member['id']}", headers=old).status_code == 404 or None,
        what="the old secretary's access to end",
    )
    pending = httpx.get(f"{registry}/v1/worklists/pending", headers=new).json()
    assert [i["kind"] for i in pending] == ["outflow_awaiting_host"]
    assert httpx.get(f"{registry}/v1/worklists/pending", headers=old).json() == []
