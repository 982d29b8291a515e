"""Learning's probation over HTTP and NATS: thought reports and their duty, assessment, appraisal, extension."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import uuid4

import httpx
import pytest

from shared.printing import inspect_pdf
from tests.integration.conftest import Running
from tests.integration.helpers import eventually
from tests.integration.jetstream import messages
from tests.integration.learning_world import (
    SHANGHAI,
    Tenant,
    advance,
    announce,
    learning_platform,
    new_branch_tenant,
    now,
    ok,
    problem_type,
    quarter_of,
)

pytestmark = pytest.mark.integration
running = pytest.fixture(scope="module", name="running")(learning_platform)


@dataclass(frozen=True)
class ThoughtReport:
    """Once for the module: a probationary member's report, acknowledged, with the secretary's assessment."""

    tenant: Tenant
    probationary: str
    full: str
    report: dict[str, Any]
    acknowledged: dict[str, Any]


@pytest.fixture(scope="module")
def reported(running: Running) -> ThoughtReport:
    t = new_branch_tenant(running)
    probationary, full = t.known_member("probationary"), t.known_member()
    report = ok(
        httpx.post(
            f"{t.url}/v1/thought-reports",
            headers=t.member_token(probationary),
            json={"title": "第四季度思想汇报", "body": "本季度我认真学习了……"},
        ),
        201,
    )
    acknowledged = ok(
        httpx.post(
            f"{t.url}/v1/thought-reports/{report['id']}/acknowledgement",
            headers=t.secretary(),
            json={"comment": "已阅，继续保持"},
        )
    )
    ok(
        httpx.put(
            f"{t.url}/v1/probation/{probationary}/assessment",
            headers=t.secretary(),
            json={"text": "该同志预备期间表现良好，按时提交思想汇报。"},
        )
    )
    return ThoughtReport(t, probationary, full, report, acknowledged)


def _summary(r: ThoughtReport) -> dict[str, Any]:
    def ready() -> dict[str, Any] | None:
        s: dict[str, Any] = ok(
            httpx.get(f"{r.tenant.url}/v1/probation/{r.probationary}/summary", headers=r.tenant.secretary())
        )
        return s if s["assessment"]["text"] and s["thought_reports"][-1]["status"] == "submitted" else None

    found: dict[str, Any] = eventually(ready, what="the probation summary")
    return found


def _duties(running: Running, tenant: Tenant) -> list[dict[str, Any]]:
    subject = f"lianxin.learning.{tenant.id}.thought_report_due"
    return [
        json.loads(m.data)["data"] for m in messages(running.platform.nats_url, "LIANXIN_LEARNING", subject)
    ]


def test_a_full_member_is_not_eligible_to_submit_a_thought_report(reported: ThoughtReport) -> None:
    t = reported.tenant
    refused = httpx.post(
        f"{t.url}/v1/thought-reports", headers=t.member_token(reported.full), json={"title": "x", "body": "y"}
    )
    assert problem_type(refused, 409) == "not-eligible"


def test_a_secretary_acknowledges_a_thought_report(reported: ThoughtReport) -> None:
    assert reported.acknowledged["acknowledged_by"]


def test_the_probation_summary_shows_the_assessment_and_the_submitted_report(reported: ThoughtReport) -> None:
    summary = _summary(reported)
    assert summary["extension_months"] == 0 and summary["days_left"] > 300
    assert summary["thought_reports"][-1]["quarter"] == reported.report["quarter"]


def test_the_probation_summary_counts_attendance_and_study(reported: ThoughtReport) -> None:
    summary = _summary(reported)
    assert set(summary["attendance"]) >= {"present", "excused", "absent"} and "check_ins" in summary["study"]


def test_the_due_list_shows_the_probationary_members_submitted_report(reported: ThoughtReport) -> None:
    t = reported.tenant
    due = ok(
        httpx.get(
            f"{t.url}/v1/thought-reports/due",
            headers=t.secretary(),
            params={"quarter": reported.report["quarter"]},
        )
    )
    assert due["members"] == [
        {"member_id": reported.probationary, "organisation_id": t.branch, "status": "submitted"}
    ]


def test_a_probationary_member_reads_their_own_summary(reported: ThoughtReport) -> None:
    t = reported.tenant
    mine = ok(
        httpx.get(
            f"{t.url}/v1/probation/{reported.probationary}/summary",
            headers=t.member_token(reported.probationary),
        )
    )
    assert mine["member_id"] == reported.probationary


def test_the_quarters_thought_report_duty_is_announced_for_probationary_members_only(
    reported: ThoughtReport, running: Running
) -> None:
    duties = eventually(lambda: _duties(running, reported.tenant), what="the quarter's thought report duty")
    assert [d["member_id"] for d in duties] == [reported.probationary]
    assert duties[0]["quarter"] == reported.report["quarter"]


@dataclass(frozen=True)
class Appraisal:
    tenant: Tenant
    members: list[str]
    meeting: dict[str, Any]


@pytest.fixture
def appraisal(running: Running) -> Appraisal:
    """A democratic appraisal (民主评议) of a branch of three, one of them probationary, with a self-assessment."""
    t = new_branch_tenant(running)
    members = [t.known_member("probationary"), t.known_member(), t.known_member()]
    t.open_all_day()
    meeting = announce(t, "democratic_appraisal")
    ok(
        httpx.put(
            f"{t.url}/v1/meetings/{meeting['id']}/speaking-order",
            headers=t.secretary(),
            json={"member_ids": members},
        )
    )
    ok(
        httpx.post(
            f"{t.url}/v1/meetings/{meeting['id']}/self-assessments",
            headers=t.member_token(members[0]),
            json={"text": "本年度我认真履行党员义务……"},
        ),
        201,
    )
    return Appraisal(t, members, meeting)


def _grade(a: Appraisal, *grades: str) -> httpx.Response:
    return httpx.put(
        f"{a.tenant.url}/v1/meetings/{a.meeting['id']}/grades",
        headers=a.tenant.secretary(),
        json={"grades": dict(zip(a.members, grades, strict=True))},
    )


def test_an_appraisal_grades_at_most_a_third_of_the_branch_excellent(appraisal: Appraisal) -> None:
    assert problem_type(_grade(appraisal, "excellent", "excellent", "qualified"), 422) == "invalid-appraisal"


def test_an_appraisal_records_the_grades_and_the_speaking_order(appraisal: Appraisal) -> None:
    graded = ok(_grade(appraisal, "excellent", "qualified", "basically_qualified"))
    assert graded["grades"][appraisal.members[0]] == "excellent"
    assert graded["speaking_order"] == appraisal.members


def test_a_member_sees_neither_grades_nor_self_assessments(appraisal: Appraisal) -> None:
    seen = ok(
        httpx.get(
            f"{appraisal.tenant.url}/v1/meetings/{appraisal.meeting['id']}",
            headers=appraisal.tenant.member_token(appraisal.members[1]),
        )
    )
    assert "grades" not in seen and "self_assessments" not in seen


def test_the_appraisal_form_prints_a_page_per_member_with_the_font_embedded(appraisal: Appraisal) -> None:
    ok(_grade(appraisal, "excellent", "qualified", "basically_qualified"))
    url = f"{appraisal.tenant.url}/v1/meetings/{appraisal.meeting['id']}/appraisal-form.pdf"
    form = httpx.get(url, headers=appraisal.tenant.secretary())
    assert form.status_code == 200 and form.headers["content-type"] == "application/pdf"
    printed = inspect_pdf(form.content)
    assert printed.fonts and all(flag for _, flag in printed.fonts), printed.fonts
    flat = printed.text.replace("\n", "")  # a long member number wraps in its box
    assert printed.pages == 3 and "本年度我认真履行党员义务" in flat and appraisal.members[2] in flat
    assert httpx.get(url, headers=appraisal.tenant.member_token(appraisal.members[1])).status_code == 403


def _probationary(running: Running) -> tuple[Tenant, str]:
    t = new_branch_tenant(running)
    member = t.known_member("probationary")
    t.probation(member, date(2026, 1, 15))  # the registry corrected the 支部大会 date
    eventually(
        lambda: (
            httpx.get(f"{t.url}/v1/probation/{member}/summary", headers=t.secretary())
            .json()
            .get("admitted_on")
            == "2026-01-15"
        ),
        what="the registry's admission date",
    )
    return t, member


def test_an_extension_recorded_in_the_registry_moves_the_end_of_probation(running: Running) -> None:
    t, member = _probationary(running)
    t.probation(member, date(2026, 1, 15), extension_months=6)
    summary = eventually(
        lambda: (
            (s := ok(httpx.get(f"{t.url}/v1/probation/{member}/summary", headers=t.secretary())))["ends_on"]
            == "2027-07-15"
            and s
        ),
        what="the registry's extension in the summary",
    )
    assert summary["extension_months"] == 6


def test_learning_keeps_no_probation_dates_of_its_own(running: Running) -> None:
    t, member = _probationary(running)
    for method, path, body in (
        ("POST", "extension", {"months": 6, "basis": "x"}),
        ("PUT", "admission-date", {"admitted_on": "2026-02-01"}),
    ):
        response = httpx.request(
            method, f"{t.url}/v1/probation/{member}/{path}", headers=t.secretary(), json=body
        )
        assert response.status_code in (404, 405), "the registry records probation decisions"


def test_the_summary_shows_the_tenants_quota_met_or_not_and_decides_nothing(running: Running) -> None:
    t, member = _probationary(running)
    ok(
        httpx.patch(
            f"{t.url}/v1/options",
            headers=t.committee(),
            json={"probation_quota": {"thought_reports": 0, "meetings_attended": 0, "study_check_ins": 1}},
        )
    )
    summary = ok(httpx.get(f"{t.url}/v1/probation/{member}/summary", headers=t.secretary()))
    quota = summary["quota"]
    assert quota["items"]["thought_reports"] == {"target": 0, "actual": 0, "met": True}
    assert quota["items"]["study_check_ins"]["met"] is False and quota["met"] is False
    assert "decides nothing" in summary["decision"]


def test_a_secretary_of_another_branch_cannot_read_a_probation_summary(running: Running) -> None:
    t, member = _probationary(running)
    other_branch = {"Authorization": f"Bearer {running.token(t.id, 'branch_secretary', orgs=[str(uuid4())])}"}
    assert httpx.get(f"{t.url}/v1/probation/{member}/summary", headers=other_branch).status_code == 403


# Last in the module: it moves learning's clock into the next quarter, past what the tests above read.
def test_the_next_quarter_announces_the_next_duty(running: Running) -> None:
    t = new_branch_tenant(running)
    probationary = t.known_member("probationary")
    eventually(lambda: _duties(running, t), what="this quarter's duty")
    local = now(running).astimezone(SHANGHAI)
    first_month = (local.month - 1) // 3 * 3 + 1
    next_start = datetime(
        local.year + (first_month == 10), first_month + 3 if first_month < 10 else 1, 1, tzinfo=SHANGHAI
    )
    advance(running, (next_start - local).total_seconds() + 2 * 86400)
    both = eventually(
        lambda: (lambda d: d if len(d) == 2 else None)(_duties(running, t)), what="the next quarter's duty"
    )
    assert both[1]["quarter"] == quarter_of(next_start) and both[1]["member_id"] == probationary
