"""Learning between tenants: history reaches the receiving tenant only after a transfer, and another tenant's
token finds nothing, whatever ids it carries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest

from tests.integration.conftest import Running
from tests.integration.helpers import eventually, new_tenant
from tests.integration.learning_world import (
    Tenant,
    announce,
    learning_platform,
    new_branch_tenant,
    now,
    ok,
    registry_event,
)

pytestmark = pytest.mark.integration
running = pytest.fixture(scope="module", name="running")(learning_platform)


@dataclass(frozen=True)
class Transferred:
    """Once for the module: a member who checked in at the sender, then transferred to the receiver."""

    sender: Tenant
    receiver: Tenant
    leaving: str
    staying: str
    new_id: str
    before: httpx.Response  # the receiver's view of the new id before the enrolment


@pytest.fixture(scope="module")
def transferred(running: Running) -> Transferred:
    sender, receiver = new_branch_tenant(running), new_branch_tenant(running)
    leaving, staying = sender.known_member(), sender.register()
    sender.open_all_day()
    ok(
        httpx.post(
            f"{sender.url}/v1/check-ins", headers=sender.member_token(leaving), json={"material": "党章"}
        ),
        201,
    )
    new_id = str(uuid4())
    before = httpx.get(f"{receiver.url}/v1/members/{new_id}/history", headers=receiver.secretary())
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
    return Transferred(sender, receiver, leaving, staying, new_id, before)


def test_before_the_transfer_the_receiver_finds_no_history(transferred: Transferred) -> None:
    assert transferred.before.status_code == 404


def test_after_the_transfer_the_receiver_reads_the_members_history_under_the_new_id(
    transferred: Transferred,
) -> None:
    r = transferred.receiver
    history = eventually(
        lambda: (lambda a: a.json() if a.status_code == 200 and a.json()["check_ins"] else None)(
            httpx.get(f"{r.url}/v1/members/{transferred.new_id}/history", headers=r.secretary())
        ),
        what="the shared history",
    )
    assert history["shared_from"] == [transferred.leaving]
    assert history["check_ins"][0]["tenant"] == transferred.sender.id


def test_the_receiver_never_reads_the_history_under_the_senders_id(transferred: Transferred) -> None:
    r = transferred.receiver
    assert (
        httpx.get(f"{r.url}/v1/members/{transferred.leaving}/history", headers=r.secretary()).status_code
        == 404
    )


def test_the_senders_other_members_stay_invisible_to_the_receiver(transferred: Transferred) -> None:
    r = transferred.receiver
    assert (
        httpx.get(f"{r.url}/v1/members/{transferred.staying}/history", headers=r.secretary()).status_code
        == 404
    )


@dataclass(frozen=True)
class Foreign:
    """A tenant's meeting, course, bank, quiz and report, and another tenant's people holding their ids."""

    tenant: Tenant
    ids: dict[str, str]
    start: str
    end: str
    tokens: dict[str, dict[str, str]]


@pytest.fixture(scope="module")
def foreign(running: Running) -> Foreign:
    t = new_branch_tenant(running)
    probationary = t.known_member("probationary")
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
    end = start + timedelta(days=1)
    quiz = ok(
        httpx.post(
            f"{t.url}/v1/quizzes",
            headers=t.secretary(),
            json={
                "kind": "test",
                "title": "测试",
                "bank_id": bank["id"],
                "opens_at": start.isoformat(),
                "closes_at": end.isoformat(),
            },
        ),
        201,
    )
    t.open_all_day()
    report = ok(
        httpx.post(
            f"{t.url}/v1/thought-reports",
            headers=t.member_token(probationary),
            json={"title": "汇报", "body": "……"},
        ),
        201,
    )
    other = new_tenant()
    tokens = {
        "secretary": {"Authorization": f"Bearer {running.token(other, 'branch_secretary', orgs=[t.branch])}"},
        "committee": running.auth(other, "committee", "tenant_admin"),
        "member": {
            "Authorization": f"Bearer {running.token(other, 'member', subject=f'member:{probationary}')}"
        },
    }
    ids = {
        "m": meeting["id"],
        "c": course["id"],
        "b": bank["id"],
        "q": quiz["id"],
        "r": report["id"],
        "p": probationary,
        "branch": t.branch,
    }
    return Foreign(t, ids, start.isoformat(), end.isoformat(), tokens)


# (method, path, who, body): {m} meeting, {c} course, {b} bank, {q} quiz, {r} report, {p} member, {branch}.
CALLS: list[tuple[str, str, str, Any]] = [
    ("GET", "/v1/meetings/{m}", "committee", None),
    ("POST", "/v1/meetings/{m}/opinions", "member", {"text": "x"}),
    ("POST", "/v1/meetings/{m}/sign-in", "member", {"method": "online"}),
    ("POST", "/v1/meetings/{m}/excused-absences", "secretary", {"member_id": "{p}", "reason": "x"}),
    ("POST", "/v1/meetings/{m}/minutes", "secretary", {"minutes": "x"}),
    ("PUT", "/v1/meetings/{m}/speaking-order", "committee", {"member_ids": ["{p}"]}),
    ("POST", "/v1/meetings/{m}/self-assessments", "member", {"text": "x"}),
    ("PUT", "/v1/meetings/{m}/grades", "committee", {"grades": {"{p}": "qualified"}}),
    ("GET", "/v1/meetings/{m}/attendance", "committee", None),
    ("GET", "/v1/meetings/{m}/appraisal-form.pdf", "committee", None),
    ("GET", "/v1/courses/{c}", "committee", None),
    ("POST", "/v1/courses/{c}/assignments", "committee", {"organisation_ids": ["{branch}"]}),
    ("PUT", "/v1/courses/{c}/progress", "member", {"percent": 100}),
    ("POST", "/v1/check-ins", "member", {"material": "x"}),
    (
        "POST",
        "/v1/question-banks/{b}/questions",
        "committee",
        {"questions": [{"id": "z", "text": "?", "options": ["a", "b"], "answer": 0}]},
    ),
    (
        "POST",
        "/v1/quizzes",
        "committee",
        {"kind": "test", "title": "x", "bank_id": "{b}", "opens_at": "{start}", "closes_at": "{end}"},
    ),
    ("GET", "/v1/quizzes/{q}", "committee", None),
    ("POST", "/v1/quizzes/{q}/answers", "member", {"question_id": "q", "choice": 0}),
    ("GET", "/v1/quizzes/{q}/results", "committee", None),
    ("POST", "/v1/thought-reports", "member", {"title": "x", "body": "y"}),
    ("GET", "/v1/thought-reports/{r}", "committee", None),
    ("POST", "/v1/thought-reports/{r}/acknowledgement", "committee", {"comment": ""}),
    ("PUT", "/v1/probation/{p}/assessment", "committee", {"text": "x"}),
    ("GET", "/v1/probation/{p}/summary", "committee", None),
    ("GET", "/v1/members/{p}/history", "committee", None),
]


def _filled(value: Any, f: Foreign) -> Any:
    """The call's path or body with the tenant's ids (and the quiz window) put in."""
    if isinstance(value, str):
        return value.format(**f.ids, start=f.start, end=f.end)
    if isinstance(value, list):
        return [_filled(v, f) for v in value]
    if isinstance(value, dict):
        return {_filled(k, f): _filled(v, f) for k, v in value.items()}
    return value


@pytest.mark.parametrize(("method", "path", "who", "body"), CALLS, ids=[f"{m} {p}" for m, p, _, _ in CALLS])
def test_another_tenants_token_finds_nothing(
    foreign: Foreign, method: str, path: str, who: str, body: Any
) -> None:
    response = httpx.request(
        method,
        f"{foreign.tenant.url}{_filled(path, foreign)}",
        headers=foreign.tokens[who],
        json=_filled(body, foreign),
    )
    assert response.status_code == 404, response.text


@pytest.mark.parametrize("path", ["/v1/meetings", "/v1/courses", "/v1/quizzes", "/v1/thought-reports"])
def test_another_tenants_lists_are_empty(foreign: Foreign, path: str) -> None:
    assert ok(httpx.get(f"{foreign.tenant.url}{path}", headers=foreign.tokens["committee"])) == []


@pytest.mark.parametrize("path", ["/v1/cadence", "/v1/participation", "/v1/points/totals"])
def test_another_tenants_reports_have_no_rows(foreign: Foreign, path: str) -> None:
    body = ok(httpx.get(f"{foreign.tenant.url}{path}", headers=foreign.tokens["committee"]))
    assert not body.get("branches") and not body.get("totals")


def test_another_tenant_does_not_know_the_member_of_the_ledger(foreign: Foreign) -> None:
    url = f"{foreign.tenant.url}/v1/points/members/{foreign.ids['p']}"
    assert (
        httpx.get(url, headers=foreign.tokens["committee"]).status_code == 404
    )  # not found, not an empty ledger


def test_another_tenant_sees_its_own_default_options(foreign: Foreign) -> None:
    assert (
        ok(httpx.get(f"{foreign.tenant.url}/v1/options", headers=foreign.tokens["committee"]))["allowed_from"]
        == "06:00"
    )


def test_courses_and_quizzes_are_listed_only_where_they_could_be_opened(running: Running) -> None:
    """A branch's content is listed to its own secretary and members and to the committee, never to another
    branch of the same tenant: the lists apply the rule the single reads apply (404 outside it)."""
    tenant, root, a, b = new_tenant(), str(uuid4()), str(uuid4()), str(uuid4())
    registry_event(
        running,
        tenant,
        "organisation_founded",
        {"organisation_id": root, "parent_id": None, "kind": "primary_committee"},
    )
    for branch in (a, b):
        registry_event(
            running,
            tenant,
            "organisation_founded",
            {"organisation_id": branch, "parent_id": root, "kind": "branch"},
        )
    branch_a, branch_b = Tenant(running, tenant, a), Tenant(running, tenant, b)
    member_b = branch_b.known_member()

    def course(by: dict[str, str], organisation_ids: list[str], title: str) -> str:
        body = {"kind": "micro_lesson", "title": title, "body": "……", "organisation_ids": organisation_ids}
        created = ok(httpx.post(f"{branch_a.url}/v1/courses", headers=by, json=body), 201)
        return str(created["id"])

    def quiz(by: dict[str, str], organisation_ids: list[str], title: str) -> str:
        questions = [{"id": "q1", "text": "第1题", "options": ["正确", "错误"], "answer": 0}]
        bank = ok(
            httpx.post(
                f"{branch_a.url}/v1/question-banks",
                headers=by,
                json={"title": "题库", "questions": questions},
            ),
            201,
        )
        opens = now(running)
        body = {
            "kind": "weekly",
            "title": title,
            "bank_id": bank["id"],
            "organisation_ids": organisation_ids,
            "opens_at": opens.isoformat(),
            "closes_at": (opens + timedelta(hours=1)).isoformat(),
        }
        return str(ok(httpx.post(f"{branch_a.url}/v1/quizzes", headers=by, json=body), 201)["id"])

    a_course, a_quiz = (
        course(branch_a.secretary(), [a], "一支部微党课"),
        quiz(branch_a.secretary(), [a], "一支部测验"),
    )
    b_course, b_quiz = (
        course(branch_a.committee(), [b], "二支部微党课"),
        quiz(branch_a.committee(), [b], "二支部测验"),
    )
    everyone_course = course(branch_a.committee(), [], "全体党员微党课")

    def listed(path: str, headers: dict[str, str]) -> set[str]:
        return {row["id"] for row in ok(httpx.get(f"{branch_a.url}{path}", headers=headers))}

    for headers in (branch_b.secretary(), branch_b.member_token(member_b)):
        assert listed("/v1/courses", headers) == {b_course, everyone_course}
        assert listed("/v1/quizzes", headers) == {b_quiz}
        assert httpx.get(f"{branch_a.url}/v1/courses/{a_course}", headers=headers).status_code == 404
        assert httpx.get(f"{branch_a.url}/v1/quizzes/{a_quiz}", headers=headers).status_code == 404
    assert listed("/v1/courses", branch_a.secretary()) == {a_course, everyone_course}
    assert listed("/v1/quizzes", branch_a.secretary()) == {a_quiz}
    assert listed("/v1/courses", branch_a.committee()) == {a_course, b_course, everyone_course}
    assert listed("/v1/quizzes", branch_a.committee()) == {a_quiz, b_quiz}
