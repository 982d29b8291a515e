"""In the browser, on a platform of its own with a settable clock: a cross-tenant transfer clicked through by the
sending branch secretary, the sending committee and the receiving committee (each in their own browser), the
letter printed and checked on the public page; a member on a phone following their transfer while secretaries act
through the API; a member signing in to a meeting, checking in to study and submitting a thought report."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.integration.conftest import Infra, Running, start_platform
from tests.integration.console_browser import DESK, PHONE, Person, run_folder, sign_in
from tests.integration.helpers import build_tree, eventually, national_id, new_tenant

pytestmark = pytest.mark.integration
APPROVAL = {
    "dues_paid_through": "2026-11",
    "issuer_address": "北京市海淀区学院路1号",
    "issuer_phone": "010-62000000",
}


@pytest.fixture(scope="module")
def platform(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = start_platform(
        infra, tmp_path_factory.mktemp("console-flows"), console=True, extra_env={"TEST_CLOCK": "true"}
    )
    try:
        yield running
    finally:
        running.stop()


class Parties:
    """A sending tenant with a member ready for a letter, and a receiving tenant with a branch."""

    def __init__(self, running: Running, name: str) -> None:
        self.running = running
        self.r, self.t = running.url("registry"), running.url("transfer")
        self.sender, self.receiver = new_tenant(), new_tenant()
        self.s, self.rc = running.auth(self.sender, "committee"), running.auth(self.receiver, "committee")
        self.s_root, self.s_branch = build_tree(self.r, self.s)
        _, self.r_branch = build_tree(self.r, self.rc)
        member = httpx.post(
            f"{self.r}/v1/members",
            headers=self.s,
            json={
                "name": name,
                "organisation_id": self.s_branch,
                "category": "full",
                "gender": "male",
                "ethnicity": "汉族",
                "birth_date": "2003-05-12",
                "national_id_number": national_id("20030512"),
                "phone": "13900005555",
            },
        )
        assert member.status_code == 201, member.text
        self.member = member.json()

    def case_state(self, case_id: str) -> str:
        state: str = httpx.get(f"{self.t}/v1/transfers/{case_id}", headers=self.s).json()["state"]
        return state


def _reload_until(person: Person, text: str, timeout: float = 30) -> None:
    """The saga answers over NATS a moment after a click: reload until the page says so."""
    deadline = time.monotonic() + timeout
    while person.page.get_by_text(text).count() == 0:
        assert time.monotonic() < deadline, f"the page never said {text!r}"
        time.sleep(0.5)
        person.page.reload()


def test_secretaries_click_a_cross_tenant_transfer_through_and_anyone_checks_the_letter(
    platform: Running, browser: Any
) -> None:
    world = Parties(platform, "李明")
    folder = run_folder("transfer-clicked-through")
    branch = sign_in(
        browser,
        platform,
        tenant=world.sender,
        person="测试第一党支部",
        role="支部书记",
        who="1-branch",
        viewport=DESK,
        folder=folder,
    )
    page = branch.page
    branch.go("/desk/transfers")
    branch.shot("transfers-empty")
    page.get_by_label("按姓名查找党员").fill("李")
    branch.submit("查找党员")
    assert page.get_by_role("radio", name=re.compile("^李明")).is_checked(), "the one match is picked"
    branch.shot("member-found")
    page.get_by_label("接收单位代码（转往平台上其他单位时填写）").fill(world.receiver)
    page.get_by_label("转接原因").fill("毕业就业")
    branch.submit("发起转接")
    assert page.locator(".alert.error").is_visible(), "no receiving branch picked: refused on the form"
    assert page.locator("#e-destination").is_visible()
    branch.shot("transfer-refused-form")
    branch.submit("查看组织树")
    assert page.locator("ul.tree").get_by_text("测试大学党委").is_visible(), "the receiver's tree"
    assert page.get_by_role("radio", name="测试大学党委").count() == 0, "only a 党支部 receives"
    page.get_by_role("radio", name="测试第一党支部").check()
    branch.shot("destination-tree")
    branch.submit("发起转接")
    assert page.get_by_text("待支部审核").first.is_visible()
    case_id = page.url.rsplit("/", 1)[-1]
    branch.shot("case-draft")
    branch.submit("支部同意")
    assert page.get_by_text("待党委审批").first.is_visible()
    branch.shot("case-branch-approved")

    committee = sign_in(
        browser,
        platform,
        tenant=world.sender,
        person="测试大学党委",
        role="党委组织员",
        who="2-committee",
        viewport=DESK,
        folder=folder,
    )
    committee.go("/desk")
    committee.shot("work-list")
    committee.go(f"/desk/transfers/{case_id}")
    committee.submit("党委审批并签发介绍信")
    assert committee.page.locator("#e-dues_paid_through").is_visible(), "the missing field is flagged"
    committee.shot("approval-error")
    for label, value in (
        ("党费交至（年-月）", APPROVAL["dues_paid_through"]),
        ("开信单位地址", APPROVAL["issuer_address"]),
        ("开信单位电话", APPROVAL["issuer_phone"]),
    ):
        committee.page.get_by_label(label).fill(value)
    committee.submit("党委审批并签发介绍信")
    _reload_until(committee, "已开介绍信，待接收")
    committee.shot("letter-issued")
    code = committee.page.locator(".card code").first.inner_text().strip()
    letter = committee.page.context.new_page()
    letter.goto(f"{committee.console}/desk/transfers/{case_id}/letter")
    assert "介绍信" in letter.content() and "李明" in letter.content()
    letter.screenshot(path=str(folder / "2-committee-letter-print.png"), full_page=True)
    letter.close()

    public = browser.new_context(viewport=PHONE, locale="zh-CN", bypass_csp=True)
    anyone = Person(public.new_page(), committee.console, "3-public", folder)
    anyone.go("/verify")
    anyone.page.get_by_label("请输入介绍信上的核验码").fill(code)
    anyone.submit("核验")
    assert anyone.page.get_by_text("介绍信真实有效").is_visible()
    assert anyone.page.get_by_text("李明").count() == 0, "the public page shows the name masked"
    anyone.shot("verify-valid")
    anyone.go("/v1/letters/verify/AAAAAAAAAAAAAAAA")
    assert anyone.page.get_by_text("未找到此核验码对应的介绍信").is_visible()
    anyone.shot("verify-unknown")

    receiver = sign_in(
        browser,
        platform,
        tenant=world.receiver,
        person="测试大学党委",
        role="党委组织员",
        who="4-receiver",
        viewport=DESK,
        folder=folder,
    )
    todo = receiver.page.locator("table.grid tbody tr", has_text="已开介绍信，待接收")
    assert todo.count() == 1
    receiver.shot("work-list")
    with receiver.page.expect_navigation():
        todo.get_by_role("link", name="办理").click()
    receiver.submit("接收")
    assert receiver.page.get_by_text("已接收，待报到").first.is_visible()
    receiver.shot("received")
    receiver.submit("确认报到")
    _reload_until(receiver, "已报到，待回执")
    receiver.shot("checked-in")
    receiver.page.get_by_label("经办人").fill("王书记")
    receiver.page.get_by_label("开信单位电话").fill("010-1")
    receiver.submit("寄回回执")
    assert receiver.page.get_by_text("已办结").first.is_visible()
    receiver.shot("completed")
    assert world.case_state(case_id) == "completed"

    people = (branch, committee, anyone, receiver)
    for person in people:
        person.page.context.close()
    assert [v for p in people for v in p.violations] == []


def test_a_member_follows_their_transfer_on_a_phone_while_secretaries_act(
    platform: Running, browser: Any
) -> None:
    world = Parties(platform, "张伟")
    folder = run_folder("member-follows-transfer")
    member = sign_in(
        browser,
        platform,
        tenant=world.sender,
        person="张伟",
        role="党员",
        who="member",
        viewport=PHONE,
        folder=folder,
    )
    member.go("/m/transfer")
    assert member.page.get_by_text("您目前没有组织关系转接。").is_visible()
    member.shot("no-transfer")

    case = httpx.post(
        f"{world.t}/v1/transfers",
        headers=world.s,
        json={
            "member_id": world.member["id"],
            "destination": "other_tenant",
            "receiving_tenant": world.receiver,
            "receiving_org_id": world.r_branch,
            "reason": "毕业就业",
            "graduate": True,
        },
    ).json()
    # The member's page reads transfer's read model, which has the new case a moment after the 201.
    eventually(
        lambda: member.go("/m").get_by_text("组织关系转接：待支部审核").is_visible(),
        what="the new transfer on the member's home page",
    )
    member.shot("home-draft")
    assert (
        httpx.post(f"{world.t}/v1/transfers/{case['id']}/branch-approval", headers=world.s).status_code == 200
    )
    assert (
        httpx.post(
            f"{world.t}/v1/transfers/{case['id']}/committee-approval", headers=world.s, json=APPROVAL
        ).status_code
        == 200
    )
    eventually(lambda: world.case_state(case["id"]) == "letter_issued", what="the letter")
    member.go("/m/transfer")
    page = member.page
    assert page.locator(".steps li.done").count() == 3 and page.locator(".steps li.todo").count() == 4
    assert page.get_by_text("请于").first.is_visible() and page.get_by_text("报到").first.is_visible()
    assert page.locator(".deadline strong").last.inner_text().endswith("天后到期")
    member.shot("letter-issued")
    member.go(f"/m/transfer/{case['id']}/letter")
    assert "介绍信" in page.content()
    pdf = page.request.get(member.console + f"/m/transfer/{case['id']}/letter.pdf")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF-"), "the letter as the transfer service prints it"
    member.go("/m/transfer")
    with page.expect_navigation():
        page.get_by_role("link", name="核验介绍信").click()
    assert page.get_by_text("介绍信真实有效").is_visible()
    member.shot("verify")

    assert httpx.post(f"{world.t}/v1/transfers/{case['id']}/acceptance", headers=world.rc).status_code == 200
    assert (
        httpx.post(f"{world.t}/v1/transfers/{case['id']}/check-in", headers=world.rc, json={}).status_code
        == 200
    )
    eventually(lambda: world.case_state(case["id"]) == "checked_in", what="the check-in")
    member.go("/m/transfer")
    assert page.locator(".steps li.done").count() == 5
    member.shot("checked-in")
    eventually(
        lambda: member.go("/m/me").get_by_text("组织关系转接：报到").is_visible(),
        what="the check-in on the member's timeline",
    )
    member.shot("timeline")
    member.page.context.close()
    assert member.violations == []


def test_a_member_signs_in_to_a_meeting_checks_in_to_study_and_reports(
    platform: Running, browser: Any
) -> None:
    registry, learning = platform.url("registry"), platform.url("learning")
    tenant = new_tenant()
    committee = platform.auth(tenant, "committee")
    _, branch = build_tree(registry, committee)
    member = httpx.post(
        f"{registry}/v1/members",
        headers=committee,
        json={"name": "刘洋", "organisation_id": branch, "category": "probationary"},
    ).json()
    secretary = platform.auth(tenant, "branch_secretary", orgs=[branch])
    assert (
        httpx.patch(
            f"{learning}/v1/options",
            headers=committee,
            json={"allowed_from": "00:00", "allowed_until": "00:00"},
        ).status_code
        == 200
    )
    eventually(
        lambda: (
            httpx.get(f"{learning}/v1/members/{member['id']}/history", headers=committee).status_code == 200
            or None
        ),
        what="learning to know the member",
    )
    now = datetime.fromisoformat(httpx.get(f"{learning}/_test/clock").json()["now"])
    starts = now + timedelta(minutes=10)
    meeting = httpx.post(
        f"{learning}/v1/meetings",
        headers={**secretary, "Idempotency-Key": str(uuid.uuid4())},
        json={
            "organisation_id": branch,
            "meeting_type": "themed_party_day",
            "title": "十二月主题党日",
            "mode": "hybrid",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat(),
            "place": "党员活动室",
            "short_notice_reason": "临时学习传达",
        },
    )
    assert meeting.status_code == 201, meeting.text

    folder = run_folder("member-meeting-and-study")
    person = sign_in(
        browser,
        platform,
        tenant=tenant,
        person="刘洋",
        role="党员",
        who="member",
        viewport=PHONE,
        folder=folder,
    )
    page = person.page
    assert (
        page.get_by_text("组织生活：十二月主题党日").is_visible()
        and page.get_by_text("今日学习打卡").is_visible()
    )
    person.shot("home-due")
    person.go("/m/meetings")
    person.shot("meetings")
    person.submit("签到：十二月主题党日")
    assert page.get_by_text("签到成功。").is_visible()
    person.shot("signed-in")
    person.submit("签到：十二月主题党日")
    assert page.locator(".alert.error").is_visible(), "a second sign-in shows the service's refusal"
    attendance = httpx.get(f"{learning}/v1/meetings/{meeting.json()['id']}", headers=secretary).json()
    assert attendance["signed_in"] == 1, attendance

    person.go("/m/study")
    page.get_by_label("学习内容").fill("《中国共产党章程》第一章")
    person.submit("打卡")
    assert page.get_by_text("今日已打卡。").first.is_visible()
    person.shot("checked-in")
    page.get_by_label("标题").fill("2026年第四季度思想汇报")
    page.get_by_label("汇报内容").fill("本季度认真学习党章党规，按时参加组织生活。")
    person.submit("提交思想汇报")
    assert page.get_by_text("思想汇报已提交。").is_visible()
    assert page.get_by_text("2026年第四季度思想汇报").is_visible()
    person.shot("report-submitted")
    person.go("/m")
    assert page.get_by_text("今日学习打卡").count() == 0
    person.shot("home-after")
    page.context.close()
    assert person.violations == []
