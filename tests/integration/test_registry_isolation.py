"""Every registry endpoint tried with another tenant's token: denied or empty, nothing leaked, nothing changed."""

from __future__ import annotations

import json
import re
import uuid

import httpx
import pytest

from tests.integration.conftest import Running
from tests.integration.helpers import build_tree, national_id, new_tenant

pytestmark = pytest.mark.integration

# Query parameters naming the owner's ids, for the routes that take them there.
QUERIES: dict[str, dict[str, str]] = {"GET /v1/members/-/names": {"id": "{member_id}"}}
BODIES: dict[str, object] = {
    "POST /v1/organisations": {"code": "X1", "name": "x", "kind": "branch", "parent_id": "{organisation_id}"},
    "PATCH /v1/organisations/{organisation_id}": {"name": "renamed by an outsider"},
    "POST /v1/organisations/{organisation_id}/roles": {"subject": "intruder", "role": "branch_secretary"},
    "POST /v1/members": {"name": "x", "organisation_id": "{organisation_id}", "category": "full"},
    "PATCH /v1/members/{member_id}": {"name": "renamed by an outsider"},
    "POST /v1/members/{member_id}/decisions": {
        "kind": "suspension",
        "decided_on": "2026-11-20",
        "decided_by": "outsider",
        "basis": "none",
    },
    "POST /v1/members/{member_id}/contacts": {"kind": "phone"},
    "POST /v1/members/{member_id}/searches": {"method": "phone", "succeeded": False},
    "POST /v1/members/{member_id}/contact-case/close": {"reason": "outsider"},
    "POST /v1/mobile-registrations": {
        "member_id": "{member_id}",
        "reason": "x",
        "destination": "x",
        "expected_months": 2,
        "fixed_place": False,
        "contact": "x",
    },
    "POST /v1/mobile-registrations/{registration_id}/inflow": {
        "host_org_id": "{organisation_id}",
        "host_contact": "x",
    },
    "POST /v1/activity-certificates/{certificate_id}/review": {"remarks": "x"},
    "POST /v1/activity-certificates/{certificate_id}/void": {"remarks": "x"},
    "PUT /v1/settings": {"at_risk_days": 45},
    "POST /v1/members/{member_id}/contact-case/cause": {"cause": "other"},
    "POST /v1/members/{member_id}/contact-case/lost-contact": {"basis": "outsider"},
    "POST /v1/members/{member_id}/work": {"title": "outsider"},
    "PUT /v1/members/{member_id}/dues/amounts/{year}": {"income_kind": "student"},
    "POST /v1/members/{member_id}/dues/opening": {"paid_through": "2026-01", "basis": "outsider"},
    "POST /v1/members/{member_id}/dues/payments": {"months": ["2026-01"], "amount": "0.20"},
    "POST /v1/members/{member_id}/dues/payments/{payment_id}/correction": {"reason": "outsider"},
    "POST /v1/development/records": {
        "organisation_id": "{organisation_id}",
        "name": "x",
        "applied_on": "2026-01-01",
    },
    "POST /v1/development/records/{record_id}/decisions": {
        "stage": "activist",
        "decided_on": "2026-11-20",
        "decided_by": "outsider",
        "basis": "none",
    },
    "POST /v1/development/records/{record_id}/contact-persons": {"persons": ["x"]},
    "POST /v1/development/records/{record_id}/thought-reports": {},
    "POST /v1/development/records/{record_id}/move": {"organisation_id": "{organisation_id}"},
    "POST /v1/development/records/{record_id}/move-out": {"to_tenant": "intruder-tenant"},
    "POST /v1/development/arrivals": {
        "source_record_id": "{record_id}",
        "code": "guess",
        "organisation_id": "{organisation_id}",
    },
    "POST /v1/screenings": {
        "title": "x",
        "scope": "branches",
        "organisation_ids": ["{organisation_id}"],
        "due_on": "2026-12-31",
    },
    "POST /v1/screenings/{campaign_id}/confirmations": {
        "member_id": "{member_id}",
        "outcome": "confirmed",
        "reachable": True,
        "whereabouts": "x",
        "contact_checked": True,
    },
}


def test_another_tenant_gets_nothing_from_any_registry_endpoint(running: Running) -> None:
    registry, owner = running.url("registry"), new_tenant()
    headers = running.auth(owner, "committee")
    _, branch = build_tree(registry, headers)
    member = httpx.post(
        f"{registry}/v1/members",
        headers=headers,
        json={
            "name": "机密姓名",
            "organisation_id": branch,
            "category": "full",
            "national_id_number": national_id(),
        },
    ).json()
    registration = httpx.post(
        f"{registry}/v1/mobile-registrations",
        headers=headers,
        json={
            "member_id": member["id"],
            "reason": "务工",
            "destination": "外地",
            "expected_months": 3,
            "fixed_place": False,
            "contact": "电话",
        },
    ).json()
    work = httpx.post(
        f"{registry}/v1/members/{member['id']}/work", headers=headers, json={"title": "值班"}
    ).json()
    starts = httpx.get(f"{registry}/v1/members/{member['id']}/dues", headers=headers).json()["starts"]
    httpx.put(
        f"{registry}/v1/members/{member['id']}/dues/amounts/{starts[:4]}",
        headers=headers,
        json={"income_kind": "student"},
    )
    ledger = httpx.post(
        f"{registry}/v1/members/{member['id']}/dues/payments",
        headers=headers,
        json={"months": [starts], "amount": "0.20"},
    ).json()
    record = httpx.post(
        f"{registry}/v1/development/records",
        headers=headers,
        json={"organisation_id": branch, "name": "机密申请人", "applied_on": "2026-01-05"},
    ).json()
    campaign = httpx.post(
        f"{registry}/v1/screenings",
        headers=headers,
        json={"title": "排查", "scope": "branches", "organisation_ids": [branch], "due_on": "2026-12-31"},
    ).json()
    ids = {
        "organisation_id": branch,
        "member_id": member["id"],
        "registration_id": registration["id"],
        "certificate_id": registration["certificate_id"],
        "subject": "intruder",
        "role": "branch_secretary",
        "worklist": "todo",
        "assignment_id": next(iter(work["open_work"])),
        "payment_id": ledger["payments"][0]["payment_id"],
        "year": starts[:4],
        "record_id": record["id"],
        "campaign_id": campaign["id"],
        # This member is away already and cannot declare; test_registry_me tries declarations across tenants.
        "declaration_id": str(uuid.uuid4()),
        # A transfer's destination picker shows another tenant's open tree by design (test_registry_destinations).
        "tenant": owner,
    }
    secrets = {
        branch,
        member["id"],
        registration["id"],
        "机密姓名",
        record["id"],
        campaign["id"],
        "机密申请人",
    }
    history_before = httpx.get(f"{registry}/v1/members/{member['id']}/history", headers=headers).json()

    outsider = running.auth(new_tenant(), "committee", "tenant_admin")
    paths = httpx.get(f"{registry}/openapi.json").json()["paths"]
    tried = 0
    for template, operations in paths.items():
        if not template.startswith("/v1/"):
            continue
        url = re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], template)
        for method in operations:
            body = BODIES.get(f"{method.upper()} {template}")
            if isinstance(body, dict):
                body = json.loads(re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], json.dumps(body)))
            kwargs: dict[str, object] = {"json": body} if body is not None else {}
            query = QUERIES.get(f"{method.upper()} {template}")
            if query is not None:
                kwargs["params"] = {
                    k: re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], v) for k, v in query.items()
                }
            if template.endswith("/import"):
                kwargs = {
                    "content": f"name,organisation_code,category,national_id_number\nx,B1,正式,{national_id()}\n",
                    "headers": {**outsider, "Content-Type": "text/csv"},
                }
            response = httpx.request(
                method.upper(), f"{registry}{url}", headers=kwargs.pop("headers", outsider), **kwargs
            )  # type: ignore[arg-type]
            tried += 1
            sent = url + json.dumps(kwargs.get("json"))  # echoing back what the caller sent reveals nothing
            shown = {branch} if template == "/v1/destinations/{tenant}" else set()
            leaked = [s for s in secrets - shown if s in response.text and s not in sent]
            assert not leaked, f"{method.upper()} {template} leaked {leaked}: {response.text[:300]}"
            has_foreign_id = "{" in template and template not in (
                "/v1/worklists/{worklist}",
                "/v1/destinations/{tenant}",
            )
            if has_foreign_id:
                assert response.status_code in (403, 404, 422), (
                    f"{method.upper()} {template}: {response.status_code}"
                )
    assert tried >= 20

    after = httpx.get(f"{registry}/v1/members/{member['id']}", headers=headers).json()
    untouched = httpx.get(f"{registry}/v1/development/records/{record['id']}", headers=headers).json()
    assert untouched["stage"] == "applicant" and untouched["thought_reports"] == []
    screened = httpx.get(f"{registry}/v1/screenings/{campaign['id']}", headers=headers).json()
    assert screened["counts"]["pending"] == 1 and screened["closed_on"] is None
    assert after["name"] == "机密姓名" and after["standing"] == "active"
    history_after = httpx.get(f"{registry}/v1/members/{member['id']}/history", headers=headers).json()
    assert [h["type"] for h in history_after] == [h["type"] for h in history_before]
    ledger_after = httpx.get(f"{registry}/v1/members/{member['id']}/dues", headers=headers).json()
    assert ledger_after["payments"] == ledger["payments"] and ledger_after["paid_through"] == starts
    status_after = httpx.get(f"{registry}/v1/members/{member['id']}/contact-status", headers=headers).json()
    assert list(status_after["open_work"]) == list(work["open_work"]) and status_after["cause"] is None
    assert httpx.get(f"{registry}/v1/organisations/{branch}/roles", headers=headers).json() == []
