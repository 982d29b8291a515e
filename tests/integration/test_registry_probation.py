"""Probation over HTTP: the registry owns the period (extension of 6-12 months only, cancellation), reminds the
branch a month before the end through the shared scheduler, and carries it across a transfer with the 突击发展
check."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from tests.integration.conftest import Infra, Running, start_platform
from tests.integration.helpers import build_tree, eventually, national_id, new_tenant
from tests.integration.jetstream import messages

pytestmark = pytest.mark.integration
BEIJING = timezone(timedelta(hours=8))


@pytest.fixture(scope="module")
def platform(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = start_platform(
        infra,
        tmp_path_factory.mktemp("probation"),
        services=("registry", "transfer"),
        extra_env={"TEST_CLOCK": "true"},
    )
    try:
        yield running
    finally:
        running.stop()


def today(running: Running) -> date:
    now = datetime.fromisoformat(httpx.get(f"{running.url('registry')}/_test/clock").json()["now"])
    return now.astimezone(BEIJING).date()


def probationer(registry: str, headers: dict[str, str], branch: str, joined_on: date) -> dict[str, Any]:
    registered = httpx.post(
        f"{registry}/v1/members",
        headers=headers,
        json={
            "name": "预备党员",
            "organisation_id": branch,
            "category": "probationary",
            "joined_on": joined_on.isoformat(),
            "national_id_number": national_id(),
        },
    )
    assert registered.status_code == 201, registered.text
    body: dict[str, Any] = registered.json()
    return body


def decide(
    registry: str, headers: dict[str, str], member_id: str, kind: str, **details: Any
) -> httpx.Response:
    return httpx.post(
        f"{registry}/v1/members/{member_id}/decisions",
        headers=headers,
        json={
            "kind": kind,
            "decided_on": "2026-11-20",
            "decided_by": "支部党员大会",
            "basis": "支部党员大会决议",
            "details": details,
        },
    )


def test_extensions_of_5_and_13_months_are_refused_and_6_moves_the_end(platform: Running) -> None:
    registry, tenant = platform.url("registry"), new_tenant()
    headers = platform.auth(tenant, "committee")
    _, branch = build_tree(registry, headers)
    m = probationer(registry, headers, branch, date(2026, 3, 10))
    period = httpx.get(f"{registry}/v1/members/{m['id']}/probation", headers=headers).json()
    assert (period["admitted_on"], period["ends_on"], period["state"]) == (
        "2026-03-10",
        "2027-03-10",
        "running",
    )
    for months in (5, 13):
        refused = decide(registry, headers, m["id"], "probation_extension", months=months)
        assert refused.status_code == 422 and refused.json()["field"] == "details.months", refused.text
    assert decide(registry, headers, m["id"], "probation_extension", months=6).status_code == 200
    period = httpx.get(f"{registry}/v1/members/{m['id']}/probation", headers=headers).json()
    assert period["ends_on"] == "2027-09-10" and period["reminder_on"] == "2027-08-10"
    again = decide(registry, headers, m["id"], "probation_extension", months=6)
    assert again.status_code == 422 and "once" in again.json()["detail"]
    corrected = httpx.patch(
        f"{registry}/v1/members/{m['id']}", headers=headers, json={"joined_on": "2026-02-10"}
    )
    assert corrected.status_code == 200, corrected.text
    period = httpx.get(f"{registry}/v1/members/{m['id']}/probation", headers=headers).json()
    assert period["admitted_on"] == "2026-02-10" and period["ends_on"] == "2027-08-10"
    stranger = platform.auth(new_tenant(), "committee")
    assert httpx.get(f"{registry}/v1/members/{m['id']}/probation", headers=stranger).status_code == 404
    assert decide(registry, stranger, m["id"], "probation_cancellation").status_code == 404


def test_cancellation_takes_the_member_off_the_roll(platform: Running) -> None:
    registry, tenant = platform.url("registry"), new_tenant()
    headers = platform.auth(tenant, "committee")
    _, branch = build_tree(registry, headers)
    m = probationer(registry, headers, branch, date(2026, 3, 10))
    assert decide(registry, headers, m["id"], "probation_cancellation").status_code == 200
    assert (
        httpx.get(f"{registry}/v1/members/{m['id']}/probation", headers=headers).json()["state"]
        == "cancelled"
    )
    member = eventually(
        lambda: (
            (r := httpx.get(f"{registry}/v1/members/{m['id']}", headers=headers).json())["roll"]
            == "struck_off"
            and r
        ),
        what="the member off the roll",
    )
    assert member["category"] == "probationary"


def test_the_branch_is_reminded_a_month_before_the_end(platform: Running) -> None:
    registry, tenant = platform.url("registry"), new_tenant()
    headers = platform.auth(tenant, "committee")
    _, branch = build_tree(registry, headers)
    m = probationer(registry, headers, branch, today(platform) - timedelta(days=200))
    period = httpx.get(f"{registry}/v1/members/{m['id']}/probation", headers=headers).json()
    reminder_on = date.fromisoformat(period["reminder_on"])

    def ending() -> list[dict[str, Any]]:
        found = [
            json.loads(msg.data)
            for msg in messages(
                platform.platform.nats_url, "LIANXIN_REGISTRY", f"lianxin.registry.{tenant}.>"
            )
        ]
        return [e for e in found if e["type"] == "cn.lianxin.registry.probation_ending.v1"]

    before = datetime.combine(reminder_on, datetime.min.time(), BEIJING) + timedelta(hours=8)
    now = datetime.fromisoformat(httpx.get(f"{registry}/_test/clock").json()["now"])
    httpx.post(f"{registry}/_test/clock/advance", json={"seconds": (before - now).total_seconds()})
    assert ending() == [], "08:00 on the day: not yet"
    httpx.post(f"{registry}/_test/clock/advance", json={"seconds": 2 * 3600})
    (published,) = eventually(ending, timeout=30, what="the probation reminder")
    assert published["data"]["member_id"] == m["id"] and published["data"]["ends_on"] == period["ends_on"]


@pytest.mark.parametrize(("days_before", "rush"), [(60, True), (120, False)])
def test_probation_follows_a_transfer_and_a_recent_admission_is_flagged(
    platform: Running, days_before: int, rush: bool
) -> None:
    registry, transfer = platform.url("registry"), platform.url("transfer")
    sender, receiver = new_tenant(), new_tenant()
    s, rc = platform.auth(sender, "committee"), platform.auth(receiver, "committee")
    _, s_branch = build_tree(registry, s)
    _, r_branch = build_tree(registry, rc)
    joined = today(platform) - timedelta(days=days_before)
    m = probationer(registry, s, s_branch, joined)
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
    ).json()
    assert httpx.post(f"{transfer}/v1/transfers/{case['id']}/branch-approval", headers=s).status_code == 200
    approved = httpx.post(
        f"{transfer}/v1/transfers/{case['id']}/committee-approval",
        headers=s,
        json={"dues_paid_through": "2026-10", "issuer_address": "北京市", "issuer_phone": "010-1"},
    )
    assert approved.status_code == 200, approved.text
    eventually(
        lambda: httpx.get(f"{transfer}/v1/transfers/{case['id']}", headers=s).json()["letter"],
        timeout=30,
        what="the letter",
    )
    assert httpx.post(f"{transfer}/v1/transfers/{case['id']}/acceptance", headers=rc).status_code == 200
    assert (
        httpx.post(f"{transfer}/v1/transfers/{case['id']}/check-in", headers=rc, json={}).status_code == 200
    )
    arrived = eventually(
        lambda: httpx.get(f"{transfer}/v1/transfers/{case['id']}", headers=s).json()["enrolled_member_id"],
        timeout=30,
        what="the enrolment",
    )
    period = httpx.get(f"{registry}/v1/members/{arrived}/probation", headers=rc)
    assert period.status_code == 200, period.text
    assert period.json()["admitted_on"] == joined.isoformat() and period.json()["rush_admission"] is rush
