"""Learning end to end over HTTP and NATS against real PostgreSQL and NATS.

Only the learning service runs. The registry events it consumes (organisation_founded, member_registered,
inflow_registered, member_enrolled) are published onto LIANXIN_REGISTRY by the test in the registry's contract
shapes, with sequences increasing per upstream, so each scenario controls exactly what learning knows and when.
Time moves through learning's test clock.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.integration.conftest import Infra, Running, start_platform
from tests.integration.helpers import eventually, new_tenant
from tests.integration.jetstream import messages, publish

pytestmark = pytest.mark.integration
SEQUENCE = itertools.count(1)
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def running(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = start_platform(
        infra, tmp_path_factory.mktemp("learning"), services=("learning",), extra_env={"TEST_CLOCK": "true"}
    )
    try:
        yield running
    finally:
        running.stop()


@dataclass
class Tenant:
    """A tenant with one branch, as learning learns of it from the registry's events."""

    running: Running
    id: str
    branch: str

    @property
    def url(self) -> str:
        return self.running.url("learning")

    def secretary(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.running.token(self.id, 'branch_secretary', orgs=[self.branch])}"
        }

    def committee(self) -> dict[str, str]:
        return self.running.auth(self.id, "committee")

    def member_token(self, member_id: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.running.token(self.id, 'member', subject=f'member:{member_id}')}"
        }

    def register(self, category: str = "full") -> str:
        member_id = str(uuid4())
        registry_event(
            self.running,
            self.id,
            "member_registered",
            {
                "member_id": member_id,
                "organisation_id": self.branch,
                "category": category,
                "registered_on": now(self.running).astimezone(SHANGHAI).date().isoformat(),
            },
        )
        return member_id


def registry_event(running: Running, tenant: str, event: str, data: dict[str, Any]) -> None:
    """One registry CloudEvent, as the registry's relay would publish it."""
    sequence = next(SEQUENCE)
    envelope = {
        "specversion": "1.0",
        "id": f"{uuid4()}:1",
        "source": "/lianxin/registry",
        "type": f"cn.lianxin.registry.{event}.v1",
        "subject": str(uuid4()),
        "time": now(running).astimezone(SHANGHAI).isoformat(),
        "datacontenttype": "application/json",
        "tenantid": tenant,
        "sequence": str(sequence),
        "correlationid": str(uuid4()),
        "data": data,
    }
    publish(
        running.platform.nats_url,
        f"lianxin.registry.{tenant}.{event}",
        json.dumps(envelope).encode(),
        {"Nats-Msg-Id": envelope["id"]},
    )


def new_branch_tenant(running: Running) -> Tenant:
    tenant, root, branch = new_tenant(), str(uuid4()), str(uuid4())
    registry_event(
        running,
        tenant,
        "organisation_founded",
        {"organisation_id": root, "parent_id": None, "kind": "primary_committee"},
    )
    registry_event(
        running,
        tenant,
        "organisation_founded",
        {"organisation_id": branch, "parent_id": root, "kind": "branch"},
    )
    return Tenant(running, tenant, branch)


def now(running: Running) -> datetime:
    return datetime.fromisoformat(httpx.get(f"{running.url('learning')}/_test/clock").json()["now"])


def advance(running: Running, seconds: float) -> datetime:
    response = httpx.post(f"{running.url('learning')}/_test/clock/advance", json={"seconds": seconds})
    assert response.status_code == 200, response.text
    return datetime.fromisoformat(response.json()["now"])


def known(t: Tenant, member_id: str) -> None:
    """Wait until learning has consumed the member's registration (their history answers in the tenant)."""
    eventually(
        lambda: (
            httpx.get(f"{t.url}/v1/members/{member_id}/history", headers=t.committee()).status_code == 200
        ),
        what=f"learning to know member {member_id}",
    )


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def announce(
    t: Tenant, meeting_type: str = "themed_party_day", starts_in: timedelta = timedelta(days=4)
) -> dict:
    starts = now(t.running) + starts_in
    return ok(
        httpx.post(
            f"{t.url}/v1/meetings",
            headers={**t.secretary(), "Idempotency-Key": str(uuid4())},
            json={
                "organisation_id": t.branch,
                "meeting_type": meeting_type,
                "title": "十一月主题党日",
                "mode": "hybrid",
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=2)).isoformat(),
                "place": "党员活动室 / 线上会议",
                "agenda": ["重温入党誓词", "学习讨论"],
            },
        ),
        201,
    )


def test_a_mobile_member_attends_online_at_the_host_and_both_branches_count_it(running: Running) -> None:
    home, host = new_branch_tenant(running), new_branch_tenant(running)
    mobile = home.register()
    registry_event(
        running,
        home.id,
        "inflow_registered",
        {
            "registration_id": str(uuid4()),
            "member_id": mobile,
            "home_tenant": home.id,
            "home_org_id": home.branch,
            "host_tenant": host.id,
            "host_org_id": host.branch,
            "registered_on": "2026-11-01",
        },
    )
    known(host, mobile)
    meeting = announce(host)
    opinion = httpx.post(
        f"{host.url}/v1/meetings/{meeting['id']}/opinions",
        headers=host.member_token(mobile),
        json={"text": "建议结合流动党员实际安排线上学习"},
    )
    assert opinion.status_code == 201, opinion.text

    advance(running, 4 * 86400)
    signed = httpx.post(
        f"{host.url}/v1/meetings/{meeting['id']}/sign-in",
        headers=host.member_token(mobile),
        json={"method": "online", "location": "深圳市南山区"},
    )
    assert ok(signed, 201)["status"] == "present"
    again = httpx.post(
        f"{host.url}/v1/meetings/{meeting['id']}/sign-in",
        headers=host.member_token(mobile),
        json={"method": "online"},
    )
    assert again.status_code == 409 and again.json()["type"].endswith("already-signed-in")
    ok(
        httpx.post(
            f"{host.url}/v1/meetings/{meeting['id']}/minutes",
            headers=host.secretary(),
            json={"minutes": "到会党员重温入党誓词，讨论了……"},
        )
    )

    at_host = eventually(
        lambda: [
            a
            for a in ok(
                httpx.get(f"{host.url}/v1/meetings/{meeting['id']}/attendance", headers=host.secretary())
            )["attendance"]
            if a["member_id"] == mobile
        ],
        what="attendance at the host",
    )
    assert at_host[0]["method"] == "online"
    at_home = eventually(
        lambda: ok(httpx.get(f"{home.url}/v1/members/{mobile}/history", headers=home.secretary()))[
            "attendance"
        ],
        what="attendance at home",
    )
    assert at_home[0]["tenant"] == host.id and at_home[0]["status"] == "present"

    quarter = _quarter(datetime.fromisoformat(meeting["starts_at"]))
    cadence = eventually(
        lambda: [
            b
            for b in ok(
                httpx.get(f"{host.url}/v1/cadence", params={"quarter": quarter}, headers=host.secretary())
            )["branches"]
            if any(i["meeting_type"] == "themed_party_day" and i["held"] == 1 for i in b["items"])
        ],
        what="the cadence view",
    )
    assert cadence[0]["organisation_id"] == host.branch and cadence[0]["met"] is False  # 1 of 3 this quarter

    signals = eventually(
        lambda: messages(
            running.platform.nats_url, "LIANXIN_LEARNING", f"lianxin.learning.{home.id}.meeting_attended"
        ),
        what="contact signal",
    )
    data = json.loads(signals[0].data)["data"]
    assert data == {**data, "member_id": mobile, "tenant": home.id, "organisation_id": host.branch}
    assert "深圳" not in signals[0].data.decode()  # the shared location never leaves the service


def test_a_weekly_quiz_refuses_late_and_duplicate_answers_and_caps_points(running: Running) -> None:
    t = new_branch_tenant(running)
    member = t.register()
    known(t, member)
    ok(
        httpx.patch(
            f"{t.url}/v1/options",
            headers=t.committee(),
            json={
                "point_rules": {"quiz_correct_answer": {"points": 1, "daily_cap": 2}},
                "allowed_from": "00:00",
                "allowed_until": "00:00",
            },
        )
    )
    bank = ok(
        httpx.post(
            f"{t.url}/v1/question-banks",
            headers=t.secretary(),
            json={
                "title": "党章题库",
                "questions": [
                    {"id": f"q{i}", "text": f"第{i}题", "options": ["正确", "错误"], "answer": 0}
                    for i in range(3)
                ],
            },
        ),
        201,
    )
    opens = now(running)
    quiz = ok(
        httpx.post(
            f"{t.url}/v1/quizzes",
            headers=t.secretary(),
            json={
                "kind": "weekly",
                "title": "每周一测",
                "bank_id": bank["id"],
                "organisation_ids": [t.branch],
                "opens_at": opens.isoformat(),
                "closes_at": (opens + timedelta(hours=1)).isoformat(),
            },
        ),
        201,
    )
    assert all("answer" not in q for q in quiz["questions"])

    def answer(question: str) -> httpx.Response:
        return httpx.post(
            f"{t.url}/v1/quizzes/{quiz['id']}/answers",
            headers=t.member_token(member),
            json={"question_id": question, "choice": 0},
        )

    assert ok(answer("q0"), 201)["correct"] is True
    duplicate = answer("q0")
    assert duplicate.status_code == 409 and duplicate.json()["type"].endswith("already-answered")
    ok(answer("q1"), 201)
    ok(answer("q2"), 201)
    ledger = eventually(
        lambda: (lambda body: body if len(body["entries"]) == 3 else None)(
            ok(httpx.get(f"{t.url}/v1/points/members/{member}", headers=t.member_token(member)))
        ),
        what="three ledger entries",
    )
    assert ledger["total"] == 2 and [e["capped"] for e in ledger["entries"]].count(True) == 1

    advance(running, 2 * 3600)
    late = httpx.post(
        f"{t.url}/v1/quizzes/{quiz['id']}/answers",
        headers=t.member_token(member),
        json={"question_id": "q1", "choice": 0},
    )
    assert late.status_code == 409 and late.json()["type"].endswith("quiz-window-closed")
    rankings = httpx.get(f"{t.url}/v1/points/rankings", headers=t.member_token(member))
    assert rankings.status_code == 403 and rankings.json()["type"].endswith("rankings-off")
    rates = ok(httpx.get(f"{t.url}/v1/participation", headers=t.secretary()))["branches"]
    assert rates == [{"organisation_id": t.branch, "members": 1, "active": 1, "rate": 1.0}]


def test_a_check_in_outside_the_allowed_hours_is_refused(running: Running) -> None:
    t = new_branch_tenant(running)
    member = t.register()
    known(t, member)
    local = now(running).astimezone(SHANGHAI)
    opens, closes = local + timedelta(hours=1), local + timedelta(hours=2)
    ok(
        httpx.patch(
            f"{t.url}/v1/options",
            headers=t.committee(),
            json={"allowed_from": opens.strftime("%H:%M"), "allowed_until": closes.strftime("%H:%M")},
        )
    )
    refused = httpx.post(f"{t.url}/v1/check-ins", headers=t.member_token(member), json={"material": "党章"})
    assert refused.status_code == 409 and refused.json()["type"].endswith("outside-allowed-hours")
    advance(running, 3900)
    done = ok(
        httpx.post(
            f"{t.url}/v1/check-ins",
            headers=t.member_token(member),
            json={"material": "党章第一章", "evidence": "https://example.org/notes/1"},
        ),
        201,
    )
    assert done["member_id"] == member


def test_a_thought_report_is_acknowledged_and_shows_in_the_probation_summary(running: Running) -> None:
    t = new_branch_tenant(running)
    probationary, full = t.register("probationary"), t.register()
    known(t, probationary)
    known(t, full)
    refused = httpx.post(
        f"{t.url}/v1/thought-reports", headers=t.member_token(full), json={"title": "x", "body": "y"}
    )
    assert refused.status_code == 409 and refused.json()["type"].endswith("not-eligible")
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
    assert acknowledged["acknowledged_by"]
    ok(
        httpx.put(
            f"{t.url}/v1/probation/{probationary}/assessment",
            headers=t.secretary(),
            json={"text": "该同志预备期间表现良好，按时提交思想汇报。"},
        )
    )
    summary = eventually(
        lambda: (
            lambda s: (
                s if s["assessment"]["text"] and s["thought_reports"][-1]["status"] == "submitted" else None
            )
        )(ok(httpx.get(f"{t.url}/v1/probation/{probationary}/summary", headers=t.secretary()))),
        what="the probation summary",
    )
    assert summary["extension_months"] == 0 and summary["days_left"] > 300
    assert summary["thought_reports"][-1]["quarter"] == report["quarter"]
    assert set(summary["attendance"]) >= {"present", "excused", "absent"} and "check_ins" in summary["study"]
    due = ok(
        httpx.get(
            f"{t.url}/v1/thought-reports/due", headers=t.secretary(), params={"quarter": report["quarter"]}
        )
    )
    assert due["members"] == [{"member_id": probationary, "organisation_id": t.branch, "status": "submitted"}]
    mine = ok(httpx.get(f"{t.url}/v1/probation/{probationary}/summary", headers=t.member_token(probationary)))
    assert mine["member_id"] == probationary

    # The quarter's duty was announced for the probationary member only; the next quarter brings the next one.
    def dues() -> list[dict[str, Any]]:
        found = messages(
            running.platform.nats_url, "LIANXIN_LEARNING", f"lianxin.learning.{t.id}.thought_report_due"
        )
        return [json.loads(m.data)["data"] for m in found]

    first = eventually(dues, what="the quarter's thought report duty")
    assert [d["member_id"] for d in first] == [probationary] and first[0]["quarter"] == report["quarter"]
    local = now(running).astimezone(SHANGHAI)
    quarter_month = (local.month - 1) // 3 * 3 + 1  # first month of the current quarter
    next_start = datetime(
        local.year + (quarter_month == 10), quarter_month + 3 if quarter_month < 10 else 1, 1, tzinfo=SHANGHAI
    )
    advance(running, (next_start - local).total_seconds() + 2 * 86400)
    both = eventually(lambda: (lambda d: d if len(d) == 2 else None)(dues()), what="the next quarter's duty")
    assert both[1]["quarter"] == _quarter(next_start)


def test_an_appraisal_grades_at_most_a_third_excellent_and_a_course_earns_points_once(
    running: Running,
) -> None:
    t = new_branch_tenant(running)
    members = [t.register("probationary"), t.register(), t.register()]
    for m in members:
        known(t, m)
    all_day = {"allowed_from": "00:00", "allowed_until": "00:00"}
    ok(httpx.patch(f"{t.url}/v1/options", headers=t.committee(), json=all_day))
    appraisal = announce(t, "democratic_appraisal")
    ok(
        httpx.put(
            f"{t.url}/v1/meetings/{appraisal['id']}/speaking-order",
            headers=t.secretary(),
            json={"member_ids": members},
        )
    )
    ok(
        httpx.post(
            f"{t.url}/v1/meetings/{appraisal['id']}/self-assessments",
            headers=t.member_token(members[0]),
            json={"text": "本年度我认真履行党员义务……"},
        ),
        201,
    )
    too_many = httpx.put(
        f"{t.url}/v1/meetings/{appraisal['id']}/grades",
        headers=t.secretary(),
        json={"grades": {members[0]: "excellent", members[1]: "excellent", members[2]: "qualified"}},
    )
    assert too_many.status_code == 422 and too_many.json()["type"].endswith("invalid-appraisal")
    graded = ok(
        httpx.put(
            f"{t.url}/v1/meetings/{appraisal['id']}/grades",
            headers=t.secretary(),
            json={
                "grades": {
                    members[0]: "excellent",
                    members[1]: "qualified",
                    members[2]: "basically_qualified",
                }
            },
        )
    )
    assert graded["grades"][members[0]] == "excellent" and graded["speaking_order"] == members
    seen_by_member = ok(
        httpx.get(f"{t.url}/v1/meetings/{appraisal['id']}", headers=t.member_token(members[1]))
    )
    assert "grades" not in seen_by_member and "self_assessments" not in seen_by_member

    course = ok(
        httpx.post(
            f"{t.url}/v1/courses",
            headers=t.secretary(),
            json={
                "kind": "micro_lesson",
                "title": "微党课",
                "body": "……",
                "links": ["https://example.org/v.mp4"],
                "attachments": ["doc:ppt-1"],
                "organisation_ids": [t.branch],
            },
        ),
        201,
    )
    assert [c["id"] for c in ok(httpx.get(f"{t.url}/v1/courses", headers=t.member_token(members[1])))] == [
        course["id"]
    ]
    for percent in (50, 100, 100):
        ok(
            httpx.put(
                f"{t.url}/v1/courses/{course['id']}/progress",
                headers=t.member_token(members[1]),
                json={"percent": percent},
            )
        )
    totals = eventually(
        lambda: ok(httpx.get(f"{t.url}/v1/points/totals", headers=t.secretary(), params={"by": "member"}))[
            "totals"
        ],
        what="point totals",
    )
    assert totals == [{"member_id": members[1], "points": 1}]

    ok(
        httpx.put(
            f"{t.url}/v1/probation/{members[0]}/admission-date",
            headers=t.secretary(),
            json={"admitted_on": "2026-01-15"},
        )
    )
    extended = ok(
        httpx.post(
            f"{t.url}/v1/probation/{members[0]}/extension",
            headers=t.secretary(),
            json={"months": 6, "basis": "第5次支部党员大会决议"},
        )
    )
    assert extended["ends_on"] == "2027-07-15"
    again = httpx.post(
        f"{t.url}/v1/probation/{members[0]}/extension",
        headers=t.secretary(),
        json={"months": 6, "basis": "again"},
    )
    assert again.status_code == 422
    other_branch = {"Authorization": f"Bearer {running.token(t.id, 'branch_secretary', orgs=[str(uuid4())])}"}
    assert httpx.get(f"{t.url}/v1/probation/{members[0]}/summary", headers=other_branch).status_code == 403


def test_history_reaches_the_receiving_tenant_after_a_transfer_and_not_before(running: Running) -> None:
    sender, receiver = new_branch_tenant(running), new_branch_tenant(running)
    leaving, staying = sender.register(), sender.register()
    known(sender, leaving)
    ok(
        httpx.patch(
            f"{sender.url}/v1/options",
            headers=sender.committee(),
            json={"allowed_from": "00:00", "allowed_until": "00:00"},
        )
    )
    ok(
        httpx.post(
            f"{sender.url}/v1/check-ins", headers=sender.member_token(leaving), json={"material": "党章"}
        ),
        201,
    )
    new_id = str(uuid4())
    before = httpx.get(f"{receiver.url}/v1/members/{new_id}/history", headers=receiver.secretary())
    assert before.status_code == 404
    assert (
        httpx.get(f"{receiver.url}/v1/members/{leaving}/history", headers=receiver.secretary()).status_code
        == 404
    )

    registry_event(
        running,
        receiver.id,
        "member_enrolled",
        {
            "case_id": str(uuid4()),
            "command_id": "x:enrol",
            "member_id": leaving,
            "new_member_id": new_id,
            "receiving_tenant": receiver.id,
            "receiving_org_id": receiver.branch,
            "category": "full",
        },
    )
    after = eventually(
        lambda: (lambda r: r.json() if r.status_code == 200 and r.json()["check_ins"] else None)(
            httpx.get(f"{receiver.url}/v1/members/{new_id}/history", headers=receiver.secretary())
        ),
        what="the shared history",
    )
    assert after["shared_from"] == [leaving] and after["check_ins"][0]["tenant"] == sender.id
    # Only that member's history: the sender's other members stay invisible.
    assert (
        httpx.get(f"{receiver.url}/v1/members/{staying}/history", headers=receiver.secretary()).status_code
        == 404
    )


def test_every_endpoint_answers_another_tenants_token_as_if_nothing_existed(running: Running) -> None:
    t = new_branch_tenant(running)
    probationary = t.register("probationary")
    known(t, probationary)
    meeting = announce(t, "democratic_appraisal")
    course = ok(
        httpx.post(
            f"{t.url}/v1/courses",
            headers=t.secretary(),
            json={
                "kind": "micro_lesson",
                "title": "微党课",
                "links": ["https://example.org/v.mp4"],
                "organisation_ids": [t.branch],
            },
        ),
        201,
    )
    bank = ok(
        httpx.post(
            f"{t.url}/v1/question-banks",
            headers=t.secretary(),
            json={
                "title": "题库",
                "questions": [{"id": "q", "text": "?", "options": ["a", "b"], "answer": 0}],
            },
        ),
        201,
    )
    start = now(running)
    quiz = ok(
        httpx.post(
            f"{t.url}/v1/quizzes",
            headers=t.secretary(),
            json={
                "kind": "test",
                "title": "测试",
                "bank_id": bank["id"],
                "opens_at": start.isoformat(),
                "closes_at": (start + timedelta(days=1)).isoformat(),
            },
        ),
        201,
    )
    ok(
        httpx.patch(
            f"{t.url}/v1/options",
            headers=t.committee(),
            json={"allowed_from": "00:00", "allowed_until": "00:00"},
        )
    )
    report = ok(
        httpx.post(
            f"{t.url}/v1/thought-reports",
            headers=t.member_token(probationary),
            json={"title": "汇报", "body": "……"},
        ),
        201,
    )

    other = new_tenant()
    # The other tenant's people, even holding this tenant's ids in their token.
    secretary = {"Authorization": f"Bearer {running.token(other, 'branch_secretary', orgs=[t.branch])}"}
    committee = running.auth(other, "committee", "tenant_admin")
    member = {"Authorization": f"Bearer {running.token(other, 'member', subject=f'member:{probationary}')}"}
    m, c, b, q, r, p = meeting["id"], course["id"], bank["id"], quiz["id"], report["id"], probationary
    calls: list[tuple[str, str, dict[str, str], Any]] = [
        ("GET", f"/v1/meetings/{m}", committee, None),
        ("POST", f"/v1/meetings/{m}/opinions", member, {"text": "x"}),
        ("POST", f"/v1/meetings/{m}/sign-in", member, {"method": "online"}),
        ("POST", f"/v1/meetings/{m}/excused-absences", secretary, {"member_id": p, "reason": "x"}),
        ("POST", f"/v1/meetings/{m}/minutes", secretary, {"minutes": "x"}),
        ("PUT", f"/v1/meetings/{m}/speaking-order", committee, {"member_ids": [p]}),
        ("POST", f"/v1/meetings/{m}/self-assessments", member, {"text": "x"}),
        ("PUT", f"/v1/meetings/{m}/grades", committee, {"grades": {p: "qualified"}}),
        ("GET", f"/v1/meetings/{m}/attendance", committee, None),
        ("GET", f"/v1/courses/{c}", committee, None),
        ("POST", f"/v1/courses/{c}/assignments", committee, {"organisation_ids": [t.branch]}),
        ("PUT", f"/v1/courses/{c}/progress", member, {"percent": 100}),
        ("POST", "/v1/check-ins", member, {"material": "x"}),
        (
            "POST",
            f"/v1/question-banks/{b}/questions",
            committee,
            {"questions": [{"id": "z", "text": "?", "options": ["a", "b"], "answer": 0}]},
        ),
        (
            "POST",
            "/v1/quizzes",
            committee,
            {
                "kind": "test",
                "title": "x",
                "bank_id": b,
                "opens_at": start.isoformat(),
                "closes_at": (start + timedelta(days=1)).isoformat(),
            },
        ),
        ("GET", f"/v1/quizzes/{q}", committee, None),
        ("POST", f"/v1/quizzes/{q}/answers", member, {"question_id": "q", "choice": 0}),
        ("GET", f"/v1/quizzes/{q}/results", committee, None),
        ("POST", "/v1/thought-reports", member, {"title": "x", "body": "y"}),
        ("GET", f"/v1/thought-reports/{r}", committee, None),
        ("POST", f"/v1/thought-reports/{r}/acknowledgement", committee, {"comment": ""}),
        ("PUT", f"/v1/probation/{p}/admission-date", committee, {"admitted_on": "2026-01-01"}),
        ("POST", f"/v1/probation/{p}/extension", committee, {"months": 6, "basis": "x"}),
        ("PUT", f"/v1/probation/{p}/assessment", committee, {"text": "x"}),
        ("GET", f"/v1/probation/{p}/summary", committee, None),
        ("GET", f"/v1/members/{p}/history", committee, None),
    ]
    for method, path, headers, body in calls:
        response = httpx.request(method, f"{t.url}{path}", headers=headers, json=body)
        assert response.status_code == 404, (method, path, response.status_code, response.text)
    # Lists answer with the other tenant's (empty) world, never this tenant's rows.
    for path in ("/v1/meetings", "/v1/courses", "/v1/quizzes", "/v1/thought-reports"):
        assert ok(httpx.get(f"{t.url}{path}", headers=committee)) == [], path
    for path in ("/v1/cadence", "/v1/participation", "/v1/points/totals"):
        body = ok(httpx.get(f"{t.url}{path}", headers=committee))
        assert not body.get("branches") and not body.get("totals"), path
    assert ok(httpx.get(f"{t.url}/v1/points/members/{p}", headers=committee))["entries"] == []
    assert ok(httpx.get(f"{t.url}/v1/options", headers=committee))["allowed_from"] == "06:00"


def _quarter(at: datetime) -> str:
    local = at.astimezone(SHANGHAI)
    return f"{local.year}Q{(local.month - 1) // 3 + 1}"
