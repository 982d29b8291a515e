"""Pure parts of the desk's study, notify and statistics pages: quiz questions typed as text, a channel test's
answer read back from its redirect, a quarter's days, and why a chart is not drawn."""

from __future__ import annotations

from datetime import date

import pytest
from starlette.requests import Request

from console.api.desk.learning import form_fields, parse_questions
from console.api.desk.notify import _tested
from console.api.desk.statistics import quarter_bounds, unavailable
from console.clients.api import ApiError


def test_questions_are_blocks_with_the_right_option_marked() -> None:
    text = (
        "党的根本宗旨是什么？\n*全心全意为人民服务\n发展经济\n\n\n党章规定预备期为几年？\n半年\n*一年\n两年\n"
    )
    assert parse_questions(text, "hint") == [
        {
            "id": "q1",
            "text": "党的根本宗旨是什么？",
            "options": ["全心全意为人民服务", "发展经济"],
            "answer": 0,
        },
        {"id": "q2", "text": "党章规定预备期为几年？", "options": ["半年", "一年", "两年"], "answer": 1},
    ]


@pytest.mark.parametrize(
    "text",
    ["", "只有题目", "题目\n*唯一选项", "题目\n选项一\n选项二", "题目\n*选项一\n*选项二", "题目\n*\n选项"],
)
def test_a_question_without_two_options_and_one_right_answer_is_refused_by_its_field(text: str) -> None:
    with pytest.raises(ApiError) as refused:
        parse_questions(text, "每题两个以上选项、一个正确答案")
    assert refused.value.status == 422 and refused.value.fields == {
        "questions": "每题两个以上选项、一个正确答案"
    }


def test_the_services_field_names_become_the_forms() -> None:
    exc = ApiError(422, "Invalid", "x", {"questions.1.options": "too few", "organisation_ids.0": "not yours"})
    assert form_fields(exc, {"organisation_ids": "organisation_id"}).fields == {
        "questions": "too few",
        "organisation_id": "not yours",
    }


def test_a_quarter_runs_from_its_first_day_to_its_last_or_today() -> None:
    today = date(2026, 12, 2)
    assert quarter_bounds(None, today) == ("2026Q4", date(2026, 10, 1), today)
    assert quarter_bounds("2026Q1", today) == ("2026Q1", date(2026, 1, 1), date(2026, 3, 31))
    assert quarter_bounds("2026Q3", today) == ("2026Q3", date(2026, 7, 1), date(2026, 9, 30))
    assert quarter_bounds("nonsense", today)[0] == "2026Q4"


def test_a_missing_chart_says_why() -> None:
    assert unavailable(ApiError(503, "Service unavailable", "analytics did not answer")) == "stats_down"
    assert unavailable(ApiError(403, "Forbidden", "roles")) == "stats_not_for_you"
    assert unavailable(ApiError(422, "Invalid", "bad")) == "stats_failed"


def _query(text: str) -> Request:
    return Request(
        {"type": "http", "method": "GET", "path": "/desk/notify", "headers": [], "query_string": text}
    )


def test_a_channel_tests_answer_comes_back_from_the_redirect_and_only_plain_details_are_shown() -> None:
    assert _tested(_query("tested=robot&delivered=1&detail=HTTP+200")) == {
        "channel": "robot",
        "delivered": True,
        "detail": "HTTP 200",
    }
    assert _tested(_query("tested=robot&delivered=0&detail=%3Cscript%3E")) == {
        "channel": "robot",
        "delivered": False,
        "detail": "",
    }
    assert _tested(_query("detail=HTTP+200")) is None
