"""CSV import with bad rows: good rows stored once, bad rows reported with reasons; the export is masked."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.conftest import Running
from tests.integration.helpers import build_tree, eventually, national_id, new_tenant

pytestmark = pytest.mark.integration


def test_a_csv_import_with_bad_rows_and_a_masked_export(running: Running) -> None:
    registry, tenant = running.url("registry"), new_tenant()
    headers = running.auth(tenant, "committee")
    build_tree(registry, headers)
    good1, good2 = national_id(), national_id()
    csv_text = (
        "name,organisation_code,category,gender,national_id_number,phone\n"
        f"王一,B1,正式,男,{good1},13800000001\n"
        f"王二,B1,预备,女,{good2},\n"
        "王三,NOPE,正式,男,110105194912310021,\n"
        f"王四,B1,主席,男,{national_id()},\n"
        f"王五,B1,正式,男,{good1},\n"
    )
    post = {**headers, "Content-Type": "text/csv"}
    dry = httpx.post(
        f"{registry}/v1/members/import", params={"dry_run": "true"}, headers=post, content=csv_text.encode()
    )
    assert dry.status_code == 200, dry.text
    assert [r["line"] for r in dry.json()["accepted"]] == [2, 3]
    rejected = {r["line"]: " ".join(r["reasons"]) for r in dry.json()["rejected"]}
    assert "check digit" in rejected[4] and "category" in rejected[5] and "earlier in the file" in rejected[6]
    assert httpx.get(f"{registry}/v1/members", headers=headers).json()["items"] == []

    report = httpx.post(f"{registry}/v1/members/import", headers=post, content=csv_text.encode()).json()
    assert len(report["accepted"]) == 2 and len(report["rejected"]) == 3
    again = httpx.post(f"{registry}/v1/members/import", headers=post, content=csv_text.encode()).json()
    assert again["accepted"] == [] and "already imported" in again["rejected"][0]["reasons"][0]

    roll = eventually(
        lambda: (
            (items := httpx.get(f"{registry}/v1/members", headers=headers).json()["items"])
            and len(items) == 2
            and items
        ),
        what="two imported members",
    )
    assert sorted(m["name"] for m in roll) == ["王一", "王二"]

    export = httpx.get(f"{registry}/v1/members/export.csv", headers=headers)
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert "王一" in export.text and good1 not in export.text and "13800000001" not in export.text
    assert f"{'*' * 14}{good1[-4:]}" in export.text


def test_an_import_is_refused_for_a_branch_secretary_and_for_a_non_csv_body(running: Running) -> None:
    registry, tenant = running.url("registry"), new_tenant()
    assert (
        httpx.post(
            f"{registry}/v1/members/import",
            headers={**running.auth(tenant, "branch_secretary"), "Content-Type": "text/csv"},
            content=b"name\n",
        ).status_code
        == 403
    )
    wrong = httpx.post(
        f"{registry}/v1/members/import", headers=running.auth(tenant, "committee"), json={"a": 1}
    )
    assert wrong.status_code == 422 and wrong.json()["field"] == "content-type"
