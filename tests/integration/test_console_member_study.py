"""In the browser, on a phone: a member takes a quiz (questions, answers, the score), sees the points ranking the
tenant turned on, writes an opinion before a 组织生活会 and signs in online sharing where they are."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.integration.conftest import Running
from tests.integration.console_browser import NARROW_PHONE, PHONE, run_folder, sign_in
from tests.integration.helpers import build_tree, eventually, new_tenant

pytestmark = pytest.mark.integration


def test_a_member_takes_a_quiz_sees_the_ranking_and_gives_an_opinion_before_the_meeting(
    running: Running, browser: Any
) -> None:
    registry, learning = running.url("registry"), running.url("learning")
    tenant = new_tenant()
    committee = running.auth(tenant, "committee")
    _, branch = build_tree(registry, committee)
    member = httpx.post(
        f"{registry}/v1/members",
        headers=committee,
        json={"name": "周敏", "organisation_id": branch, "category": "full"},
    ).json()
    secretary = running.auth(tenant, "branch_secretary", orgs=[branch])
    options = httpx.patch(
        f"{learning}/v1/options",
        headers=committee,
        json={
            "allowed_from": "00:00",
            "allowed_until": "00:00",
            "rankings": True,
            "point_rules": {"quiz_correct_answer": {"points": 1, "daily_cap": 5}},
        },
    )
    assert options.status_code == 200, options.text
    eventually(
        lambda: (
            httpx.get(f"{learning}/v1/members/{member['id']}/history", headers=committee).status_code == 200
            or None
        ),
        what="learning to know the member",
    )
    now = datetime.fromisoformat(httpx.get(f"{learning}/_test/clock").json()["now"])
    bank = httpx.post(
        f"{learning}/v1/question-banks",
        headers=secretary,
        json={
            "title": "党章题库",
            "questions": [
                {
                    "id": "q0",
                    "text": "党的最高理想和最终目标是实现共产主义。",
                    "options": ["正确", "错误"],
                    "answer": 0,
                },
                {"id": "q1", "text": "预备党员的预备期为半年。", "options": ["正确", "错误"], "answer": 1},
                {"id": "q2", "text": "党员应按期交纳党费。", "options": ["正确", "错误"], "answer": 0},
            ],
        },
    )
    assert bank.status_code == 201, bank.text
    quiz = httpx.post(
        f"{learning}/v1/quizzes",
        headers=secretary,
        json={
            "kind": "weekly",
            "title": "每周一测：党章",
            "bank_id": bank.json()["id"],
            "organisation_ids": [branch],
            "opens_at": now.isoformat(),
            "closes_at": (now + timedelta(hours=2)).isoformat(),
        },
    )
    assert quiz.status_code == 201, quiz.text
    starts = now + timedelta(minutes=10)
    meeting = httpx.post(
        f"{learning}/v1/meetings",
        headers={**secretary, "Idempotency-Key": str(uuid.uuid4())},
        json={
            "organisation_id": branch,
            "meeting_type": "org_life_meeting",
            "title": "年度组织生活会",
            "mode": "online",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat(),
            "place": "线上会议室",
            "short_notice_reason": "上级通知提前召开",
        },
    )
    assert meeting.status_code == 201, meeting.text

    folder = run_folder("member-quiz-and-opinion")
    person = sign_in(
        browser,
        running,
        tenant=tenant,
        person="周敏",
        role="党员",
        who="member",
        viewport=PHONE,
        folder=folder,
    )
    page = person.page
    person.go("/m/study")
    assert page.get_by_role("heading", name="积分排行").count() == 0, "no points yet, no ranking"
    with page.expect_navigation():
        page.get_by_role("link", name="每周一测：党章").click()
    assert page.get_by_role("heading", name="每周一测：党章").is_visible()
    person.shot("quiz")
    person.submit("提交答案")
    assert page.locator("#e-answers").is_visible(), "nothing chosen: said next to the questions"
    person.shot("quiz-nothing-chosen")
    page.get_by_role("group", name="1. 党的最高理想").get_by_label("正确").check()
    page.get_by_role("group", name="2. 预备党员").get_by_label("正确").check()
    page.get_by_role("group", name="3. 党员应按期").get_by_label("正确").check()
    person.submit("提交答案")
    assert page.get_by_text("答案已提交。").is_visible()
    quiz_page = f"/m/study/quizzes/{quiz.json()['id']}"
    # The score is read from the results, which follow the answers' events a moment later.
    eventually(
        lambda: person.go(quiz_page).get_by_text("答对 2 / 3 题").count() == 1 or None,
        what="the score on the quiz page",
        interval=0.5,
    )
    assert page.get_by_text("已答 3 / 3 题").is_visible()
    assert page.get_by_role("button", name="提交答案").count() == 0, "answered: no second round"
    person.shot("quiz-score")
    results = httpx.get(f"{learning}/v1/quizzes/{quiz.json()['id']}/results", headers=secretary).json()
    assert results["members"] == [
        {
            "member_id": member["id"],
            "answered": 3,
            "score": 2,
            "first_correct": results["members"][0]["first_correct"],
        }
    ]

    ranking = page.locator("section", has=page.get_by_role("heading", name="积分排行"))
    eventually(
        lambda: (person.go("/m/study") and ranking.count() == 1) or None, what="the ranking", interval=0.5
    )
    assert "第1名 · 2分 · 我" in ranking.inner_text()
    person.shot("study-ranking")

    person.go("/m/meetings")
    page.get_by_label("会前意见建议（交支部汇总）").fill("建议每月安排一次线上学习。")
    person.submit("提交意见：年度组织生活会")
    assert page.get_by_text("意见已提交支部。").is_visible()
    person.shot("opinion-sent")
    opinions = httpx.get(f"{learning}/v1/meetings/{meeting.json()['id']}", headers=secretary).json()[
        "opinions"
    ]
    assert [(o["member_id"], o["text"]) for o in opinions] == [(member["id"], "建议每月安排一次线上学习。")]

    page.get_by_label("同时报告我所在的位置（可选）").check()
    page.get_by_label("所在位置（仅在勾选时报告）").fill("深圳市南山区")
    person.submit("签到：年度组织生活会")
    assert page.get_by_text("签到成功。").is_visible()
    person.shot("signed-in-online")
    assert (
        httpx.get(f"{learning}/v1/meetings/{meeting.json()['id']}", headers=secretary).json()["signed_in"]
        == 1
    )

    person.go("/m/inbox")
    page.get_by_label("开始").fill("22:00")
    page.get_by_label("结束").fill("07:00")
    person.submit("保存设置")
    person.shot("preferences-saved")
    member_token = {
        "Authorization": f"Bearer {running.token(tenant, 'member', subject='member:' + member['id'])}"
    }
    saved = httpx.get(f"{running.url('notify')}/v1/preferences/me", headers=member_token).json()
    assert saved["quiet_hours"]["start"] == "22:00" and saved["quiet_hours"]["end"] == "07:00", saved
    assert saved["channels"] == ["inbox"]

    page.set_viewport_size(NARROW_PHONE)
    for path in ("/m/study", quiz_page, "/m/meetings", "/m/inbox"):
        person.go(path)
        assert not person.scrolls_sideways(), path
    page.context.close()
    assert person.violations == []
