"""Learning's reads that the scenario modules do not reach: each answers what it documents, for whom it should."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.integration.conftest import Running
from tests.integration.helpers import eventually
from tests.integration.learning_world import (
    Tenant,
    announce,
    learning_platform,
    new_branch_tenant,
    now,
    ok,
)

pytestmark = pytest.mark.integration
running = pytest.fixture(scope="module", name="running")(learning_platform)


@dataclass(frozen=True)
class Studied:
    """Once for the module: a probationary member answers a quiz, checks in, reads a course, writes a report."""

    tenant: Tenant
    member: str
    bank: dict[str, Any]
    quiz: dict[str, Any]
    course: dict[str, Any]
    report: dict[str, Any]


@pytest.fixture(scope="module")
def studied(running: Running) -> Studied:
    t = new_branch_tenant(running)
    member = t.known_member("probationary")
    ok(httpx.patch(f"{t.url}/v1/options", headers=t.committee(), json={"rankings": True}))
    t.open_all_day()
    bank = ok(
        httpx.post(
            f"{t.url}/v1/question-banks",
            headers=t.secretary(),
            json={
                "title": "党史题库",
                "questions": [{"id": "a", "text": "一", "options": ["是", "否"], "answer": 0}],
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
                "kind": "test",
                "title": "党史测试",
                "bank_id": bank["id"],
                "organisation_ids": [t.branch],
                "opens_at": opens.isoformat(),
                "closes_at": (opens + timedelta(hours=1)).isoformat(),
            },
        ),
        201,
    )
    ok(
        httpx.post(
            f"{t.url}/v1/quizzes/{quiz['id']}/answers",
            headers=t.member_token(member),
            json={"question_id": "a", "choice": 0},
        ),
        201,
    )
    ok(httpx.post(f"{t.url}/v1/check-ins", headers=t.member_token(member), json={"material": "党章"}), 201)
    course = ok(
        httpx.post(
            f"{t.url}/v1/courses",
            headers=t.secretary(),
            json={"kind": "course", "title": "党课", "organisation_ids": [t.branch]},
        ),
        201,
    )
    report = ok(
        httpx.post(
            f"{t.url}/v1/thought-reports",
            headers=t.member_token(member),
            json={"title": "第四季度思想汇报", "body": "学习体会……"},
        ),
        201,
    )
    return Studied(t, member, bank, quiz, course, report)


def test_a_bank_grows_by_the_questions_added(studied: Studied) -> None:
    t = studied.tenant
    grown = ok(
        httpx.post(
            f"{t.url}/v1/question-banks/{studied.bank['id']}/questions",
            headers=t.secretary(),
            json={"questions": [{"id": "b", "text": "二", "options": ["是", "否"], "answer": 1}]},
        )
    )
    assert grown == {"id": studied.bank["id"], "title": "党史题库", "questions": 2}


def test_a_member_reads_the_quiz_of_their_branch_without_its_answers(studied: Studied) -> None:
    t = studied.tenant
    read = ok(httpx.get(f"{t.url}/v1/quizzes/{studied.quiz['id']}", headers=t.member_token(studied.member)))
    assert read == studied.quiz
    assert read["questions"] == [{"id": "a", "text": "一", "options": ["是", "否"]}]


def test_the_branch_sees_each_members_score(studied: Studied) -> None:
    t = studied.tenant
    results = eventually(
        lambda: _if(
            ok(httpx.get(f"{t.url}/v1/quizzes/{studied.quiz['id']}/results", headers=t.secretary())),
            "members",
        ),
        what="the quiz's results",
    )
    assert results == {
        "quiz_id": studied.quiz["id"],
        "questions": 1,
        "members": [{"member_id": studied.member, "answered": 1, "score": 1, "first_correct": 0}],
    }


def test_a_member_lists_their_own_check_ins(studied: Studied) -> None:
    t = studied.tenant
    listed = eventually(
        lambda: ok(
            httpx.get(
                f"{t.url}/v1/check-ins",
                headers=t.member_token(studied.member),
                params={"member_id": studied.member},
            )
        ),
        what="the member's check-ins",
    )
    assert [c["has_evidence"] for c in listed] == [False]


def test_a_member_reads_a_course_assigned_to_their_branch(studied: Studied) -> None:
    t = studied.tenant
    read = ok(httpx.get(f"{t.url}/v1/courses/{studied.course['id']}", headers=t.member_token(studied.member)))
    assert read == studied.course


def test_the_committee_assigns_a_course_to_another_branch(studied: Studied) -> None:
    t = studied.tenant
    other = "00000000-0000-4000-8000-000000000001"
    assigned = ok(
        httpx.post(
            f"{t.url}/v1/courses/{studied.course['id']}/assignments",
            headers=t.committee(),
            json={"organisation_ids": [other]},
        )
    )
    assert set(assigned["organisation_ids"]) == {t.branch, other}


def test_the_author_reads_their_thought_report_with_its_text(studied: Studied) -> None:
    t = studied.tenant
    read = ok(
        httpx.get(
            f"{t.url}/v1/thought-reports/{studied.report['id']}", headers=t.member_token(studied.member)
        )
    )
    assert read == studied.report
    assert read["body"] == "学习体会……"


def test_rankings_turned_on_rank_the_members_by_points(studied: Studied) -> None:
    t = studied.tenant
    ranked = eventually(
        lambda: _if(
            ok(httpx.get(f"{t.url}/v1/points/rankings", headers=t.member_token(studied.member))), "ranking"
        ),
        what="a ranking",
    )
    assert [(r["rank"], r["member_id"]) for r in ranked["ranking"]] == [(1, studied.member)]


def test_an_excused_absence_is_recorded_for_the_member(studied: Studied) -> None:
    t = studied.tenant
    meeting = announce(t)
    excused = ok(
        httpx.post(
            f"{t.url}/v1/meetings/{meeting['id']}/excused-absences",
            headers=t.secretary(),
            json={"member_id": studied.member, "reason": "出差"},
        ),
        201,
    )
    assert excused == {"meeting_id": meeting["id"], "member_id": studied.member, "status": "excused"}


def _if(answer: dict[str, Any], key: str) -> dict[str, Any] | None:
    """The answer once its list under `key` has something in it (the read models catch up)."""
    return answer if answer[key] else None
