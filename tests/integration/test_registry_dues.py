"""The dues ledger over HTTP: rates, the yearly amount, payments and corrections, arrears at 3 and 6 months, the
dues clock of the self-lapse rule, the yearly report, and the ledger following a transfer onto the letter."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from tests.integration.conftest import Infra, Running, start_platform
from tests.integration.helpers import build_tree, eventually, national_id, new_tenant

pytestmark = pytest.mark.integration
BEIJING = timezone(timedelta(hours=8))


@pytest.fixture(scope="module")
def platform(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = start_platform(
        infra,
        tmp_path_factory.mktemp("dues"),
        services=("registry", "transfer"),
        extra_env={"TEST_CLOCK": "true"},
    )
    try:
        yield running
    finally:
        running.stop()


def now(running: Running) -> datetime:
    return datetime.fromisoformat(httpx.get(f"{running.url('registry')}/_test/clock").json()["now"])


def advance_to(running: Running, moment: datetime) -> None:
    seconds = (moment - now(running)).total_seconds()
    assert seconds >= 0, "time only moves forward"
    response = httpx.post(f"{running.url('registry')}/_test/clock/advance", json={"seconds": seconds})
    assert response.status_code == 200, response.text


def month(moment: datetime) -> str:
    local = moment.astimezone(BEIJING)
    return f"{local.year:04d}-{local.month:02d}"


def plus(first: str, n: int) -> str:
    index = int(first[:4]) * 12 + int(first[5:]) - 1 + n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def starts(registry: str, headers: dict[str, str], member_id: str) -> str:
    """The ledger's first month: the month the member came on the roll."""
    ledger = httpx.get(f"{registry}/v1/members/{member_id}/dues", headers=headers)
    assert ledger.status_code == 200, ledger.text
    assert ledger.json()["paid_through"] is None and ledger.json()["payments"] == []
    first: str = ledger.json()["starts"]
    return first


def member(registry: str, headers: dict[str, str], branch: str, **extra: Any) -> dict[str, Any]:
    registered = httpx.post(
        f"{registry}/v1/members",
        headers=headers,
        json={"name": "张党费", "organisation_id": branch, "category": "full", **extra},
    )
    assert registered.status_code == 201, registered.text
    body: dict[str, Any] = registered.json()
    return body


def fix(registry: str, headers: dict[str, str], member_id: str, *months: str) -> None:
    """The monthly amount for every year the months fall in: 4000 yuan after tax is 40.00 a month."""
    for year in sorted({m[:4] for m in months}):
        fixed = httpx.put(
            f"{registry}/v1/members/{member_id}/dues/amounts/{year}",
            headers=headers,
            json={"income_kind": "employed", "base_income": "4000"},
        )
        assert fixed.status_code == 200, fixed.text
        assert fixed.json()["amounts"][year] == "40.00"


def pay(registry: str, headers: dict[str, str], member_id: str, *months: str) -> httpx.Response:
    return httpx.post(
        f"{registry}/v1/members/{member_id}/dues/payments",
        headers=headers,
        json={"months": list(months), "amount": f"{40 * len(months)}.00"},
    )


def test_the_rate_table_defaults_to_2008_and_only_admins_change_it(platform: Running) -> None:
    registry, tenant = platform.url("registry"), new_tenant()
    rates = httpx.get(f"{registry}/v1/dues/rates", headers=platform.auth(tenant, "branch_secretary")).json()
    assert rates["employed"][0] == {"up_to": "3000", "rate": "0.005"} and rates["fixed"]["student"] == "0.20"
    fixed = {"student": "0.20", "unemployed": "0.20", "subsistence_allowance": "0.20", "farmer": "1.00"}
    assert (
        httpx.put(
            f"{registry}/v1/dues/rates",
            headers=platform.auth(tenant, "branch_secretary"),
            json={"fixed": fixed},
        ).status_code
        == 403
    )
    changed = httpx.put(
        f"{registry}/v1/dues/rates", headers=platform.auth(tenant, "tenant_admin"), json={"fixed": fixed}
    )
    assert changed.status_code == 200 and changed.json()["fixed"]["farmer"] == "1.00"
    refused = httpx.put(
        f"{registry}/v1/dues/rates",
        headers=platform.auth(tenant, "tenant_admin"),
        json={"retired": [{"up_to": "5000", "rate": "0.005"}]},
    )
    assert refused.status_code == 422 and refused.json()["field"] == "retired[0].up_to", refused.text
    other = httpx.get(f"{registry}/v1/dues/rates", headers=platform.auth(new_tenant(), "committee")).json()
    assert other["fixed"]["farmer"] == "0.20", "one tenant's table is not another's"


def test_payments_corrections_and_refusals_through_the_api(platform: Running) -> None:
    registry, tenant = platform.url("registry"), new_tenant()
    headers = platform.auth(tenant, "committee")
    _, branch = build_tree(registry, headers)
    m = member(registry, headers, branch)
    this = starts(registry, headers, m["id"])
    unfixed = pay(registry, headers, m["id"], this)
    assert unfixed.status_code == 409 and unfixed.json()["field"] == "months", unfixed.text
    fix(registry, headers, m["id"], this, plus(this, 2))
    wrong = httpx.post(
        f"{registry}/v1/members/{m['id']}/dues/payments",
        headers=headers,
        json={"months": [this], "amount": "41.00"},
    )
    assert wrong.status_code == 422 and wrong.json()["field"] == "amount"
    bad = httpx.post(
        f"{registry}/v1/members/{m['id']}/dues/payments",
        headers=headers,
        json={"months": ["2026-13"], "amount": "40.00"},
    )
    assert bad.status_code == 422 and bad.json()["field"] == "months"

    paid = pay(registry, headers, m["id"], this, plus(this, 1), plus(this, 2))
    assert paid.status_code == 201, paid.text
    ledger = paid.json()
    assert ledger["paid_through"] == plus(this, 2)
    (payment,) = ledger["payments"]
    assert (
        payment["mode"] in ("quarterly", "advance") and payment["recorded_by"] and payment["voided"] is None
    )
    again = pay(registry, headers, m["id"], this)
    assert again.status_code == 409 and "already paid" in again.json()["detail"]

    corrected = httpx.post(
        f"{registry}/v1/members/{m['id']}/dues/payments/{payment['payment_id']}/correction",
        headers=headers,
        json={"reason": "录入错误"},
    )
    assert corrected.status_code == 200 and corrected.json()["paid_through"] is None
    assert corrected.json()["payments"][0]["voided"] == "录入错误", "the payment stays in the ledger, voided"

    secretary = platform.auth(tenant, "branch_secretary", orgs=["00000000-0000-0000-0000-000000000001"])
    assert pay(registry, secretary, m["id"], this).status_code == 404, "outside the secretary's branches"
    stranger = platform.auth(new_tenant(), "committee")
    assert httpx.get(f"{registry}/v1/members/{m['id']}/dues", headers=stranger).status_code == 404
    assert pay(registry, stranger, m["id"], this).status_code == 404


def test_arrears_at_3_and_6_months_and_the_sixth_unpaid_month_opens_a_review(platform: Running) -> None:
    registry, tenant = platform.url("registry"), new_tenant()
    headers = platform.auth(tenant, "committee")
    # Only the dues clock runs here: org life and silence thresholds are set far away.
    assert (
        httpx.put(
            f"{registry}/v1/settings",
            headers=headers,
            json={"self_lapse_days": 730, "at_risk_days": 365, "lost_contact_days": 730},
        ).status_code
        == 200
    )
    _, branch = build_tree(registry, headers)
    m = member(registry, headers, branch)
    start = starts(registry, headers, m["id"])
    fix(registry, headers, m["id"], start, plus(start, 7))
    assert pay(registry, headers, m["id"], start).status_code == 201
    status = httpx.get(f"{registry}/v1/members/{m['id']}/contact-status", headers=headers).json()
    lapse_at = datetime.fromisoformat(status["dues_lapse_at"])
    assert month(lapse_at) == plus(start, 7) and lapse_at.astimezone(BEIJING).day == 1

    def arrears(months: int) -> dict[str, Any]:
        listed = httpx.get(f"{registry}/v1/dues/arrears", headers=headers, params={"months": months})
        assert listed.status_code == 200, listed.text
        return {a["member_id"]: a for a in listed.json()}

    # Three months ended unpaid: on the 3-month list, not on the 6-month one.
    advance_to(platform, datetime.fromisoformat(f"{plus(start, 4)}-01T01:00:00+08:00"))
    assert arrears(3)[m["id"]]["unpaid_months"] == 3 and m["id"] not in arrears(4)
    # One minute before the sixth unpaid month ends: five months, no review.
    advance_to(platform, lapse_at - timedelta(minutes=1))
    assert m["id"] not in arrears(6) and arrears(5)[m["id"]]["paid_through"] == start
    cases = httpx.get(f"{registry}/v1/contact-cases", headers=headers).json()
    assert m["id"] not in {c["member_id"] for c in cases}
    # The sixth month ends unpaid: the review opens on the dues clock, for people to decide.
    advance_to(platform, lapse_at + timedelta(minutes=1))
    late = arrears(6)[m["id"]]
    assert late["longest_unpaid_run"] == 6 and late["self_lapse_rule_met"] is True
    review = eventually(
        lambda: next(
            (
                c
                for c in httpx.get(f"{registry}/v1/contact-cases", headers=headers).json()
                if c["member_id"] == m["id"]
            ),
            None,
        ),
        timeout=30,
        what="the self-lapse review",
    )
    assert review["state"] == "self_lapse_review" and review["self_lapse_ground"] == "dues"
    standing = httpx.get(f"{registry}/v1/members/{m['id']}", headers=headers).json()
    assert standing["standing"] == "active" and standing["roll"] == "on_roll", "除名 is the branch's decision"


def test_the_branch_publishes_its_yearly_collection_as_json_and_csv(platform: Running) -> None:
    registry, tenant = platform.url("registry"), new_tenant()
    headers = platform.auth(tenant, "committee")
    _, branch = build_tree(registry, headers)
    payers = [member(registry, headers, branch) for _ in range(2)]
    this = starts(registry, headers, payers[0]["id"])
    year = this[:4]
    for m in payers:
        fix(registry, headers, m["id"], this)
        assert pay(registry, headers, m["id"], this).status_code == 201
    report = eventually(
        lambda: (
            (
                r := httpx.get(
                    f"{registry}/v1/organisations/{branch}/dues/report",
                    headers=headers,
                    params={"year": year},
                ).json()
            )["total"]
            == "80.00"
            and r
        ),
        what="the payments in the report",
    )
    assert {m["month"]: m["members_paid"] for m in report["months"]}[this] == 2
    assert {r["member_id"] for r in report["members"]} == {m["id"] for m in payers}
    exported = httpx.get(
        f"{registry}/v1/organisations/{branch}/dues/report",
        headers=headers,
        params={"year": year, "format": "csv"},
    )
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert len(rows) == 14 and rows[-1] == ["合计 total", "", "80.00"]
    assert (
        httpx.get(
            f"{registry}/v1/organisations/{branch}/dues/report",
            params={"year": year},
            headers=platform.auth(new_tenant(), "committee"),
        ).status_code
        == 404
    )


def test_the_letter_takes_dues_paid_through_from_the_ledger_and_the_ledger_follows_the_member(
    platform: Running,
) -> None:
    registry, transfer = platform.url("registry"), platform.url("transfer")
    sender, receiver = new_tenant(), new_tenant()
    s, rc = platform.auth(sender, "committee"), platform.auth(receiver, "committee")
    _, s_branch = build_tree(registry, s)
    _, r_branch = build_tree(registry, rc)
    m = member(registry, s, s_branch, national_id_number=national_id())
    this = starts(registry, s, m["id"])
    nxt = plus(this, 1)
    fix(registry, s, m["id"], this, nxt)

    def request() -> dict[str, Any]:
        case = httpx.post(
            f"{transfer}/v1/transfers",
            headers=s,
            json={
                "member_id": m["id"],
                "destination": "other_tenant",
                "receiving_tenant": receiver,
                "receiving_org_id": r_branch,
                "reason": "工作调动",
            },
        )
        assert case.status_code == 201, case.text
        assert (
            httpx.post(f"{transfer}/v1/transfers/{case.json()['id']}/branch-approval", headers=s).status_code
            == 200
        )
        body: dict[str, Any] = case.json()
        return body

    case = request()
    approval = {"issuer_address": "北京市海淀区学院路1号", "issuer_phone": "010-62000000"}
    unknown = httpx.post(f"{transfer}/v1/transfers/{case['id']}/committee-approval", headers=s, json=approval)
    assert unknown.status_code == 422 and unknown.json()["field"] == "dues_paid_through", unknown.text

    assert pay(registry, s, m["id"], this, nxt).status_code == 201
    # A typed value is only a fallback: the ledger wins.
    approved = httpx.post(
        f"{transfer}/v1/transfers/{case['id']}/committee-approval",
        headers=s,
        json={**approval, "dues_paid_through": "2001-01"},
    )
    assert approved.status_code == 200, approved.text

    def case_now() -> dict[str, Any]:
        body: dict[str, Any] = httpx.get(f"{transfer}/v1/transfers/{case['id']}", headers=s).json()
        return body

    issued = eventually(lambda: (c := case_now())["letter"] and c, timeout=30, what="the letter")
    assert issued["letter"]["dues_paid_through"] == nxt
    assert httpx.post(f"{transfer}/v1/transfers/{case['id']}/acceptance", headers=rc).status_code == 200
    assert (
        httpx.post(f"{transfer}/v1/transfers/{case['id']}/check-in", headers=rc, json={}).status_code == 200
    )
    arrived = eventually(lambda: case_now()["enrolled_member_id"], timeout=30, what="the enrolment")

    ledger = httpx.get(f"{registry}/v1/members/{arrived}/dues", headers=rc)
    assert ledger.status_code == 200, ledger.text
    assert ledger.json()["paid_through"] == nxt and ledger.json()["carried_from_tenant"] == sender
    assert ledger.json()["payments"] == [], "the receiver sees what is paid, not the sender's records"
    assert httpx.get(f"{registry}/v1/members/{arrived}/dues", headers=s).status_code == 404
    after = plus(this, 2)
    fix(registry, rc, str(arrived), after)
    assert pay(registry, rc, str(arrived), after).json()["paid_through"] == after
