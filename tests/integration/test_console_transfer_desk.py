"""In the browser: the sending committee voids and reissues a transfer's letter and cancels a transfer on the
desk; the buttons appear only where the transfer service would take the step, and a missing reason is shown next
to its field."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.conftest import Infra, Running, start_platform
from tests.integration.console_browser import DESK, Person, run_folder, sign_in
from tests.integration.helpers import eventually
from tests.integration.test_console_flows import APPROVAL, Parties

pytestmark = pytest.mark.integration
REISSUE, VOID, CANCEL = "补办介绍信", "作废介绍信并终止转接", "撤销转接"


@pytest.fixture(scope="module")
def platform(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = start_platform(infra, tmp_path_factory.mktemp("console-transfer-desk"), console=True)
    try:
        yield running
    finally:
        running.stop()


def _case(world: Parties, *, issued: bool) -> str:
    case = httpx.post(
        f"{world.t}/v1/transfers",
        headers=world.s,
        json={
            "member_id": world.member["id"],
            "destination": "other_tenant",
            "receiving_tenant": world.receiver,
            "receiving_org_id": world.r_branch,
            "reason": "毕业就业",
        },
    )
    assert case.status_code == 201, case.text
    case_id: str = case.json()["id"]
    if issued:
        assert httpx.post(f"{world.t}/v1/transfers/{case_id}/branch-approval", headers=world.s).is_success
        approved = httpx.post(
            f"{world.t}/v1/transfers/{case_id}/committee-approval", headers=world.s, json=APPROVAL
        )
        assert approved.is_success, approved.text
        eventually(lambda: world.case_state(case_id) == "letter_issued", what="the letter")
    return case_id


def _desk(
    browser: Any, platform: Running, world: Parties, folder: Path, person: str, role: str, who: str
) -> Person:
    """A desk user of the sending tenant, signed in by their visible name and role."""
    return sign_in(
        browser,
        platform,
        tenant=world.sender,
        person=person,
        role=role,
        who=who,
        viewport=DESK,
        folder=folder,
    )


def _buttons(person: Person) -> set[str]:
    names = {REISSUE, VOID, CANCEL}
    return {n for n in names if person.page.get_by_role("button", name=n, exact=True).count()}


def test_the_committee_reissues_then_voids_a_letter_and_cancels_a_transfer(
    platform: Running, browser: Any
) -> None:
    world = Parties(platform, "陈静")
    case_id = _case(world, issued=True)
    letter_no = httpx.get(f"{world.t}/v1/transfers/{case_id}", headers=world.s).json()["letter"]["letter_no"]
    folder = run_folder("transfer-void-reissue-cancel")

    branch = _desk(browser, platform, world, folder, "测试第一党支部", "支部书记", "1-branch")
    branch.go(f"/desk/transfers/{case_id}")
    assert branch.page.get_by_text("已开介绍信，待接收").first.is_visible()
    assert _buttons(branch) == set(), "the service takes these steps only from the committee"
    branch.shot("case-branch-view")

    committee = _desk(browser, platform, world, folder, "测试大学党委", "党委组织员", "2-committee")
    page = committee.page
    committee.go(f"/desk/transfers/{case_id}")
    assert _buttons(committee) == {REISSUE, VOID, CANCEL}
    committee.shot("letter-issued")
    committee.submit(REISSUE)
    assert page.locator("#e-reissue_reason").is_visible(), "the missing reason is flagged by its field"
    assert page.locator("#e-void_reason").count() == 0 and page.locator("#e-cancellation_reason").count() == 0
    assert page.get_by_label("补办原因").get_attribute("aria-invalid") == "true"
    committee.shot("reissue-error")
    page.get_by_label("补办原因").fill("介绍信遗失")
    committee.submit(REISSUE)
    reissued = httpx.get(f"{world.t}/v1/transfers/{case_id}", headers=world.s).json()
    assert reissued["state"] == "letter_issued" and reissued["letter"]["letter_no"] != letter_no
    assert page.get_by_text(reissued["letter"]["letter_no"]).first.is_visible()
    committee.shot("reissued")

    # Keyboard only: type the reason, Tab to the button, Enter.
    page.get_by_label("作废原因").focus()
    page.keyboard.type("填写有误")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent.trim()") == VOID
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert world.case_state(case_id) == "voided"
    assert page.get_by_text("已作废").first.is_visible()
    assert _buttons(committee) == set(), "nothing is offered on an ended case"
    committee.shot("voided")

    draft = _case(world, issued=False)
    committee.go(f"/desk/transfers/{draft}")
    assert _buttons(committee) == {CANCEL}, "no letter yet: only cancelling"
    page.get_by_label("撤销理由").fill("本人申请撤回")
    committee.submit(CANCEL)
    assert world.case_state(draft) == "cancelled"
    assert page.get_by_text("已撤销").first.is_visible()
    committee.shot("cancelled")

    people = (branch, committee)
    for person in people:
        person.page.context.close()
    assert [v for p in people for v in p.violations] == []


def test_a_transfer_opened_with_the_pickers_off_the_platform_and_within_the_tenant_then_received(
    platform: Running, browser: Any
) -> None:
    world = Parties(platform, "周敏")
    other = httpx.post(
        f"{world.r}/v1/members",
        headers=world.s,
        json={"name": "吴刚", "organisation_id": world.s_branch, "category": "full"},
    )
    assert other.status_code == 201, other.text
    second = httpx.post(
        f"{world.r}/v1/organisations",
        headers=world.s,
        json={"code": "B2", "name": "测试第二党支部", "kind": "branch", "parent_id": world.s_root},
    )
    assert second.status_code == 201, second.text
    folder = run_folder("transfer-pickers")
    committee = _desk(browser, platform, world, folder, "测试大学党委", "党委组织员", "committee")
    page = committee.page
    committee.go("/desk/transfers")
    page.get_by_label("按姓名查找党员").fill("王")
    committee.submit("查找党员")
    assert page.get_by_text("没有找到此姓名的党员").is_visible()
    assert page.locator(".alert.error").count() == 0, "finding requests nothing"
    assert page.get_by_role("radio", name=re.compile("^(周敏|吴刚)")).count() == 0, "nothing before a match"
    committee.shot("member-not-found")

    # Keyboard only: type the name, Tab to 查找党员, Enter.
    page.get_by_label("按姓名查找党员").fill("")
    page.get_by_label("按姓名查找党员").focus()
    page.keyboard.type("周敏")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "查找党员"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_role("radio", name=re.compile("^周敏")).is_checked()
    assert page.locator(".alert.error").count() == 0
    assert page.get_by_role("radio", name=re.compile("^吴刚")).count() == 0
    page.get_by_role("radio", name="平台外单位").check()
    page.get_by_label("平台外接收组织全称（转往平台外单位时填写）").fill("某省某市某局机关党委")
    page.get_by_label("转接原因").fill("工作调动")
    committee.shot("off-platform-form")
    committee.submit("发起转接")
    assert page.get_by_text("待支部审核").first.is_visible()
    assert page.get_by_role("heading", name=re.compile("某省某市某局机关党委")).is_visible()
    case_id = page.url.rsplit("/", 1)[-1]
    case = httpx.get(f"{world.t}/v1/transfers/{case_id}", headers=world.s).json()
    assert case["destination"] == "off_platform" and case["member_id"] == world.member["id"]
    committee.shot("off-platform-case")

    committee.go("/desk/transfers")
    page.get_by_label("按姓名查找党员").fill("吴")
    committee.submit("查找党员")
    page.get_by_role("radio", name="本单位其他支部").check()
    committee.submit("查看组织树")
    page.get_by_role("radio", name="测试第二党支部").check()
    page.get_by_label("转接原因").fill("工作调动")
    committee.shot("same-tenant-tree")
    committee.submit("发起转接")
    assert page.locator(".alert.error").count() == 0, page.locator(".alert.error").all_inner_texts()
    case_id = page.url.rsplit("/", 1)[-1]
    case = httpx.get(f"{world.t}/v1/transfers/{case_id}", headers=world.s).json()
    assert case["receiving_org_id"] == second.json()["id"] and case["member_id"] == other.json()["id"]
    committee.shot("same-tenant-case")

    # The committee is both sides of a transfer between its branches: once the letter is issued, it accepts it here.
    assert httpx.post(f"{world.t}/v1/transfers/{case_id}/branch-approval", headers=world.s).is_success
    approved = httpx.post(
        f"{world.t}/v1/transfers/{case_id}/committee-approval", headers=world.s, json=APPROVAL
    )
    assert approved.is_success, approved.text
    eventually(lambda: world.case_state(case_id) == "letter_issued", what="the letter")
    committee.go(f"/desk/transfers/{case_id}")
    assert page.get_by_text("本单位内转接").first.is_visible()
    assert _buttons(committee) == {REISSUE, VOID, CANCEL}, "the sending side's steps stay"
    committee.submit("接收")
    assert world.case_state(case_id) == "received"
    committee.shot("same-tenant-accepted")

    # The receiving branch's secretary finds it on their list and takes the member's report.
    receiving = _desk(browser, platform, world, folder, "测试第二党支部", "支部书记", "receiving-branch")
    receiving.go("/desk/transfers")
    assert receiving.page.get_by_role("cell", name="转入").count() == 1
    receiving.go(f"/desk/transfers/{case_id}")
    assert _buttons(receiving) == set() and receiving.page.get_by_role("button", name="接收").count() == 0
    receiving.submit("确认报到")
    eventually(lambda: world.case_state(case_id) == "checked_in", what="the check-in")
    receiving.shot("same-tenant-checked-in")
    for person in (committee, receiving):
        person.page.context.close()
    assert committee.violations == [] and receiving.violations == []


def test_a_graduation_batch_uploaded_checked_approved_and_followed(platform: Running, browser: Any) -> None:
    world = Parties(platform, "郑洁")
    folder = run_folder("transfer-batch")
    csv = folder / "graduates.csv"
    csv.write_text(
        "member_id,destination,receiving_tenant,receiving_org_id,receiving_org_name,reason\n"
        f"{world.member['id']},other_tenant,{world.receiver},{world.r_branch},,毕业就业\n"
        f"{uuid.uuid4()},off_platform,,,,毕业就业\n",
        encoding="utf-8",
    )
    committee = _desk(browser, platform, world, folder, "测试大学党委", "党委组织员", "committee")
    page = committee.page
    committee.go("/desk/transfers")
    with page.expect_navigation():
        page.get_by_role("link", name="毕业生批量转接（CSV）").click()
    committee.submit("上传并逐行检查")
    assert page.locator("#e-file").is_visible(), "no file: flagged by its field"
    committee.shot("upload-missing-file")
    page.get_by_label("批次名称").fill("2027届毕业生")
    page.get_by_label("CSV文件（UTF-8，含表头）").set_input_files(str(csv))
    committee.submit("上传并逐行检查")
    rejected = page.locator("table.grid tbody tr")
    assert rejected.count() == 1 and "3" in rejected.first.inner_text(), "the unknown member's line"
    assert "member_id" in rejected.first.inner_text()
    committee.shot("batch-checked")
    page.get_by_label("开信单位地址").fill(APPROVAL["issuer_address"])
    page.get_by_label("开信单位电话").fill(APPROVAL["issuer_phone"])
    page.get_by_label("党费交至（年-月）").fill(APPROVAL["dues_paid_through"])
    committee.submit("党委审批本批次并签发介绍信")
    progress = page.locator("table.grid tbody tr", has_text="郑洁")
    assert progress.count() == 1
    deadline = time.monotonic() + 30
    while "已开介绍信" not in progress.inner_text():
        assert time.monotonic() < deadline, progress.inner_text()
        time.sleep(0.5)
        page.reload()
    committee.shot("batch-progress")
    with page.expect_navigation():
        progress.get_by_role("link").click()
    assert page.get_by_text("已开介绍信，待接收").first.is_visible()
    page.context.close()
    assert committee.violations == []
