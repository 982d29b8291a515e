"""The secretaries' desk in the browser, on a platform of its own with a settable clock: 组织生活 scheduled under
the notice rule (the refusal shown by its field, a double click scheduling once), the projector's sign-in code,
excused absences, the speaking order and the minutes, the quarter's cadence; a branch secretary sees and schedules
for their own branch only."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.integration.conftest import Infra, Running, start_platform
from tests.integration.console_browser import DESK, run_folder, sign_in
from tests.integration.helpers import build_tree, eventually, national_id, new_tenant

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def platform(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = start_platform(
        infra, tmp_path_factory.mktemp("console-desk"), console=True, extra_env={"TEST_CLOCK": "true"}
    )
    try:
        yield running
    finally:
        running.stop()


class Branches:
    """A committee with two branches: three members in the first, one in the second."""

    def __init__(self, running: Running) -> None:
        self.r, self.learning = running.url("registry"), running.url("learning")
        self.tenant = new_tenant()
        self.committee = running.auth(self.tenant, "committee")
        root, self.b1 = build_tree(self.r, self.committee)
        other = httpx.post(
            f"{self.r}/v1/organisations",
            headers=self.committee,
            json={"code": "B2", "name": "测试第二党支部", "kind": "branch", "parent_id": root},
        )
        assert other.status_code == 201, other.text
        self.b2 = other.json()["id"]
        self.members = {
            name: self.register(name, branch)
            for name, branch in (("赵一", self.b1), ("钱二", self.b1), ("孙三", self.b1), ("李四", self.b2))
        }
        for member_id in self.members.values():
            eventually(
                lambda m=member_id: (
                    httpx.get(f"{self.learning}/v1/members/{m}/history", headers=self.committee).status_code
                    == 200
                    or None
                ),
                what="learning to know the member",
            )

    def register(self, name: str, branch: str) -> str:
        response = httpx.post(
            f"{self.r}/v1/members",
            headers=self.committee,
            json={"name": name, "organisation_id": branch, "category": "full"},
        )
        assert response.status_code == 201, response.text
        member_id: str = response.json()["id"]
        return member_id

    def now(self) -> datetime:
        return datetime.fromisoformat(httpx.get(f"{self.learning}/_test/clock").json()["now"])

    def meetings(self, title: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = httpx.get(f"{self.learning}/v1/meetings", headers=self.committee).json()
        return [m for m in items if m["title"] == title]


def test_a_branch_secretary_schedules_runs_and_minutes_a_meeting_for_their_branch_only(
    platform: Running, browser: Any
) -> None:
    world = Branches(platform)
    tomorrow = (world.now() + timedelta(days=1)).astimezone(ZoneInfo("Asia/Shanghai")).date()
    other = httpx.post(
        f"{world.learning}/v1/meetings",
        headers={**world.committee, "Idempotency-Key": str(uuid.uuid4())},
        json={
            "organisation_id": world.b2,
            "meeting_type": "party_lecture",
            "title": "第二支部党课",
            "mode": "in_person",
            "starts_at": f"{tomorrow}T09:00:00+08:00",
            "ends_at": f"{tomorrow}T10:00:00+08:00",
            "place": "第二会议室",
            "short_notice_reason": "补课",
        },
    )
    assert other.status_code == 201, other.text

    folder = run_folder("desk-meetings")
    me = sign_in(
        browser,
        platform,
        tenant=world.tenant,
        person="测试第一党支部",
        role="支部书记",
        who="secretary",
        viewport=DESK,
        folder=folder,
    )
    page = me.page
    me.go("/desk/meetings")
    assert page.get_by_text("第二支部党课").count() == 0, "another branch's meeting is not listed"
    options = page.locator("#f-organisation_id option").all_inner_texts()
    assert options == ["测试第一党支部"], options
    assert page.get_by_text("会议通知须提前3天发出").is_visible()
    me.shot("meetings-empty")

    # Keyboard: from the branch picker, Tab reaches the schedule button.
    page.locator("#f-organisation_id").focus()
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.textContent.trim()") == "安排会议":
            break
    else:
        pytest.fail("the schedule button is not reachable with Tab")

    page.get_by_label("会议主题").fill("十二月支部党员大会")
    page.get_by_label("会议类型").select_option(label="组织生活会")
    page.get_by_label("开始时间").fill(f"{tomorrow}T14:00")
    page.get_by_label("结束时间").fill(f"{tomorrow}T16:00")
    page.get_by_label("地点").fill("党员活动室")
    page.get_by_label("议程（每行一项）").fill("传达学习文件\n讨论发展对象")
    me.submit("安排会议")
    assert page.locator("#e-short_notice_reason").is_visible(), "the notice rule's refusal is by its field"
    me.shot("short-notice-refused")
    page.get_by_label("临时召开的理由").fill("传达上级紧急通知")
    with page.expect_navigation():
        page.get_by_role("button", name="安排会议").dblclick()
    assert page.get_by_text("会议已安排，通知已发出。").is_visible()
    assert len(world.meetings("十二月支部党员大会")) == 1, "a double click schedules once"
    meeting_id = page.url.split("?")[0].rsplit("/", 1)[-1]
    me.shot("meeting-scheduled")

    projector = page.context.new_page()
    projector.goto(f"{me.console}/desk/meetings/{meeting_id}/sign-in-code")
    assert projector.locator(".qr svg").is_visible() and "/m/meetings" in projector.content()
    projector.screenshot(path=str(folder / "secretary-projector-sign-in-code.png"), full_page=True)
    projector.close()

    page.locator("#f-member_id").select_option(label="钱二")
    me.submit("登记请假")
    assert page.locator("#e-excuse_reason").is_visible(), "the missing reason is flagged by its field"
    page.locator("#f-member_id").select_option(label="钱二")
    page.get_by_label("请假事由").fill("外出参加培训")
    me.submit("登记请假")
    # The page reads learning's read model, which may take a moment to have the excused absence.
    excused = page.locator("table.grid tr", has_text="钱二").get_by_text("请假")
    eventually(lambda: page.reload() or excused.count() > 0, what="the excused absence listed")
    assert excused.is_visible()
    me.shot("excused")

    page.get_by_label("发言序号：孙三").fill("1")
    page.get_by_label("发言序号：赵一").fill("2")
    me.submit("保存发言顺序")
    assert page.locator(".alert.error").count() == 0
    assert page.get_by_label("发言序号：孙三").input_value() == "1"
    detail = httpx.get(f"{world.learning}/v1/meetings/{meeting_id}", headers=world.committee).json()
    assert detail["speaking_order"] == [world.members["孙三"], world.members["赵一"]]
    me.shot("speaking-order")

    page.get_by_role("textbox", name="会议记录").fill("会议传达了上级文件，讨论了发展对象。")
    me.submit("保存会议记录（会议即视为已召开，签到关闭）")
    assert page.get_by_text("已召开").first.is_visible()
    me.shot("minutes")

    me.go("/desk/meetings")
    cadence = page.locator("section", has=page.get_by_role("heading", name="本季度“三会一课”落实情况"))
    assert cadence.get_by_role("rowheader", name="测试第一党支部").is_visible()
    assert cadence.get_by_role("rowheader", name="测试第二党支部").count() == 0
    assert cadence.locator("svg.chart .chart-label").all_text_contents() == ["测试第一党支部"]
    me.shot("cadence")

    me.go(f"/desk/meetings/{other.json()['id']}")
    assert page.get_by_text("第二支部党课").count() == 0, "another branch's meeting does not open"
    me.shot("other-branch-refused")
    page.context.close()
    assert me.violations == []


def test_the_committee_renames_a_branch_and_a_revoked_secretary_loses_the_roll_on_the_next_click(
    platform: Running, browser: Any
) -> None:
    world = Branches(platform)
    folder = run_folder("desk-organisations")
    secretary = sign_in(
        browser,
        platform,
        tenant=world.tenant,
        person="测试第一党支部",
        role="支部书记",
        who="1-secretary",
        viewport=DESK,
        folder=folder,
    )
    secretary.go("/desk")
    assert secretary.page.get_by_role("heading", name="待办已等待时长").is_visible()
    secretary.shot("work-list-ageing")
    eventually(
        lambda: secretary.go("/desk/members").get_by_role("link", name="赵一").count() == 1,
        what="the roll's read model with the new members",
    )
    assert secretary.page.get_by_role("link", name="李四").count() == 0, (
        "another branch's member is not listed"
    )
    secretary.shot("roll-own-branch")

    committee = sign_in(
        browser,
        platform,
        tenant=world.tenant,
        person="测试大学党委",
        role="党委组织员",
        who="2-committee",
        viewport=DESK,
        folder=folder,
    )
    page = committee.page
    committee.go("/desk/orgs")
    committee.shot("tree")
    with page.expect_navigation():
        page.get_by_role("link", name="办理：测试第一党支部").click()
    committee.shot("branch")
    page.get_by_label("新名称").fill("")
    committee.submit("更名")
    assert page.locator(".alert.error").is_visible() or page.locator(".field.invalid").count() > 0
    committee.shot("rename-refused")
    page.get_by_label("新名称").fill("测试第一党支部（本科生）")
    committee.submit("更名")
    assert page.get_by_role("heading", name="测试第一党支部（本科生）").is_visible()
    committee.submit("撤销组织")
    assert page.locator("#e-close_reason").is_visible(), "closing needs a reason, asked by its field"

    page.get_by_label("用户标识").fill("demo-secretary-B1")
    committee.submit("任命")
    row = page.locator("table.grid tr", has_text="demo-secretary-B1")
    # The roles table is the registry's read model: it has the new role a moment after the answer.
    eventually(lambda: page.reload() or row.get_by_text("支部书记").count() == 1, what="the new role listed")
    committee.shot("assigned")
    with page.expect_navigation():
        row.get_by_role("button", name="免去：demo-secretary-B1").click()
    eventually(lambda: page.reload() or row.count() == 0, what="the role gone from the list")
    committee.shot("revoked")

    secretary.go("/desk/members")
    assert secretary.page.get_by_role("link", name="赵一").count() == 0, "the revoked secretary sees nothing"
    secretary.shot("roll-after-revocation")

    committee.go(f"/desk/members/{world.members['李四']}")
    page.get_by_label("决定事项").select_option(label="停止党籍")
    page.get_by_label("决定日期").fill("2026-11-20")
    page.get_by_label("作出决定的组织").fill("支部党员大会")
    committee.submit("记录组织决定")
    assert page.locator("#e-basis").is_visible(), "the missing basis is flagged by its field"
    committee.shot("decision-refused")
    page.get_by_label("依据（会议或文件）").fill("第5次支部党员大会决议")
    committee.submit("记录组织决定")
    eventually(
        lambda: page.reload() or page.get_by_text("组织决定", exact=True).count() > 0, what="the decision"
    )
    committee.shot("decision-recorded")

    committee.go("/desk/members")
    page.get_by_text("导入与导出").click()
    committee.submit("检查或导入")
    assert page.locator("#e-file").is_visible(), "a missing file is flagged by its field"
    csv_text = f"name,organisation_code,category,gender,national_id_number\n周五,B2,正式,男,{national_id()}\n吴六,NOPE,正式,女,\n"
    page.set_input_files(
        "#f-file", files=[{"name": "roll.csv", "mimeType": "text/csv", "buffer": csv_text.encode()}]
    )
    committee.submit("检查或导入")
    heading = page.locator("details h2").inner_text()
    assert heading == "逐行结果（只检查，不导入）：通过 1 · 未通过 1", page.locator("details").inner_text()
    assert page.locator("table.grid tr", has=page.get_by_role("cell", name="3", exact=True)).count() == 1
    committee.shot("import-report")
    with page.expect_download() as download:
        page.get_by_role("link", name="导出名册（身份证号、手机号已脱敏）").click()
    exported = download.value.path().read_text(encoding="utf-8")
    assert "李四" in exported and "13900005555" not in exported

    committee.go("/desk/notify")
    rule = page.locator("table.grid tr", has=page.get_by_role("button", name="停用：")).first
    name = rule.locator("code").inner_text()
    with page.expect_navigation():
        rule.get_by_role("button").click()
    row = page.locator("table.grid tr").filter(has=page.get_by_text(name, exact=True))
    assert row.get_by_text("已停用").is_visible()
    rules = httpx.get(f"{platform.url('notify')}/v1/rules", headers=world.committee).json()
    assert next(r for r in rules if r["name"] == name)["enabled"] is False
    committee.shot("notify-rule-off")
    for person in (secretary, committee):
        person.page.context.close()
    assert secretary.violations == [] and committee.violations == []
