"""In the browser: a member on a phone declares that they leave; their branch secretary, at a desk in a browser of
their own, sees it on the work list and confirms it; the member then sees the registration. Every member page
fits a 360 px screen; axe-core finds nothing serious on any page."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.conftest import Running
from tests.integration.console_browser import DESK, NARROW_PHONE, PHONE, run_folder, sign_in
from tests.integration.helpers import build_tree, eventually, national_id, new_tenant

pytestmark = pytest.mark.integration
MEMBER_PAGES = ["/m", "/m/me", "/m/mobility", "/m/transfer", "/m/meetings", "/m/study", "/m/inbox"]


def _tenant_with_member(running: Running, name: str = "李明") -> tuple[str, str, str]:
    registry = running.url("registry")
    tenant = new_tenant()
    committee = running.auth(tenant, "committee")
    _, branch = build_tree(registry, committee)
    member = httpx.post(
        f"{registry}/v1/members",
        headers=committee,
        json={
            "name": name,
            "organisation_id": branch,
            "category": "probationary",
            "national_id_number": national_id(),
            "phone": "13900004444",
            "gender": "male",
        },
    )
    assert member.status_code == 201, member.text
    return tenant, branch, member.json()["id"]


def test_a_member_declares_leaving_and_the_secretary_confirms(running: Running, browser) -> None:
    tenant, _, _ = _tenant_with_member(running)
    folder = run_folder("member-declares-leaving")
    member = sign_in(
        browser,
        running,
        tenant=tenant,
        person="李明",
        role="党员",
        who="member",
        viewport=PHONE,
        folder=folder,
    )
    page = member.page
    assert page.url.endswith("/m")
    assert page.get_by_role("heading", name="您好，李明").is_visible()
    member.shot("home")

    member.go("/m/mobility")
    member.shot("mobility-empty")
    # The service's own problem comes back next to the field it names.
    page.get_by_label("外出地点").fill("深圳市南山区")
    page.get_by_label("外出事由").fill("外出务工")
    page.get_by_label("外出期间联系方式").fill("微信 liming")
    member.submit("报告外出")
    assert page.locator("#e-expected_months").is_visible(), "the months the service asked for are flagged"
    member.shot("mobility-error")
    page.get_by_label("预计外出月数").fill("4")
    # A double click sends one declaration: the form's Idempotency-Key and the disabled button.
    with page.expect_navigation():
        page.get_by_role("button", name="报告外出", exact=True).dblclick()
    assert page.get_by_text("已报告，等待支部确认。").is_visible()
    assert page.get_by_text("待支部确认").first.is_visible()
    member.shot("mobility-declared")
    declared = httpx.get(
        f"{running.url('registry')}/v1/mobility-declarations", headers=running.auth(tenant, "committee")
    ).json()
    assert len(declared) == 1, declared

    secretary = sign_in(
        browser,
        running,
        tenant=tenant,
        person="测试第一党支部",
        role="支部书记",
        who="secretary",
        viewport=DESK,
        folder=folder,
    )
    desk = secretary.page
    assert desk.url.endswith("/desk")
    todo = desk.locator("table.grid tbody tr", has_text="待确认的外出报告")
    assert todo.count() == 1 and "李明" in todo.inner_text()
    secretary.shot("work-list")
    with desk.expect_navigation():
        todo.get_by_role("link", name="办理").click()
    secretary.shot("mobile-declarations")
    secretary.submit("确认外出登记：李明")
    assert (
        desk.get_by_text("本范围暂无待确认的外出报告").count()
        + desk.get_by_text("暂无待确认的外出报告。").count()
        == 1
    )
    outflow = desk.locator("table.grid tbody tr", has_text="深圳市南山区")
    assert outflow.count() == 1 and "已流出登记" in outflow.inner_text()
    secretary.shot("mobile-confirmed")

    member.go("/m/mobility")
    assert page.get_by_text("流动中：深圳市南山区").is_visible()
    assert page.get_by_text("支部已确认").is_visible()
    member.shot("mobility-confirmed")
    page.get_by_label("现在所在地").fill("深圳市福田区")
    member.submit("报告去向")
    assert page.get_by_text("已报告，支部已收到您的联系。").is_visible()
    member.shot("mobility-whereabouts")

    for person in (member, secretary):
        person.page.context.close()
    assert member.violations + secretary.violations == []


def test_every_member_page_fits_a_360_px_phone_in_both_languages(running: Running, browser) -> None:
    tenant, _, _ = _tenant_with_member(running, "王芳")
    folder = run_folder("member-pages-360")
    member = sign_in(
        browser,
        running,
        tenant=tenant,
        person="王芳",
        role="党员",
        who="member360",
        viewport=NARROW_PHONE,
        folder=folder,
    )
    wide = []
    for path in MEMBER_PAGES:
        member.go(path)
        member.shot(path.strip("/").replace("/", "-"))
        if member.scrolls_sideways():
            wide.append(path)
    member.go("/m")
    member.submit("English")
    assert member.page.get_by_role("heading", name="Hello, 王芳").is_visible()
    assert member.page.locator("html").get_attribute("lang") == "en"
    for path in MEMBER_PAGES:
        member.go(path)
        member.shot("en-" + path.strip("/").replace("/", "-"))
        if member.scrolls_sideways():
            wide.append("en:" + path)
    member.page.context.close()
    assert wide == []
    assert member.violations == []


def test_a_branch_secretary_sees_only_their_branch_and_a_revoked_one_loses_it_at_once(
    running: Running, browser
) -> None:
    tenant, branch, own = _tenant_with_member(running, "陈静")
    registry = running.url("registry")
    committee = running.auth(tenant, "committee")
    root = next(
        o["id"]
        for o in httpx.get(f"{registry}/v1/organisations", headers=committee).json()["items"]
        if o["kind"] == "primary_committee"
    )
    other = httpx.post(
        f"{registry}/v1/organisations",
        headers=committee,
        json={"code": "B2", "name": "测试第二党支部", "kind": "branch", "parent_id": root},
    ).json()["id"]
    stranger = httpx.post(
        f"{registry}/v1/members",
        headers=committee,
        json={"name": "孙丽", "organisation_id": other, "category": "full"},
    ).json()["id"]
    folder = run_folder("secretary-scope")
    secretary = sign_in(
        browser,
        running,
        tenant=tenant,
        person="测试第一党支部",
        role="支部书记",
        who="secretary",
        viewport=DESK,
        folder=folder,
    )
    secretary.go("/desk/members")
    rows = secretary.page.locator("table.grid tbody tr")
    assert rows.count() == 1 and "陈静" in rows.inner_text()
    secretary.shot("roll")
    assert secretary.go(f"/desk/members/{stranger}").get_by_role("heading", name="出错了").is_visible()
    secretary.go(f"/desk/members/{own}")
    assert secretary.page.get_by_role("heading", name="陈静").is_visible()
    secretary.shot("member")

    subject = "demo-secretary-B1"  # the development sign-in's subject for branch B1's secretary
    assert (
        httpx.post(
            f"{registry}/v1/organisations/{branch}/roles",
            headers=committee,
            json={"subject": subject, "role": "branch_secretary"},
        ).status_code
        == 204
    )
    assert (
        httpx.delete(
            f"{registry}/v1/organisations/{branch}/roles/{subject}/branch_secretary", headers=committee
        ).status_code
        == 204
    )
    eventually(
        lambda: secretary.go("/desk/members").locator("table.grid tbody tr").count() == 0 or None,
        what="the revoked secretary's roll to empty",
    )
    assert secretary.page.get_by_text("没有符合条件的党员。").is_visible()
    assert secretary.go(f"/desk/members/{own}").get_by_role("heading", name="出错了").is_visible()
    secretary.shot("revoked")
    secretary.page.context.close()
    assert secretary.violations == []
