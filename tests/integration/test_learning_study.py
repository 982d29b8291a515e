"""Learning's study over HTTP: a weekly quiz, check-ins within the allowed hours, courses and their points."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.integration.conftest import Running
from tests.integration.helpers import eventually
from tests.integration.learning_world import (
    SHANGHAI,
    Tenant,
    advance,
    learning_platform,
    new_branch_tenant,
    now,
    ok,
    problem_type,
)

pytestmark = pytest.mark.integration
running = pytest.fixture(scope="module", name="running")(learning_platform)


@dataclass(frozen=True)
class WeeklyQuiz:
    """Once for the module: a member answers a three-question weekly quiz, one answer twice, one too late."""

    tenant: Tenant
    member: str
    quiz: dict[str, Any]
    first: httpx.Response
    duplicate: httpx.Response
    late: httpx.Response


@pytest.fixture(scope="module")
def quiz(running: Running) -> WeeklyQuiz:
    t = new_branch_tenant(running)
    member = t.known_member()
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

    def answer(question: str) -> httpx.Response:
        return httpx.post(
            f"{t.url}/v1/quizzes/{quiz['id']}/answers",
            headers=t.member_token(member),
            json={"question_id": question, "choice": 0},
        )

    first, duplicate = answer("q0"), answer("q0")
    ok(answer("q1"), 201)
    ok(answer("q2"), 201)
    eventually(lambda: len(_ledger(t, member)["entries"]) == 3, what="three ledger entries")
    advance(running, 2 * 3600)
    return WeeklyQuiz(t, member, quiz, first, duplicate, answer("q1"))


def _ledger(t: Tenant, member: str) -> dict[str, Any]:
    ledger: dict[str, Any] = ok(
        httpx.get(f"{t.url}/v1/points/members/{member}", headers=t.member_token(member))
    )
    return ledger


def test_a_quiz_shows_its_questions_without_their_answers(quiz: WeeklyQuiz) -> None:
    assert quiz.quiz["questions"] and all("answer" not in q for q in quiz.quiz["questions"])


def test_a_correct_answer_is_marked_correct(quiz: WeeklyQuiz) -> None:
    assert ok(quiz.first, 201)["correct"] is True


def test_a_second_answer_to_a_question_is_a_conflict(quiz: WeeklyQuiz) -> None:
    assert problem_type(quiz.duplicate, 409) == "already-answered"


def test_points_for_answers_stop_at_the_daily_cap(quiz: WeeklyQuiz) -> None:
    ledger = _ledger(quiz.tenant, quiz.member)
    assert ledger["total"] == 2 and [e["capped"] for e in ledger["entries"]].count(True) == 1


def test_an_answer_after_the_quiz_closed_is_a_conflict(quiz: WeeklyQuiz) -> None:
    assert problem_type(quiz.late, 409) == "quiz-window-closed"


def test_rankings_are_forbidden_while_the_tenant_has_them_off(quiz: WeeklyQuiz) -> None:
    t = quiz.tenant
    assert (
        problem_type(httpx.get(f"{t.url}/v1/points/rankings", headers=t.member_token(quiz.member)), 403)
        == "rankings-off"
    )


def test_participation_counts_the_member_who_answered(quiz: WeeklyQuiz) -> None:
    rates = ok(httpx.get(f"{quiz.tenant.url}/v1/participation", headers=quiz.tenant.secretary()))["branches"]
    assert rates == [{"organisation_id": quiz.tenant.branch, "members": 1, "active": 1, "rate": 1.0}]


def _window_from_an_hour_on(running: Running, t: Tenant) -> None:
    local = now(running).astimezone(SHANGHAI)
    opens, closes = local + timedelta(hours=1), local + timedelta(hours=2)
    ok(
        httpx.patch(
            f"{t.url}/v1/options",
            headers=t.committee(),
            json={"allowed_from": opens.strftime("%H:%M"), "allowed_until": closes.strftime("%H:%M")},
        )
    )


def test_a_check_in_outside_the_allowed_hours_is_refused(running: Running) -> None:
    t = new_branch_tenant(running)
    member = t.known_member()
    _window_from_an_hour_on(running, t)
    refused = httpx.post(f"{t.url}/v1/check-ins", headers=t.member_token(member), json={"material": "党章"})
    assert problem_type(refused, 409) == "outside-allowed-hours"


def test_a_check_in_within_the_allowed_hours_is_recorded(running: Running) -> None:
    t = new_branch_tenant(running)
    member = t.known_member()
    _window_from_an_hour_on(running, t)
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


def test_a_course_assigned_to_a_branch_is_listed_for_its_members(running: Running) -> None:
    t = new_branch_tenant(running)
    member = t.known_member()
    course = _course(t)
    listed = ok(httpx.get(f"{t.url}/v1/courses", headers=t.member_token(member)))
    assert [c["id"] for c in listed] == [course["id"]]


def test_a_course_completed_more_than_once_earns_its_points_once(running: Running) -> None:
    t = new_branch_tenant(running)
    member = t.known_member()
    t.open_all_day()
    course = _course(t)
    for percent in (50, 100, 100):
        ok(
            httpx.put(
                f"{t.url}/v1/courses/{course['id']}/progress",
                headers=t.member_token(member),
                json={"percent": percent},
            )
        )
    totals = eventually(
        lambda: ok(httpx.get(f"{t.url}/v1/points/totals", headers=t.secretary(), params={"by": "member"}))[
            "totals"
        ],
        what="point totals",
    )
    assert totals == [{"member_id": member, "points": 1}]


def _course(t: Tenant) -> dict[str, Any]:
    course: dict[str, Any] = ok(
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
    return course
