"""In the browser: the secretary puts the sign-in code on the projector, and a member on a phone signs in in person
with it (a wrong code first, refused by its field; then the code the projector's QR code fills in)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.integration.conftest import Running
from tests.integration.console_browser import DESK, NARROW_PHONE, PHONE, run_folder, sign_in
from tests.integration.helpers import build_tree, eventually, new_tenant

pytestmark = pytest.mark.integration


def test_a_member_signs_in_with_the_code_the_secretary_shows(running: Running, browser: Any) -> None:
    registry, learning = running.url("registry"), running.url("learning")
    tenant = new_tenant()
    committee = running.auth(tenant, "committee")
    _, branch = build_tree(registry, committee)
    member = httpx.post(
        f"{registry}/v1/members",
        headers=committee,
        json={"name": "吴芳", "organisation_id": branch, "category": "full"},
    ).json()
    secretary = running.auth(tenant, "branch_secretary", orgs=[branch])
    eventually(
        lambda: (
            httpx.get(f"{learning}/v1/members/{member['id']}/history", headers=committee).status_code == 200
            or None
        ),
        what="learning to know the member",
    )
    now = datetime.fromisoformat(httpx.get(f"{learning}/_test/clock").json()["now"])
    starts = now + timedelta(minutes=10)  # sign-in opens half an hour before
    meeting = httpx.post(
        f"{learning}/v1/meetings",
        headers={**secretary, "Idempotency-Key": str(uuid.uuid4())},
        json={
            "organisation_id": branch,
            "meeting_type": "party_lecture",
            "title": "书记讲党课",
            "mode": "in_person",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat(),
            "place": "党员活动室",
            "short_notice_reason": "上级通知提前召开",
        },
    )
    assert meeting.status_code == 201, meeting.text
    meeting_id = meeting.json()["id"]

    folder = run_folder("member-meeting-code")
    desk = sign_in(
        browser,
        running,
        tenant=tenant,
        person="测试第一党支部",
        role="支部书记",
        who="1-secretary",
        viewport=DESK,
        folder=folder,
    )
    projector = desk.go(f"/desk/meetings/{meeting_id}/sign-in-code")
    code = projector.get_by_test_id("attendance-code").inner_text().strip()
    assert len(code) == 6 and code.isdigit()
    assert projector.locator(".qr svg").is_visible()
    desk.shot("projector")
    as_member = {
        "Authorization": f"Bearer {running.token(tenant, 'member', subject='member:' + member['id'])}"
    }
    seen = httpx.get(f"{learning}/v1/meetings/{meeting_id}", headers=as_member)
    assert seen.status_code == 200 and code not in seen.text, "the member's view never carries the code"
    desk.page.context.close()

    person = sign_in(
        browser,
        running,
        tenant=tenant,
        person="吴芳",
        role="党员",
        who="2-member",
        viewport=PHONE,
        folder=folder,
    )
    page = person.page
    person.go("/m/meetings")
    person.shot("meetings")
    page.get_by_label("现场签到码").fill(f"{(int(code) + 1) % 10**6:06d}")
    person.submit("签到：书记讲党课")
    assert page.locator(".field.invalid .error").get_by_text("签到码不正确").is_visible(), "said by the field"
    assert page.get_by_label("现场签到码").get_attribute("aria-invalid") == "true"
    person.shot("wrong-code")

    person.go(f"/m/meetings?code={code}")  # as the projector's QR code opens it
    assert page.get_by_label("现场签到码").input_value() == code
    person.submit("签到：书记讲党课")
    assert page.get_by_text("签到成功。").is_visible()
    person.shot("signed-in-with-code")
    marks = eventually(
        lambda: (
            httpx.get(f"{learning}/v1/meetings/{meeting_id}/attendance", headers=secretary).json()[
                "attendance"
            ]
            or None
        ),
        what="the attendance",
    )
    assert [(m["member_id"], m["method"]) for m in marks] == [(member["id"], "in_person")]

    page.set_viewport_size(NARROW_PHONE)
    person.go("/m/meetings")
    assert not person.scrolls_sideways()
    page.context.close()
    assert desk.violations == [] and person.violations == []
