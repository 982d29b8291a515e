"""The desk's 学习, 通知设置 "send a test" and 统计 pages in the browser, on a platform of their own with the loopback
webhook receiver the notify tests use: thought reports read and acknowledged, the probation summary with the
branch's assessment, a course and a quiz set (the service's refusals shown by their fields, a double click
publishing once); notify's `POST /v1/channels/{name}/test` (roles, tenant, rate, nothing recorded) and its button
with the receiver's answer beside the channel; the cadence per branch and the transfers by step from analytics, and
the note when analytics does not answer."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from notify.channels.webhooks import verify_lianxin_signature
from shared.devstack import free_port
from tests.integration.conftest import Infra, Running, start_platform
from tests.integration.console_browser import DESK, Person, run_folder, sign_in
from tests.integration.helpers import eventually
from tests.integration.test_console_desk import Branches
from tests.integration.test_notify import Receiver, _serve

pytestmark = pytest.mark.integration
SECRET = "whsec-desk-0123456789"
BEIJING = ZoneInfo("Asia/Shanghai")


@dataclass
class Stack:
    running: Running
    receiver: Receiver


@pytest.fixture(scope="module")
def stack(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    receiver = Receiver(free_port())
    server = _serve(receiver)
    running = start_platform(
        infra,
        tmp_path_factory.mktemp("console-desk-study"),
        console=True,
        extra_env={
            "TEST_CLOCK": "true",
            "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",  # the loopback receiver, allowed by name as an operator would
        },
    )
    try:
        yield Stack(running, receiver)
    finally:
        running.stop()
        server.shutdown()


COMMITTEE = ("测试大学党委", "党委组织员")
SECRETARY = ("测试第一党支部", "支部书记")  # of the first branch


def desk_person(
    stack: Stack, browser: Any, world: Branches, who: tuple[str, str], name: str, folder: Path
) -> Person:
    person, role = who
    return sign_in(
        browser,
        stack.running,
        tenant=world.tenant,
        person=person,
        role=role,
        who=name,
        viewport=DESK,
        folder=folder,
    )


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def channel(stack: Stack, headers: dict[str, str], name: str, body: dict[str, Any]) -> None:
    ok(httpx.put(f"{stack.running.url('notify')}/v1/channels/{name}", headers=headers, json=body))


def webhook(stack: Stack, headers: dict[str, str], name: str, path: str) -> None:
    body = {"kind": "webhook", "role": "committee", "url": stack.receiver.url(path), "secret": SECRET}
    channel(stack, headers, name, {**body, "preset": "generic"})


def probationer(world: Branches, name: str, branch: str) -> str:
    """A 预备党员 admitted four months ago (on the services' clock), known to learning's probation."""
    joined = (world.now() - timedelta(days=120)).date()
    member = ok(
        httpx.post(
            f"{world.r}/v1/members",
            headers=world.committee,
            json={
                "name": name,
                "organisation_id": branch,
                "category": "probationary",
                "joined_on": str(joined),
            },
        ),
        201,
    )
    eventually(
        lambda: (
            httpx.get(
                f"{world.learning}/v1/probation/{member['id']}/summary", headers=world.committee
            ).status_code
            == 200
        ),
        what="learning to open the probation",
    )
    member_id: str = member["id"]
    return member_id


def thought_report(stack: Stack, world: Branches, member_id: str, title: str) -> dict[str, Any]:
    token = stack.running.token(world.tenant, "member", subject=f"member:{member_id}")
    report: dict[str, Any] = ok(
        httpx.post(
            f"{world.learning}/v1/thought-reports",
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())},
            json={"title": title, "body": "本季度我认真学习了党章，参加了支部的组织生活。"},
        ),
        201,
    )
    return report


# ---- notify: POST /v1/channels/{name}/test -------------------------------------------------------------------


def test_a_webhook_channel_is_tested_now_by_the_tenants_committee_only(stack: Stack) -> None:
    running, notify = stack.running, stack.running.url("notify")
    tenant, other = f"t-{uuid.uuid4().hex[:10]}", f"t-{uuid.uuid4().hex[:10]}"
    committee = running.auth(tenant, "committee")
    webhook(stack, committee, "robot", f"/ok/{tenant}")
    webhook(stack, committee, "gone", f"/gone/{tenant}")
    channel(stack, committee, "mailbox", {"kind": "email", "role": "committee", "address": "dw@example.org"})

    answer = ok(httpx.post(f"{notify}/v1/channels/robot/test", headers=committee))
    assert (answer["channel"], answer["delivered"], answer["detail"]) == ("robot", True, "HTTP 200")
    (hit,) = stack.receiver.to(f"/ok/{tenant}")
    assert hit.headers["Idempotency-Key"] == answer["test_id"]
    assert verify_lianxin_signature(
        SECRET, hit.headers["X-Lianxin-Timestamp"], hit.body, hit.headers["X-Lianxin-Signature"]
    )
    assert "连心测试消息" in hit.body.decode()

    again = httpx.post(f"{notify}/v1/channels/robot/test", headers=committee)
    assert again.status_code == 429 and again.json()["field"] == "name", again.text
    assert len(stack.receiver.to(f"/ok/{tenant}")) == 1, "a refused test sends nothing"

    gone = ok(httpx.post(f"{notify}/v1/channels/gone/test", headers=committee))
    assert (gone["delivered"], gone["detail"], gone["retryable"]) == (False, "HTTP 404", False)

    assert httpx.post(f"{notify}/v1/channels/mailbox/test", headers=committee).status_code == 422
    assert httpx.post(f"{notify}/v1/channels/nothing/test", headers=committee).status_code == 404
    assert httpx.post(f"{notify}/v1/channels/BAD NAME/test", headers=committee).status_code == 422
    secretary = running.auth(tenant, "branch_secretary", orgs=[str(uuid.uuid4())])
    assert httpx.post(f"{notify}/v1/channels/gone/test", headers=secretary).status_code == 403
    outsider = running.auth(other, "committee")
    assert httpx.post(f"{notify}/v1/channels/gone/test", headers=outsider).status_code == 404, (
        "another tenant's channel does not exist for this one"
    )
    deliveries = ok(
        httpx.get(
            f"{notify}/v1/deliveries", headers=running.auth(tenant, "operator"), params={"status": "sent"}
        )
    )
    assert deliveries["items"] == [], "a test is not a delivery"
    spec = ok(httpx.get(f"{notify}/openapi.json"))
    operation = spec["paths"]["/v1/channels/{name}/test"]["post"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "ChannelTestOut"
    )


def test_the_committee_sends_a_test_through_a_webhook_from_the_channels_list(
    stack: Stack, browser: Any
) -> None:
    world = Branches(stack.running)
    webhook(stack, world.committee, "robot", f"/ok/{world.tenant}")
    webhook(stack, world.committee, "gone", f"/gone/{world.tenant}")
    webhook(stack, world.committee, "removed", f"/ok/{world.tenant}/removed")
    folder = run_folder("desk-notify-test")
    me = desk_person(stack, browser, world, COMMITTEE, "committee", folder)
    page = me.page
    me.go("/desk/notify")
    me.shot("channels")
    robot = page.locator("table.grid tr", has=page.get_by_role("cell", name="robot", exact=True))
    with page.expect_navigation():
        robot.get_by_role("button", name="发送测试消息：robot").dblclick()
    assert robot.locator(".test-result").inner_text() == "测试消息已送达（HTTP 200）"
    assert len(stack.receiver.to(f"/ok/{world.tenant}")) == 1, "a double click sends one test"
    me.shot("robot-delivered")
    me.submit("发送测试消息：robot")  # at once again: notify allows one test of a channel per ten seconds
    assert robot.get_by_role("alert").inner_text().startswith("this channel was tested a moment ago")
    assert len(stack.receiver.to(f"/ok/{world.tenant}")) == 1
    me.shot("robot-rate-limited")

    gone = page.locator("table.grid tr", has=page.get_by_role("cell", name="gone", exact=True))
    me.submit("发送测试消息：gone")
    assert gone.locator(".test-result").inner_text() == "测试消息未送达（HTTP 404）"
    assert robot.locator(".test-result").count() == 0, "the answer sits beside its own channel"
    me.shot("gone-refused")

    ok_delete = httpx.delete(f"{stack.running.url('notify')}/v1/channels/removed", headers=world.committee)
    assert ok_delete.status_code == 204, ok_delete.text
    removed = page.locator("table.grid tr", has=page.get_by_role("cell", name="removed", exact=True))
    with page.expect_navigation():
        removed.get_by_role("button", name="发送测试消息：removed").click()
    assert page.get_by_role("alert").filter(has_text="removed").is_visible(), "notify's 404 is shown"
    me.shot("removed-channel")
    page.context.close()
    assert me.violations == []


# ---- 学习 ---------------------------------------------------------------------------------------------------------


def test_a_branch_secretary_reads_reports_assesses_a_probationer_and_sets_a_course_and_a_quiz(
    stack: Stack, browser: Any
) -> None:
    world = Branches(stack.running)
    mine, theirs = probationer(world, "周五", world.b1), probationer(world, "吴六", world.b2)
    report = thought_report(stack, world, mine, "第四季度思想汇报（周五）")
    thought_report(stack, world, theirs, "第四季度思想汇报（吴六）")
    ok(
        httpx.post(
            f"{world.learning}/v1/courses",
            headers=world.committee,
            json={"kind": "micro_lesson", "title": "第二支部微党课", "organisation_ids": [world.b2]},
        ),
        201,
    )
    folder = run_folder("desk-study")
    me = desk_person(stack, browser, world, SECRETARY, "1-secretary", folder)
    page = me.page
    waiting = page.locator("section", has=page.get_by_role("heading", name="待阅思想汇报"))
    eventually(
        lambda: me.go("/desk/study") and waiting.get_by_text("第四季度思想汇报（周五）").count() == 1,
        what="the report in learning's read model",
    )
    assert page.get_by_text("第四季度思想汇报（吴六）").count() == 0, "another branch's report is not listed"
    me.shot("study")

    with page.expect_navigation():
        page.get_by_role("link", name="阅读并确认：第四季度思想汇报（周五）").click()
    assert page.get_by_text("本季度我认真学习了党章").is_visible()
    page.get_by_label("阅后意见（可不填）").fill("已阅，望继续加强理论学习。")
    with page.expect_navigation():
        page.get_by_role("button", name="确认已阅").dblclick()
    read = ok(httpx.get(f"{world.learning}/v1/thought-reports/{report['id']}", headers=world.committee))
    assert read["acknowledged_at"] and read["comment"] == "已阅，望继续加强理论学习。"
    me.shot("report-acknowledged")
    eventually(
        lambda: (
            me.go("/desk/study")
            and page.get_by_role("link", name="阅读并确认：第四季度思想汇报（周五）").count() == 0
        ),
        what="the acknowledged report off the waiting list",
    )
    assert waiting.locator("details").get_by_text("第四季度思想汇报（周五）").count() == 1, "listed as read"

    probation = page.locator("section", has=page.get_by_role("heading", name="预备期考察"))
    row = probation.locator("tr", has_text="周五")
    assert row.get_by_text("未填写").is_visible() and probation.get_by_text("吴六").count() == 0
    with page.expect_navigation():
        row.get_by_role("link", name="查看：周五").click()
    assert page.get_by_role("heading", name="预备期考察情况：周五").is_visible()
    me.shot("probation")
    me.submit("保存考察意见")
    assert page.locator("#e-text").is_visible(), "an empty assessment is refused by its field"
    me.shot("probation-refused")
    page.locator("#f-text").fill("该同志预备期间按时提交思想汇报，积极参加组织生活。")
    me.submit("保存考察意见")
    summary = ok(httpx.get(f"{world.learning}/v1/probation/{mine}/summary", headers=world.committee))
    assert summary["assessment"]["text"] == "该同志预备期间按时提交思想汇报，积极参加组织生活。"
    me.shot("probation-assessed")

    me.go("/desk/study")
    page.get_by_text("发布课程", exact=True).first.click()
    assert page.locator("#f-organisation_id-course option").all_inner_texts() == ["测试第一党支部"]
    me.submit("发布课程")
    assert page.locator("#e-title").is_visible(), "the missing title is flagged by its field"
    me.shot("course-refused")
    page.get_by_label("课程名称").fill("学习党章第一章")
    page.get_by_label("课程内容").fill("党员的义务和权利。")
    page.get_by_label("视频或音频链接（每行一个）").fill("https://example.org/lesson-1.mp4")
    with page.expect_navigation():
        page.get_by_role("button", name="发布课程").dblclick()
    assert page.get_by_text("课程已发布。").is_visible()
    courses = ok(httpx.get(f"{world.learning}/v1/courses", headers=world.committee))
    assert [c["organisation_ids"] for c in courses if c["title"] == "学习党章第一章"] == [[world.b1]], (
        "a double click publishes once, for the secretary's branch"
    )

    opens = (world.now() - timedelta(minutes=5)).astimezone(BEIJING).strftime("%Y-%m-%dT%H:%M")
    closes = (world.now() + timedelta(days=7)).astimezone(BEIJING).strftime("%Y-%m-%dT%H:%M")
    page.get_by_text("安排测验", exact=True).first.click()
    page.get_by_label("开始作答").fill(opens)
    page.get_by_label("截止作答").fill(closes)
    page.get_by_label("题目").fill("党的根本宗旨是什么？\n全心全意为人民服务\n发展经济")
    me.submit("安排测验")
    assert page.locator("#e-questions").is_visible(), "a question without its right answer is refused"
    page.get_by_label("题目").fill(
        "党的根本宗旨是什么？\n*全心全意为人民服务\n发展经济\n\n预备期为几年？\n半年\n*一年"
    )
    me.submit("安排测验")
    assert page.locator("#e-quiz_title").is_visible(), "learning's refusal of the title is shown by its field"
    me.shot("quiz-refused")
    page.get_by_label("测验名称").fill("党章知识每周一测")
    me.submit("安排测验")
    assert page.get_by_text("测验已安排。").is_visible()
    quizzes = ok(httpx.get(f"{world.learning}/v1/quizzes", headers=world.committee))
    assert [q["question_count"] for q in quizzes if q["title"] == "党章知识每周一测"] == [2]
    eventually(
        lambda: (
            me.go("/desk/study")
            and page.get_by_role("cell", name="党章知识每周一测", exact=True).count() == 1
        ),
        what="the quiz listed",
    )
    assert page.get_by_role("cell", name="学习党章第一章").is_visible()
    assert page.get_by_text("第二支部微党课").count() == 0, "another branch's course is not listed"
    me.shot("courses-and-quizzes")

    (quiz,) = [q for q in quizzes if q["title"] == "党章知识每周一测"]
    ok(  # answers count at any hour (the default allows 06:00 to 22:00, and the clock may be anywhere)
        httpx.patch(
            f"{world.learning}/v1/options",
            headers=world.committee,
            json={"allowed_from": "00:00", "allowed_until": "00:00"},
        )
    )
    member = stack.running.token(world.tenant, "member", subject=f"member:{mine}")
    ok(
        httpx.post(
            f"{world.learning}/v1/quizzes/{quiz['id']}/answers",
            headers={"Authorization": f"Bearer {member}"},
            json={"question_id": "q1", "choice": 0},
        ),
        201,
    )
    with page.expect_navigation():
        page.get_by_role("link", name="成绩：党章知识每周一测").click()
    assert page.get_by_text("预备期为几年？").is_visible() and page.get_by_text("*").count() == 0
    scores = page.locator("table.grid tr", has_text="周五")
    eventually(lambda: page.reload() or scores.count() == 1, what="the answer in learning's read model")
    assert scores.locator("td").all_inner_texts() == ["周五", "1 / 2", "1"]
    me.shot("quiz-scores")

    committee = desk_person(stack, browser, world, COMMITTEE, "2-committee", folder)
    committee.go("/desk/study")
    both = committee.page.locator("section", has=committee.page.get_by_role("heading", name="预备期考察"))
    assert both.get_by_text("周五").is_visible() and both.get_by_text("吴六").is_visible()
    assert committee.page.get_by_role("cell", name="第二支部微党课").is_visible()
    assert (
        committee.page.locator("#f-organisation_id-course option").first.text_content()
        == "全体党员（党委发布）"
    )
    committee.submit("English")
    assert committee.page.get_by_role("heading", name="Thought reports to read").is_visible()
    committee.shot("study-committee-en")
    committee.submit("中文")
    for person in (me, committee):
        person.page.context.close()
    assert me.violations == [] and committee.violations == []


# ---- 统计 (analytics) --------------------------------------------------------------------------------------------


def test_the_committee_sees_cadence_and_transfers_from_analytics_and_a_note_without_it(
    stack: Stack, browser: Any
) -> None:
    world = Branches(stack.running)
    transfer = stack.running.url("transfer")
    case = ok(
        httpx.post(
            f"{transfer}/v1/transfers",
            headers=world.committee,
            json={
                "member_id": world.members["钱二"],
                "destination": "same_tenant",
                "receiving_tenant": world.tenant,
                "receiving_org_id": world.b2,
                "reason": "工作调动",
            },
        ),
        201,
    )
    ok(httpx.post(f"{transfer}/v1/transfers/{case['id']}/branch-approval", headers=world.committee))
    folder = run_folder("desk-statistics")
    committee = desk_person(stack, browser, world, COMMITTEE, "1-committee", folder)
    page = committee.page
    cadence = page.locator(
        "section", has=page.get_by_role("heading", name="各支部“三会一课”召开情况", exact=False)
    )
    funnel = page.locator("section", has=page.get_by_role("heading", name="组织关系转接", exact=False))

    def landed() -> bool:
        # The request and the branch's approval are two events: analytics may land them in different batches.
        committee.go("/desk/statistics")
        requested = funnel.locator("tr", has_text="发起申请").locator("td").last
        approved = funnel.locator("tr", has_text="支部审核").locator("td").last
        return (
            cadence.get_by_role("rowheader", name="测试第二党支部").count() == 1
            and requested.count() == 1
            and requested.inner_text() == "1"
            and approved.count() == 1
            and approved.inner_text() == "1"
        )

    eventually(landed, timeout=60, what="analytics to land the branches, the transfer and its approval")
    assert cadence.get_by_role("rowheader", name="测试第一党支部").is_visible()
    assert set(cadence.locator("svg.chart .chart-label").all_text_contents()) == {
        "测试第一党支部",
        "测试第二党支部",
    }
    assert funnel.locator("tr", has_text="办结").locator("td").last.inner_text() == "0"
    committee.shot("statistics")

    secretary = desk_person(stack, browser, world, SECRETARY, "2-secretary", folder)
    secretary.go("/desk/statistics")
    assert secretary.page.get_by_text("统计图表向党委组织员和管理员开放", exact=False).first.is_visible()
    secretary.shot("statistics-not-for-secretaries")

    stack.running.platform.services["analytics"].stop()  # the last test of the module: analytics goes away
    committee.go("/desk/statistics")
    assert page.get_by_text("统计服务暂未运行", exact=False).first.is_visible()
    committee.shot("statistics-analytics-down")
    assert committee.go("/desk").get_by_role("heading", name="待办已等待时长").is_visible(), (
        "the rest of the desk works without analytics"
    )
    for person in (committee, secretary):
        person.page.context.close()
    assert committee.violations == [] and secretary.violations == []
