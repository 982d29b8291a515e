"""The registry's printed forms over HTTP: a branch's roll and dues record, a mobile member's certificate and
information form; every font embedded, the member's name in the text, another tenant and branch kept out."""

from __future__ import annotations

import httpx
import pytest

from shared.printing import inspect_pdf
from tests.integration.conftest import Running
from tests.integration.helpers import build_tree, national_id, new_tenant, service_now

pytestmark = pytest.mark.integration


def test_forms_print_with_embedded_fonts_and_only_for_those_in_scope(running: Running) -> None:
    registry, tenant = running.url("registry"), new_tenant()
    committee = running.auth(tenant, "committee")
    root, branch = build_tree(registry, committee)
    other_branch = httpx.post(
        f"{registry}/v1/organisations",
        headers=committee,
        json={"code": "B2", "name": "测试第二党支部", "kind": "branch", "parent_id": root},
    ).json()["id"]
    member = httpx.post(
        f"{registry}/v1/members",
        headers=committee,
        json={
            "name": "诸葛明远",
            "organisation_id": branch,
            "category": "full",
            "national_id_number": national_id(),
            "phone": "13900002222",
            "gender": "male",
            "ethnicity": "汉族",
        },
    ).json()
    today = service_now(registry)
    year = today.year
    ledger = httpx.put(
        f"{registry}/v1/members/{member['id']}/dues/amounts/{year}",
        headers=committee,
        json={"income_kind": "student"},
    )
    ledger.raise_for_status()
    amount = ledger.json()["amounts"][str(year)]
    httpx.post(
        f"{registry}/v1/members/{member['id']}/dues/payments",
        headers=committee,
        json={"months": [f"{year}-{today.month:02d}"], "amount": amount},
    ).raise_for_status()
    registration = httpx.post(
        f"{registry}/v1/mobile-registrations",
        headers=committee,
        json={
            "member_id": member["id"],
            "reason": "外出务工",
            "destination": "浙江省杭州市",
            "expected_months": 4,
            "fixed_place": False,
            "contact": "微信 mingyuan",
        },
    ).json()

    forms = {
        f"/v1/organisations/{branch}/roll.pdf": ("党员名册", "诸葛明远"),
        f"/v1/organisations/{branch}/dues-record.pdf": ("党费收缴记录", "诸葛明远"),
        f"/v1/mobile-registrations/{registration['id']}/certificate.pdf": (
            "流动党员活动证",
            registration["certificate_number"],
        ),
        f"/v1/mobile-registrations/{registration['id']}/information-form.pdf": (
            "流动党员信息采集表",
            "浙江省杭州市",
        ),
    }
    for path, words in forms.items():
        response = httpx.get(f"{registry}{path}", headers=committee)
        assert response.status_code == 200 and response.headers["content-type"] == "application/pdf", path
        check = inspect_pdf(response.content)
        assert check.fonts and all(flag for _, flag in check.fonts), (path, check.fonts)
        for word in (*words, "诸葛明远"):
            assert word in check.text, (path, word)
    dues = inspect_pdf(
        httpx.get(f"{registry}/v1/organisations/{branch}/dues-record.pdf", headers=committee).content
    )
    assert "✓" in dues.text.split("诸葛明远", 1)[1], "the month of the recorded payment is marked"
    assert f"{float(amount):.2f}" in dues.text, "the year's monthly amount from the ledger"

    outsider = running.auth(new_tenant(), "committee")
    other_branch_secretary = running.auth(tenant, "branch_secretary", orgs=[other_branch])
    for headers in (outsider, other_branch_secretary):
        for path in forms:
            assert httpx.get(f"{registry}{path}", headers=headers).status_code == 404, path
