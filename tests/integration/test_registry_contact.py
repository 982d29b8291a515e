"""Contact status moves to at-risk and to a lost-contact case as the clock advances; a contact resets it."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.integration.conftest import Infra, Running, start_platform
from tests.integration.helpers import build_tree, eventually, new_tenant
from tests.integration.jetstream import messages

pytestmark = pytest.mark.integration
DAY = 86_400


@pytest.fixture(scope="module")
def clocked(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = start_platform(
        infra, tmp_path_factory.mktemp("contact"), services=("registry",), extra_env={"TEST_CLOCK": "true"}
    )
    try:
        yield running
    finally:
        running.stop()


def advance(running: Running, days: int) -> None:
    response = httpx.post(f"{running.url('registry')}/_test/clock/advance", json={"seconds": days * DAY})
    assert response.status_code == 200, response.text


def cases(running: Running, headers: dict[str, str]) -> dict[str, dict[str, object]]:
    listed = httpx.get(f"{running.url('registry')}/v1/contact-cases", headers=headers).json()
    return {c["member_id"]: c for c in listed}


def pay_a_year_ahead(registry: str, headers: dict[str, str], member_id: str) -> None:
    """A year of dues paid on registration day (students' 0.20 yuan a month): the dues clock stays quiet."""
    first = httpx.get(f"{registry}/v1/members/{member_id}/dues", headers=headers).json()["starts"]
    index = int(first[:4]) * 12 + int(first[5:]) - 1
    months = [f"{(index + n) // 12:04d}-{(index + n) % 12 + 1:02d}" for n in range(12)]
    for year in sorted({m[:4] for m in months}):
        fixed = httpx.put(
            f"{registry}/v1/members/{member_id}/dues/amounts/{year}",
            headers=headers,
            json={"income_kind": "student"},
        )
        assert fixed.status_code == 200, fixed.text
    paid = httpx.post(
        f"{registry}/v1/members/{member_id}/dues/payments",
        headers=headers,
        json={"months": months, "amount": "2.40"},
    )
    assert paid.status_code == 201, paid.text


def test_silence_raises_at_risk_then_lost_contact_after_a_failed_search(clocked: Running) -> None:
    registry, tenant = clocked.url("registry"), new_tenant()
    headers = clocked.auth(tenant, "committee")
    _, branch = build_tree(registry, headers)
    quiet = httpx.post(
        f"{registry}/v1/members",
        headers=headers,
        json={"name": "失联者", "organisation_id": branch, "category": "full"},
    ).json()
    talkative = httpx.post(
        f"{registry}/v1/members",
        headers=headers,
        json={"name": "常联系", "organisation_id": branch, "category": "full"},
    ).json()
    pay_a_year_ahead(registry, headers, quiet["id"])  # else six unpaid months open a self-lapse review first

    advance(clocked, 60)
    contact = httpx.post(
        f"{registry}/v1/members/{talkative['id']}/contacts", headers=headers, json={"kind": "report_to_home"}
    )
    assert contact.status_code == 200, contact.text
    advance(clocked, 31)  # 91 days of silence for one, 31 for the other

    flagged = eventually(
        lambda: cases(clocked, headers).get(quiet["id"]), timeout=30, what="the at-risk flag"
    )
    assert (
        flagged["state"] == "at_risk" and flagged["proposed_cause"] == "other" and flagged["name"] == "失联者"
    )
    assert flagged["cause"] is None, "the software proposes the cause; the branch chooses it"
    todo = httpx.get(f"{registry}/v1/worklists/todo", headers=headers).json()
    assert any(i["kind"] == "contact_cause_to_choose" and i["subject_id"] == quiet["id"] for i in todo)
    chosen = httpx.post(
        f"{registry}/v1/members/{quiet['id']}/contact-case/cause",
        headers=headers,
        json={"cause": "employer_changed"},
    )
    assert chosen.status_code == 200 and chosen.json()["cause"] == "employer_changed"
    assert talkative["id"] not in cases(clocked, headers)
    worklist = httpx.get(f"{registry}/v1/worklists/todo", headers=headers).json()
    assert any(i["kind"] == "contact_at_risk" and i["subject_id"] == quiet["id"] for i in worklist)
    assert not any(
        i["kind"] == "contact_cause_to_choose" and i["subject_id"] == quiet["id"] for i in worklist
    )

    search = httpx.post(
        f"{registry}/v1/members/{quiet['id']}/searches",
        headers=headers,
        json={"method": "phone", "succeeded": False, "note": "空号"},
    )
    assert search.json()["state"] == "at_risk", "180 days have not passed yet"
    advance(clocked, 88)  # day 179 of silence
    early = httpx.post(
        f"{registry}/v1/members/{quiet['id']}/contact-case/lost-contact",
        headers=headers,
        json={"basis": "支委会决定"},
    )
    assert early.status_code == 422 and early.json()["field"] == "basis", early.text
    advance(clocked, 1)  # day 180: the timer proposes, the branch decides
    proposed = eventually(
        lambda: (c := cases(clocked, headers).get(quiet["id"])) and c["lost_contact_proposed"] and c,
        timeout=30,
        what="the lost-contact proposal",
    )
    assert proposed["state"] == "at_risk" and proposed["failed_search"] is True
    todo = httpx.get(f"{registry}/v1/worklists/todo", headers=headers).json()
    assert any(i["kind"] == "lost_contact_to_decide" and i["subject_id"] == quiet["id"] for i in todo)
    decided = httpx.post(
        f"{registry}/v1/members/{quiet['id']}/contact-case/lost-contact",
        headers=headers,
        json={"basis": "支委会决定"},
    )
    assert decided.status_code == 200 and decided.json()["state"] == "lost_contact", decided.text
    eventually(
        lambda: (c := cases(clocked, headers).get(quiet["id"])) and c["state"] == "lost_contact" and c,
        timeout=30,
        what="the lost-contact case",
    )
    member = httpx.get(f"{registry}/v1/members/{quiet['id']}", headers=headers).json()
    assert member["standing"] == "active", "suspension is a decision for people, never automatic"

    published = [
        json.loads(m.data)["type"]
        for m in messages(clocked.platform.nats_url, "LIANXIN_REGISTRY", f"lianxin.registry.{tenant}.>")
    ]
    assert "cn.lianxin.registry.contact_at_risk.v1" in published
    assert "cn.lianxin.registry.lost_contact_proposed.v1" in published
    assert "cn.lianxin.registry.lost_contact_case_opened.v1" in published


def test_a_contact_clears_an_at_risk_flag(clocked: Running) -> None:
    registry, tenant = clocked.url("registry"), new_tenant()
    headers = clocked.auth(tenant, "committee")
    _, branch = build_tree(registry, headers)
    member = httpx.post(
        f"{registry}/v1/members",
        headers=headers,
        json={"name": "回来了", "organisation_id": branch, "category": "full"},
    ).json()
    advance(clocked, 95)
    eventually(lambda: cases(clocked, headers).get(member["id"]), timeout=30, what="the at-risk flag")
    back = httpx.post(
        f"{registry}/v1/members/{member['id']}/contacts", headers=headers, json={"kind": "phone"}
    )
    assert back.json()["state"] == "normal"
    eventually(lambda: member["id"] not in cases(clocked, headers) or None, what="the case to close")


def test_tenant_thresholds_are_settings_with_bounds(clocked: Running) -> None:
    registry, tenant = clocked.url("registry"), new_tenant()
    headers = clocked.auth(tenant, "committee")
    assert httpx.get(f"{registry}/v1/settings", headers=headers).json()["at_risk_days"] == 90
    changed = httpx.put(f"{registry}/v1/settings", headers=headers, json={"at_risk_days": 60})
    assert changed.status_code == 200 and changed.json()["at_risk_days"] == 60
    refused = httpx.put(f"{registry}/v1/settings", headers=headers, json={"at_risk_days": 400})
    assert refused.status_code == 422
    assert (
        httpx.put(
            f"{registry}/v1/settings",
            headers=clocked.auth(tenant, "branch_secretary"),
            json={"at_risk_days": 45},
        ).status_code
        == 403
    )
