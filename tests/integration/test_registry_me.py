"""A member acts for themself under /v1/me: record, history, declaring that they leave (the branch confirms or
questions), whereabouts, return. Another member, another tenant's member and a secretary get nothing."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.integration.conftest import Running
from tests.integration.helpers import build_tree, national_id, new_tenant

pytestmark = pytest.mark.integration

DECLARATION = {
    "reason": "外出务工",
    "destination": "深圳市南山区",
    "expected_months": 4,
    "fixed_place": False,
    "contact": "微信 liming",
}


def _member(running: Running, tenant: str, member_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {running.token(tenant, 'member', subject=f'member:{member_id}')}"}


def test_a_member_declares_leaving_and_the_branch_confirms(running: Running) -> None:
    registry = running.url("registry")
    tenant = new_tenant()
    committee = running.auth(tenant, "committee")
    _, branch = build_tree(registry, committee)
    member = httpx.post(
        f"{registry}/v1/members",
        headers=committee,
        json={
            "name": "李明",
            "organisation_id": branch,
            "category": "full",
            "national_id_number": national_id(),
            "phone": "13900002222",
        },
    ).json()
    me = _member(running, tenant, member["id"])

    record = httpx.get(f"{registry}/v1/me", headers=me)
    assert record.status_code == 200, record.text
    body = record.json()
    assert body["member"]["name"] == "李明" and "*" in body["member"]["national_id_number"]
    assert body["organisation_name"] == "测试第一党支部" and body["registration"] is None

    missing = httpx.post(f"{registry}/v1/me/mobility", headers=me, json={**DECLARATION, "destination": ""})
    assert missing.status_code == 422 and "destination" in missing.text

    key = {"Idempotency-Key": uuid.uuid4().hex}
    declared = httpx.post(f"{registry}/v1/me/mobility", headers={**me, **key}, json=DECLARATION)
    assert declared.status_code == 201, declared.text
    again = httpx.post(f"{registry}/v1/me/mobility", headers={**me, **key}, json=DECLARATION)
    assert again.json()["id"] == declared.json()["id"]
    declaration = declared.json()["id"]

    secretary = running.auth(tenant, "branch_secretary", orgs=[branch])
    other_branch_secretary = running.auth(tenant, "branch_secretary", orgs=[str(uuid.uuid4())])
    listed = httpx.get(
        f"{registry}/v1/mobility-declarations", headers=secretary, params={"state": "declared"}
    )
    assert [d["id"] for d in listed.json()] == [declaration] and listed.json()[0]["name"] == "李明"
    assert httpx.get(f"{registry}/v1/mobility-declarations", headers=other_branch_secretary).json() == []
    assert (
        httpx.post(
            f"{registry}/v1/mobility-declarations/{declaration}/confirmation", headers=other_branch_secretary
        ).status_code
        == 404
    )
    assert (
        httpx.post(f"{registry}/v1/mobility-declarations/{declaration}/confirmation", headers=me).status_code
        == 403
    )

    confirmed = httpx.post(
        f"{registry}/v1/mobility-declarations/{declaration}/confirmation", headers=secretary
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["state"] == "confirmed" and confirmed.json()["registration_id"]
    mine = httpx.get(f"{registry}/v1/me", headers=me).json()
    assert mine["registration"]["state"] == "outflow_registered"
    assert mine["registration"]["certificate_number"].startswith("ROOT-")
    assert mine["declarations"][0]["state"] == "confirmed"
    assert (
        httpx.post(
            f"{registry}/v1/mobility-declarations/{declaration}/question",
            headers=secretary,
            json={"question": "?"},
        ).status_code
        == 409
    )

    where = httpx.post(
        f"{registry}/v1/me/whereabouts", headers=me, json={"place": "深圳市福田区", "phone": "13900003333"}
    )
    assert where.status_code == 200, where.text
    assert where.json()["state"] == "normal"
    assert httpx.post(f"{registry}/v1/me/whereabouts", headers=me, json={}).status_code == 422
    history = httpx.get(f"{registry}/v1/me/history", headers=me).json()
    assert any(e["type"] == "ProfileCorrected" for e in history), [e["type"] for e in history]
    assert all("13900003333" not in str(e["changes"]) for e in history)

    back = httpx.post(f"{registry}/v1/me/return", headers=me)
    assert back.status_code == 200, back.text
    assert back.json()["state"] == "returned" and back.json()["certificate_state"] == "surrendered"
    assert httpx.post(f"{registry}/v1/me/return", headers=me).status_code == 409


def test_a_branch_questions_a_declaration(running: Running) -> None:
    registry = running.url("registry")
    tenant = new_tenant()
    committee = running.auth(tenant, "committee")
    _, branch = build_tree(registry, committee)
    member = httpx.post(
        f"{registry}/v1/members",
        headers=committee,
        json={"name": "王芳", "organisation_id": branch, "category": "full"},
    ).json()
    me = _member(running, tenant, member["id"])
    declaration = httpx.post(f"{registry}/v1/me/mobility", headers=me, json=DECLARATION).json()["id"]
    asked = httpx.post(
        f"{registry}/v1/mobility-declarations/{declaration}/question",
        headers=committee,
        json={"question": "请说明具体工作单位"},
    )
    assert asked.status_code == 200, asked.text
    assert (
        httpx.get(f"{registry}/v1/me", headers=me).json()["declarations"][0]["question"]
        == "请说明具体工作单位"
    )


def test_me_is_only_ever_the_member_themself(running: Running) -> None:
    registry = running.url("registry")
    tenant, other_tenant = new_tenant(), new_tenant()
    committee = running.auth(tenant, "committee")
    _, branch = build_tree(registry, committee)
    member = httpx.post(
        f"{registry}/v1/members",
        headers=committee,
        json={"name": "张伟", "organisation_id": branch, "category": "full"},
    ).json()
    own_subject = f"member:{member['id']}"
    # The same member id under another tenant's token, a made-up member, and a secretary: nothing is found.
    strangers = [
        _member(running, other_tenant, member["id"]),
        _member(running, tenant, str(uuid.uuid4())),
        running.auth(tenant, "branch_secretary", orgs=[branch]),
        running.auth(tenant, "committee"),
        {"Authorization": f"Bearer {running.token(tenant, 'branch_secretary', subject=own_subject)}"},
    ]
    for headers in strangers:
        assert httpx.get(f"{registry}/v1/me", headers=headers).status_code == 404
        assert httpx.get(f"{registry}/v1/me/history", headers=headers).status_code == 404
        assert httpx.post(f"{registry}/v1/me/mobility", headers=headers, json=DECLARATION).status_code == 404
        assert (
            httpx.post(f"{registry}/v1/me/whereabouts", headers=headers, json={"place": "x"}).status_code
            == 404
        )
        assert httpx.post(f"{registry}/v1/me/return", headers=headers).status_code == 404
    assert httpx.get(f"{registry}/v1/mobility-declarations", headers=committee).json() == []
