"""发展党员 over HTTP: the activist year at its boundary, what is missing, admission hands over to a Member, the work
list, a move to another tenant that keeps the time, and another tenant's token kept out."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from registry.domain.dates import months_later
from tests.integration.conftest import TEST_CLOCK_START, Running
from tests.integration.helpers import build_tree, eventually, new_tenant

pytestmark = pytest.mark.integration
TODAY = TEST_CLOCK_START.date()


def post(url: str, headers: dict[str, str], body: dict[str, Any], status: int = 200) -> dict[str, Any]:
    response = httpx.post(url, headers=headers, json=body)
    assert response.status_code == status, response.text
    return response.json()


def test_an_applicant_becomes_a_probationary_member_one_recorded_decision_at_a_time(running: Running) -> None:
    registry, tenant = running.url("registry"), new_tenant()
    committee = running.auth(tenant, "committee")
    _, branch = build_tree(registry, committee)
    secretary = running.auth(tenant, "branch_secretary", orgs=[branch])
    base = f"{registry}/v1/development/records"
    activist_on = months_later(TODAY, -13)
    record = post(
        base,
        secretary,
        {
            "organisation_id": branch,
            "name": "欧阳青",
            "gender": "female",
            "applied_on": months_later(TODAY, -16).isoformat(),
        },
        201,
    )
    assert record["stage"] == "applicant" and record["next_stage"] == "activist"
    rid = record["id"]
    record = post(
        f"{base}/{rid}/decisions",
        secretary,
        {
            "stage": "activist",
            "decided_on": activist_on.isoformat(),
            "decided_by": "支部委员会",
            "basis": "党员推荐",
        },
    )
    assert record["stage_words"] == "入党积极分子"
    post(f"{base}/{rid}/contact-persons", secretary, {"persons": ["王老师", "李同学"]})
    for quarter in range(4):
        post(
            f"{base}/{rid}/thought-reports",
            secretary,
            {"on": months_later(activist_on, 3 * quarter + 1).isoformat()},
        )

    eleven = months_later(activist_on, 11).isoformat()
    refused = httpx.post(
        f"{base}/{rid}/decisions",
        headers=secretary,
        json={"stage": "candidate", "decided_on": eleven, "decided_by": "支部委员会", "basis": "考察"},
    )
    assert refused.status_code == 409 and refused.json()["type"].endswith("development-not-ready")
    assert [m["item"] for m in refused.json()["missing"]] == ["observation_period"]
    future = httpx.post(
        f"{base}/{rid}/decisions",
        headers=secretary,
        json={
            "stage": "candidate",
            "decided_on": months_later(TODAY, 1).isoformat(),
            "decided_by": "x",
            "basis": "x",
        },
    )
    assert future.status_code == 422
    twelve = months_later(activist_on, 12)
    record = post(
        f"{base}/{rid}/decisions",
        secretary,
        {
            "stage": "candidate",
            "decided_on": twelve.isoformat(),
            "decided_by": "支部委员会",
            "basis": "培养考察满一年",
        },
    )
    assert record["stage"] == "candidate" and {m["item"] for m in record["missing"]} == {
        "training",
        "political_review",
        "sponsors",
    }

    worklist = httpx.get(f"{registry}/v1/development/worklist", headers=secretary).json()
    assert [(w["id"], w["due"]) for w in worklist] == [(rid, False)]

    post(
        f"{base}/{rid}/training",
        secretary,
        {"course": "发展对象培训班", "days": 3, "hours": 24, "on": twelve.isoformat()},
    )
    post(
        f"{base}/{rid}/political-review",
        secretary,
        {"on": twelve.isoformat(), "passed": True, "reviewed_by": "组织员", "summary": "政治审查合格"},
    )
    record = post(f"{base}/{rid}/sponsors", secretary, {"sponsors": ["张正式", "赵正式"]})
    assert record["missing"] == []
    no_approval = httpx.post(
        f"{base}/{rid}/decisions",
        headers=secretary,
        json={
            "stage": "probationary",
            "decided_on": TODAY.isoformat(),
            "decided_by": "支部大会",
            "basis": "表决通过",
            "branch_assembly_on": TODAY.isoformat(),
        },
    )
    assert no_approval.status_code == 409 and [m["item"] for m in no_approval.json()["missing"]] == [
        "approval"
    ]
    record = post(
        f"{base}/{rid}/decisions",
        secretary,
        {
            "stage": "probationary",
            "decided_on": TODAY.isoformat(),
            "decided_by": "支部大会",
            "basis": "表决通过",
            "branch_assembly_on": TODAY.isoformat(),
            "approved_on": TODAY.isoformat(),
            "approved_by": "测试大学党委",
        },
    )
    assert record["stage"] == "probationary" and record["member_id"]
    assert [d["stage"] for d in record["decisions"]] == ["activist", "candidate", "probationary"]
    member = httpx.get(f"{registry}/v1/members/{record['member_id']}", headers=committee).json()
    assert member["name"] == "欧阳青" and member["category"] == "probationary"
    assert member["joined_on"] == TODAY.isoformat()

    outsider = running.auth(new_tenant(), "committee")
    assert httpx.get(f"{base}/{rid}", headers=outsider).status_code == 404
    assert httpx.post(f"{base}/{rid}/thought-reports", headers=outsider, json={}).status_code == 404
    assert httpx.get(f"{registry}/v1/development/worklist", headers=outsider).json() == []


def test_an_activist_moving_to_another_tenant_keeps_the_time_served(running: Running) -> None:
    registry = running.url("registry")
    home, host = new_tenant(), new_tenant()
    home_committee, host_committee = running.auth(home, "committee"), running.auth(host, "committee")
    _, home_branch = build_tree(registry, home_committee)
    _, host_branch = build_tree(registry, host_committee)
    base = f"{registry}/v1/development/records"
    activist_on: date = months_later(TODAY, -12)
    rid = post(
        base,
        home_committee,
        {"organisation_id": home_branch, "name": "马远", "applied_on": months_later(TODAY, -14).isoformat()},
        201,
    )["id"]
    post(
        f"{base}/{rid}/decisions",
        home_committee,
        {
            "stage": "activist",
            "decided_on": activist_on.isoformat(),
            "decided_by": "支部委员会",
            "basis": "推优",
        },
    )
    post(
        f"{base}/{rid}/training",
        home_committee,
        {"course": "积极分子培训", "days": 1, "hours": 8, "on": activist_on.isoformat()},
    )
    moved = post(f"{base}/{rid}/move-out", home_committee, {"to_tenant": host})
    assert moved["record"]["stage"] == "moved_out" and len(moved["code"]) >= 16

    wrong = httpx.post(
        f"{registry}/v1/development/arrivals",
        headers=host_committee,
        json={"source_record_id": rid, "code": "not-the-code", "organisation_id": host_branch},
    )
    assert wrong.status_code == 422
    third = running.auth(new_tenant(), "committee")
    _, third_branch = build_tree(registry, third)
    assert (
        httpx.post(
            f"{registry}/v1/development/arrivals",
            headers=third,
            json={"source_record_id": rid, "code": moved["code"], "organisation_id": third_branch},
        ).status_code
        == 404
    )
    arrived = post(
        f"{registry}/v1/development/arrivals",
        host_committee,
        {"source_record_id": rid, "code": moved["code"], "organisation_id": host_branch},
        201,
    )
    assert arrived["stage"] == "activist" and arrived["since"]["activist"] == activist_on.isoformat()
    assert (
        arrived["training_hours"] == 8
        and arrived["period_served_on"] == months_later(activist_on, 12).isoformat()
    )
    assert {m["item"] for m in arrived["missing"]} == {"contact_persons", "thought_reports"}
    assert httpx.get(f"{base}/{rid}", headers=host_committee).status_code == 404


def test_an_activist_writes_thought_reports_in_learning_and_the_registry_counts_them(
    running: Running,
) -> None:
    registry, learning, tenant = running.url("registry"), running.url("learning"), new_tenant()
    committee = running.auth(tenant, "committee")
    _, branch = build_tree(registry, committee)
    base = f"{registry}/v1/development/records"
    rid = post(
        base,
        committee,
        {"organisation_id": branch, "name": "韩雪", "applied_on": months_later(TODAY, -2).isoformat()},
        201,
    )["id"]
    activist = {"Authorization": f"Bearer {running.token(tenant, 'member', subject=f'member:{rid}')}"}
    report = {"title": "第四季度思想汇报", "body": "……"}
    # An applicant is not yet an activist: learning does not take the report.
    early = httpx.post(f"{learning}/v1/thought-reports", headers=activist, json=report)
    assert early.status_code in (403, 404, 409), early.text
    post(
        f"{base}/{rid}/decisions",
        committee,
        {
            "stage": "activist",
            "decided_on": TODAY.isoformat(),
            "decided_by": "支部委员会",
            "basis": "群团组织推优",
        },
    )
    submitted = eventually(
        lambda: (
            (r := httpx.post(f"{learning}/v1/thought-reports", headers=activist, json=report)).status_code
            == 201
            and r
        ),
        what="learning takes the activist's report",
    )
    assert submitted.json()["member_id"] == rid
    counted = eventually(
        lambda: httpx.get(f"{base}/{rid}", headers=committee).json()["thought_reports"],
        what="the registry counts the report",
    )
    assert counted == [TODAY.isoformat()]
