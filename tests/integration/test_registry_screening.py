"""排查 across two tenants: each committee opens its own campaign and sees only its own; branches confirm, a member
confirms themself, reminders reach the branch secretary's inbox, the closing report counts the findings and a
finding opens a contact case."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.integration.conftest import TEST_CLOCK_START, Running
from tests.integration.helpers import build_tree, eventually, inbox, new_tenant, register

pytestmark = pytest.mark.integration
DUE = (TEST_CLOCK_START.date() + timedelta(days=30)).isoformat()


def setup(running: Running, tenant: str) -> dict[str, Any]:
    registry = running.url("registry")
    committee = running.auth(tenant, "committee")
    _, branch = build_tree(registry, committee)
    members = [register(registry, committee, branch, name=n).json()["id"] for n in ("甲", "乙")]
    opened = httpx.post(
        f"{registry}/v1/screenings",
        headers=committee,
        json={
            "title": "年度党员组织关系排查",
            "scope": "branches",
            "organisation_ids": [branch],
            "due_on": DUE,
        },
    )
    assert opened.status_code == 201, opened.text
    return {
        "tenant": tenant,
        "committee": committee,
        "branch": branch,
        "members": members,
        "campaign": opened.json(),
        "secretary": running.auth(tenant, "branch_secretary", orgs=[branch]),
    }


def test_a_campaign_in_each_of_two_tenants(running: Running) -> None:
    registry, notify = running.url("registry"), running.url("notify")
    a, b = setup(running, new_tenant()), setup(running, new_tenant())
    ca, cb = a["campaign"]["id"], b["campaign"]["id"]
    assert a["campaign"]["counts"]["in_scope"] == 2 and a["campaign"]["counts"]["pending"] == 2

    # Each tenant sees only its own campaign and cannot act on the other's.
    assert [c["id"] for c in httpx.get(f"{registry}/v1/screenings", headers=a["committee"]).json()] == [ca]
    assert httpx.get(f"{registry}/v1/screenings/{cb}", headers=a["committee"]).status_code == 404
    foreign = httpx.post(
        f"{registry}/v1/screenings/{cb}/confirmations",
        headers=a["committee"],
        json={
            "member_id": b["members"][0],
            "outcome": "confirmed",
            "reachable": True,
            "whereabouts": "x",
            "contact_checked": True,
        },
    )
    assert foreign.status_code == 404
    assert httpx.post(f"{registry}/v1/screenings/{cb}/close", headers=a["committee"]).status_code == 404

    # Reminders reach the branch secretary through notify.
    reminded = httpx.post(f"{registry}/v1/screenings/{ca}/reminders", headers=a["committee"])
    assert reminded.status_code == 200, reminded.text
    eventually(
        lambda: [i for i in inbox(notify, a["secretary"])["items"] if i["title"] == "排查提醒"],
        what="the screening reminder in the branch secretary's inbox",
    )

    # The member confirms themself from the phone; the branch records a finding with its reason.
    token = running.token(a["tenant"], "member", subject=f"member:{a['members'][0]}")
    me = {"Authorization": f"Bearer {token}"}
    mine = eventually(
        lambda: httpx.get(f"{registry}/v1/me/screenings", headers=me).json(), what="my screening"
    )
    assert [(m["campaign_id"], m["confirmed"]) for m in mine] == [(ca, False)]
    ok = httpx.post(
        f"{registry}/v1/me/screenings/{ca}/confirmation",
        headers=me,
        json={"whereabouts": "广东省深圳市", "contact_ok": True},
    )
    assert ok.status_code == 200 and ok.json()["confirmed"] is True
    assert (
        httpx.post(
            f"{registry}/v1/me/screenings/{cb}/confirmation",
            headers=me,
            json={"whereabouts": "x", "contact_ok": True},
        ).status_code
        == 404
    )
    finding = {
        "member_id": a["members"][1],
        "outcome": "lost_contact",
        "reachable": False,
        "contact_checked": True,
    }
    no_reason = httpx.post(
        f"{registry}/v1/screenings/{ca}/confirmations", headers=a["secretary"], json=finding
    )
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "reason"
    progress = httpx.post(
        f"{registry}/v1/screenings/{ca}/confirmations",
        headers=a["secretary"],
        json={**finding, "reason": "电话停机，家属不知去向"},
    ).json()
    assert progress["branches"][0]["done"] == 2 and progress["branches"][0]["pending"] == 0

    report = httpx.post(f"{registry}/v1/screenings/{ca}/close", headers=a["committee"]).json()
    assert report["closed_on"] and {
        k: report["counts"][k] for k in ("in_scope", "confirmed", "lost_contact")
    } == {"in_scope": 2, "confirmed": 1, "lost_contact": 1}
    case = httpx.post(
        f"{registry}/v1/screenings/{ca}/findings/{a['members'][1]}/case", headers=a["secretary"]
    )
    assert case.status_code == 200 and [
        m["case_opened"] for m in case.json()["members"] if m["member_id"] == a["members"][1]
    ] == [True]
    eventually(
        lambda: [
            c
            for c in httpx.get(f"{registry}/v1/contact-cases", headers=a["committee"]).json()
            if c["member_id"] == a["members"][1]
        ],
        what="the contact case opened",
    )

    # The other tenant's campaign is untouched.
    other = httpx.get(f"{registry}/v1/screenings/{cb}", headers=b["committee"]).json()
    assert other["closed_on"] is None and other["counts"]["pending"] == 2


def test_scopes_mobile_members_and_graduates_three_months_after_graduation(running: Running) -> None:
    from registry.domain.dates import months_later

    registry, tenant = running.url("registry"), new_tenant()
    committee = running.auth(tenant, "committee")
    _, branch = build_tree(registry, committee)
    today = TEST_CLOCK_START.date()
    nobody = httpx.post(
        f"{registry}/v1/screenings",
        headers=committee,
        json={"title": "流动党员排查", "scope": "mobile", "due_on": DUE},
    )
    assert nobody.status_code == 422 and nobody.json()["field"] == "scope"
    mobile, graduate, stays = (
        register(registry, committee, branch, name=n).json()["id"] for n in ("丙", "丁", "戊")
    )
    for member, kind in ((mobile, "outflow"), (graduate, "graduate_deferral")):
        httpx.post(
            f"{registry}/v1/mobile-registrations",
            headers=committee,
            json={
                "member_id": member,
                "kind": kind,
                "reason": "外出",
                "destination": "上海",
                "expected_months": 6,
                "fixed_place": False,
                "contact": "电话",
            },
        ).raise_for_status()

    def in_scope(campaign: dict[str, Any]) -> list[str]:
        return [m["member_id"] for m in campaign["members"]]

    opened = eventually(
        lambda: (
            (
                r := httpx.post(
                    f"{registry}/v1/screenings",
                    headers=committee,
                    json={"title": "流动党员排查", "scope": "mobile", "due_on": DUE},
                )
            ).status_code
            == 201
            and r.json()
        ),
        what="the mobile registration projected",
    )
    assert in_scope(opened) == [mobile]
    early = httpx.post(
        f"{registry}/v1/screenings",
        headers=committee,
        json={
            "title": "毕业生排查",
            "scope": "graduates",
            "graduated_on": months_later(today, -2).isoformat(),
            "due_on": DUE,
        },
    )
    assert early.status_code == 422 and early.json()["field"] == "graduated_on"
    graduates = httpx.post(
        f"{registry}/v1/screenings",
        headers=committee,
        json={
            "title": "毕业生排查",
            "scope": "graduates",
            "graduated_on": months_later(today, -3).isoformat(),
            "due_on": DUE,
        },
    )
    assert graduates.status_code == 201 and in_scope(graduates.json()) == [graduate]
    assert stays not in in_scope(graduates.json())
