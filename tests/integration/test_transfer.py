"""The transfer saga over HTTP and NATS with the real registry: completed, refused, cancelled, reissued, expired,
a second transfer refused, letters verified or not, and tenants that are not party kept out."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from functools import partial
from typing import Any

import httpx
import pytest

from shared.printing import inspect_pdf
from tests.integration.conftest import Infra, Running, start_platform
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
        infra,
        tmp_path_factory.mktemp("transfer"),
        services=("registry", "transfer"),
        extra_env={"TEST_CLOCK": "true"},
    )
    try:
        yield running
    finally:
        running.stop()


class World:
    def __init__(self, running: Running) -> None:
        self.platform = running
        self.r, self.t = running.url("registry"), running.url("transfer")
        self.sender, self.receiver = new_tenant(), new_tenant()
        self.s = running.auth(self.sender, "committee")
        self.rc = running.auth(self.receiver, "committee")
        self.s_root, self.s_branch = build_tree(self.r, self.s)
        _, self.r_branch = build_tree(self.r, self.rc)
        for _ in range(
            5
        ):  # the ID number's sequence is random: a clash with an earlier test's member is retried
            registered = httpx.post(
                f"{self.r}/v1/members",
                headers=self.s,
                json={
                    "name": "李明",
                    "organisation_id": self.s_branch,
                    "category": "full",
                    "gender": "male",
                    "ethnicity": "汉族",
                    "birth_date": "2003-05-12",
                    "national_id_number": national_id("20030512"),
                },
            )
            if registered.status_code == 201:
                break
        assert registered.status_code == 201, registered.text
        self.member = registered.json()

    def request(self, **overrides: Any) -> dict[str, Any]:
        body = {
            "member_id": self.member["id"],
            "destination": "other_tenant",
            "receiving_tenant": self.receiver,
            "receiving_org_id": self.r_branch,
            "reason": "毕业就业",
            "graduate": True,
            **overrides,
        }
        response = httpx.post(f"{self.t}/v1/transfers", headers=self.s, json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def post(
        self, case: dict[str, Any], action: str, headers: dict[str, str], body: Any = None
    ) -> httpx.Response:
        return httpx.post(f"{self.t}/v1/transfers/{case['id']}/{action}", headers=headers, json=body)

    def case(self, case: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
        response = httpx.get(f"{self.t}/v1/transfers/{case['id']}", headers=headers or self.s)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def until(self, case: dict[str, Any], state: str) -> dict[str, Any]:
        return eventually(
            lambda: (
                (c := self.case(case))["state"] == state
                and not c["next_step"].startswith("the registry")
                and c
            ),
            timeout=30,
            what=f"the case to be {state}",
        )

    def issue(self) -> dict[str, Any]:
        case = self.request()
        assert self.post(case, "branch-approval", self.s).status_code == 200
        approved = self.post(case, "committee-approval", self.s, APPROVAL)
        assert approved.status_code == 200, approved.text
        return self.until(case, "letter_issued")

    def reminders(self, case: dict[str, Any]) -> list[int]:
        """The days before expiry at which the case recorded a reminder (published as letter_expiry_reminder)."""
        history = httpx.get(f"{self.t}/v1/transfers/{case['id']}/history", headers=self.s).json()
        return [h["days_before"] for h in history if h["step"] == "letter_expiry_reminder"]

    def rolls(self) -> list[str]:
        """Where the person is on a roll: the sender's member, and any member at the receiver."""
        found = []
        sender = httpx.get(f"{self.r}/v1/members", headers=self.s).json()["items"]
        receiver = httpx.get(f"{self.r}/v1/members", headers=self.rc).json()["items"]
        found += [f"sender:{m['id']}" for m in sender]
        found += [f"receiver:{m['id']}" for m in receiver]
        return found


def _equal(read: Callable[[dict[str, Any]], Any], case: dict[str, Any], expected: Any) -> bool | None:
    return read(case) == expected or None


@pytest.fixture
def world(platform: Running) -> World:
    return World(platform)


def test_a_transfer_from_draft_to_completed_keeps_the_member_on_exactly_one_roll(world: World) -> None:
    # The roll is a read model: the registration reaches it a moment after the 201.
    eventually(
        lambda: world.rolls() == [f"sender:{world.member['id']}"] or None, what="the member on the roll"
    )
    case = world.issue()
    letter = case["letter"]
    assert letter["name"] == "李明" and letter["to_org"] == "测试第一党支部" and letter["valid_days"] == 90
    assert letter["issuer_name"] == "测试大学党委" and letter["age"] >= 22
    assert (letter["gender"], letter["ethnicity"], letter["category"]) == ("男", "汉族", "正式党员")
    assert len(letter["national_id_number"]) == 18 and "*" not in letter["national_id_number"], (
        "unmasked on the letter"
    )
    held = httpx.get(f"{world.r}/v1/members/{world.member['id']}", headers=world.s).json()
    assert held["transfer_pending"] == case["id"]
    assert world.rolls() == [f"sender:{world.member['id']}"]

    # The receiver sees the letter through the API with its own rights.
    assert world.case(case, world.rc)["letter"]["letter_no"] == letter["letter_no"]
    assert world.post(case, "acceptance", world.rc).status_code == 200
    assert world.post(case, "check-in", world.rc, {}).status_code == 200
    checked = world.until(case, "checked_in")
    assert checked["enrolled_member_id"]
    assert eventually(lambda: len(world.rolls()) == 1 and world.rolls(), what="one roll after enrolment") == [
        f"receiver:{checked['enrolled_member_id']}"
    ]
    receipt = world.post(case, "receipt-return", world.rc, {"handler": "王书记", "phone": "010-1"})
    assert receipt.status_code == 200 and receipt.json()["state"] == "completed"
    # The public page reads a projection: it says "completed" a moment after the case does.
    verified = eventually(
        lambda: (
            (v := httpx.get(f"{world.t}/v1/letters/verify/{letter['code']}").json())["status"] == "completed"
            and v
        ),
        what="the letter to verify as completed",
    )
    assert verified["name"].startswith("李") and "明" not in verified["name"]
    assert world.rolls() == [f"receiver:{checked['enrolled_member_id']}"]


def test_refusal_by_the_receiver_leaves_the_member_active_at_the_sender(world: World) -> None:
    case = world.issue()
    refused = world.post(case, "refusal", world.rc, {"reason": "非本单位人员"})
    assert refused.status_code == 200 and refused.json()["state"] == "refused"
    eventually(
        lambda: (
            httpx.get(f"{world.r}/v1/members/{world.member['id']}", headers=world.s).json()[
                "transfer_pending"
            ]
            is None
            or None
        ),
        what="the hold to be lifted",
    )
    assert world.rolls() == [f"sender:{world.member['id']}"]
    eventually(
        lambda: (
            httpx.get(f"{world.t}/v1/letters/verify/{case['letter']['code']}").json()["status"] == "voided"
            or None
        ),
        what="the letter to verify as voided",
    )


def test_cancellation_and_a_second_transfer_while_one_is_pending(world: World) -> None:
    first = world.issue()
    second = world.request()
    world.post(second, "branch-approval", world.s)
    world.post(second, "committee-approval", world.s, APPROVAL)
    refused = world.until(second, "refused")
    assert refused["refusal"]["reason_code"] == "transfer_pending"
    assert world.post(first, "cancellation", world.s, {"reason": "本人撤回"}).json()["state"] == "cancelled"
    eventually(
        lambda: (
            httpx.get(f"{world.r}/v1/members/{world.member['id']}", headers=world.s).json()[
                "transfer_pending"
            ]
            is None
            or None
        ),
        what="the hold to be lifted",
    )
    assert world.rolls() == [f"sender:{world.member['id']}"]


def test_reissue_voids_the_old_letter_and_the_new_one_verifies(world: World) -> None:
    case = world.issue()
    old = case["letter"]
    reissued = world.post(case, "void", world.s, {"reason": "介绍信遗失", "reissue": True})
    assert reissued.status_code == 200, reissued.text
    new = reissued.json()["letter"]
    assert new["letter_no"] != old["letter_no"]
    assert eventually(
        lambda: httpx.get(f"{world.t}/v1/letters/verify/{old['code']}").json()["status"] == "voided" or None,
        what="the old letter voided",
    )
    assert httpx.get(f"{world.t}/v1/letters/verify/{new['code']}").json()["status"] == "valid"


def test_reminders_at_t_minus_7_and_1_then_expiry_by_the_clock_compensates(
    world: World, platform: Running
) -> None:
    case = world.issue()  # a graduate's letter: 90 days
    for days, reminded in ((84, [7]), (5, [7, 1])):
        assert httpx.post(f"{world.t}/_test/clock/advance", json={"seconds": days * 86400}).status_code == 200
        eventually(partial(_equal, world.reminders, case, reminded), timeout=30, what=f"reminders {reminded}")
    assert httpx.post(f"{world.t}/_test/clock/advance", json={"seconds": 3 * 86400}).status_code == 200
    expired = world.until(case, "expired")
    assert world.reminders(case) == [7, 1], "each reminder once"
    assert expired["state"] == "expired"
    eventually(
        lambda: (
            httpx.get(f"{world.r}/v1/members/{world.member['id']}", headers=world.s).json()[
                "transfer_pending"
            ]
            is None
            or None
        ),
        what="the hold to be lifted",
    )
    assert httpx.get(f"{world.t}/v1/letters/verify/{case['letter']['code']}").json()["status"] == "expired"


def test_forged_and_altered_letters_do_not_verify(world: World) -> None:
    case = world.issue()
    letter = {k: v for k, v in case["letter"].items() if k != "signature"}
    signature = case["letter"]["signature"]
    good = httpx.post(f"{world.t}/v1/letters/verify", json={"fields": letter, "signature": signature}).json()
    assert good == {"signature_valid": True, "status": "valid", "reason": None}
    altered = httpx.post(
        f"{world.t}/v1/letters/verify",
        json={"fields": {**letter, "to_org": "别的支部"}, "signature": signature},
    ).json()
    assert altered["signature_valid"] is False and altered["status"] == "forged or altered"
    assert httpx.get(f"{world.t}/v1/letters/verify/NOSUCHCODE000000").json()["status"] == "unknown"
    keys = httpx.get(f"{world.t}/v1/tenants/{world.sender}/letter-keys").json()["keys"]
    rotated = httpx.post(f"{world.t}/v1/letter-keys/rotate", headers=world.s).json()
    assert len(rotated["keys"]) == len(keys) + 1
    still = httpx.post(f"{world.t}/v1/letters/verify", json={"fields": letter, "signature": signature}).json()
    assert still["signature_valid"] is True, "rotation keeps old letters verifiable"


def test_another_tenant_cannot_read_or_act_on_a_case_it_is_not_party_to(
    world: World, platform: Running
) -> None:
    case = world.issue()
    outsider = platform.auth(new_tenant(), "committee")
    assert httpx.get(f"{world.t}/v1/transfers/{case['id']}", headers=outsider).status_code == 404
    for action, body in (
        ("acceptance", None),
        ("refusal", {"reason": "x"}),
        ("cancellation", {"reason": "x"}),
        ("check-in", {}),
    ):
        assert world.post(case, action, outsider, body).status_code == 404
    assert httpx.get(f"{world.t}/v1/transfers/{case['id']}/letter.html", headers=outsider).status_code == 404
    assert httpx.get(f"{world.t}/v1/transfers", headers=outsider).json() == []
    # The receiver may not act for the sender, and the sender not for the receiver.
    assert world.post(case, "cancellation", world.rc, {"reason": "x"}).status_code == 403
    assert world.post(case, "acceptance", world.s).status_code == 403


def test_the_member_requests_their_own_transfer_and_other_users_of_the_tenant_cannot_read_it(
    world: World, platform: Running
) -> None:
    def bearer(*roles: str, subject: str | None = None, orgs: list[str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {platform.token(world.sender, *roles, subject=subject, orgs=orgs)}"}

    member = bearer("member", subject=f"member:{world.member['id']}")
    body = {
        "member_id": world.member["id"],
        "destination": "other_tenant",
        "receiving_tenant": world.receiver,
        "receiving_org_id": world.r_branch,
        "reason": "就业",
    }
    other_member = bearer("member", subject=f"member:{uuid.uuid4()}")
    assert httpx.post(f"{world.t}/v1/transfers", headers=other_member, json=body).status_code == 403
    requested = httpx.post(f"{world.t}/v1/transfers", headers=member, json=body)
    assert requested.status_code == 201, requested.text
    case = requested.json()
    assert world.case(case, member)["state"] == "draft"
    assert world.post(case, "branch-approval", member).status_code == 403, (
        "the branch approves, not the member"
    )
    assert (
        world.post(case, "branch-approval", bearer("branch_secretary", orgs=[world.s_branch])).status_code
        == 200
    )
    for stranger in (other_member, bearer("branch_secretary", orgs=[world.r_branch])):
        assert httpx.get(f"{world.t}/v1/transfers/{case['id']}", headers=stranger).status_code == 403
        assert httpx.get(f"{world.t}/v1/transfers/{case['id']}/history", headers=stranger).status_code == 403


def test_the_letter_prints_as_html_and_pdf_with_its_code(world: World) -> None:
    case = world.issue()
    page = httpx.get(f"{world.t}/v1/transfers/{case['id']}/letter.html", headers=world.s)
    assert page.status_code == 200 and "中国共产党党员组织关系介绍信" in page.text
    assert case["letter"]["code"] in page.text and "<svg" in page.text
    pdf = httpx.get(f"{world.t}/v1/transfers/{case['id']}/letter.pdf", headers=world.s)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    printed = inspect_pdf(pdf.content)
    assert printed.fonts and all(embedded for _, embedded in printed.fonts), printed.fonts
    assert case["letter"]["letter_no"] in printed.text and world.member["name"] in printed.text
    assert printed.text.count(case["letter"]["letter_no"]) >= 3 and "回执" in printed.text


def test_the_qr_code_opens_a_chinese_page_in_a_browser_and_json_for_a_program(world: World) -> None:
    case = world.issue()
    url = f"{world.t}/v1/letters/verify/{case['letter']['code']}"
    browser = httpx.get(url, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.status_code == 200 and browser.headers["content-type"].startswith("text/html")
    assert "有效" in browser.text and case["letter"]["letter_no"] in browser.text
    assert world.member["name"] not in browser.text, "the public page masks the name"
    program = httpx.get(url, headers={"Accept": "application/json"})
    assert program.json()["status"] == "valid" and program.json()["letter_no"] == case["letter"]["letter_no"]
    unknown = httpx.get(f"{world.t}/v1/letters/verify/NOSUCHCODE", headers={"Accept": "text/html"})
    assert "查无此信" in unknown.text


def test_off_platform_the_receiver_confirms_with_the_code(world: World) -> None:
    case = world.request(
        destination="off_platform",
        receiving_tenant=None,
        receiving_org_id=None,
        receiving_org_name="某市某区某街道党工委",
        graduate=False,
    )
    world.post(case, "branch-approval", world.s)
    world.post(case, "committee-approval", world.s, APPROVAL)
    issued = world.until(case, "letter_issued")
    assert issued["letter"]["valid_days"] == 30
    confirmed = httpx.post(
        f"{world.t}/v1/letters/verify/{issued['letter']['code']}/confirm",
        json={"receiving_org_name": "某市某区某街道党工委", "handler_name": "赵", "handler_phone": "1"},
    )
    assert confirmed.status_code == 200
    world.until(case, "completed")
    member = httpx.get(f"{world.r}/v1/members/{world.member['id']}", headers=world.s).json()
    assert member["roll"] == "transferred_out"


def test_the_same_request_twice_with_one_key_is_one_case(world: World) -> None:
    headers = {**world.s, "Idempotency-Key": "transfer-once"}
    body = {
        "member_id": world.member["id"],
        "destination": "other_tenant",
        "receiving_tenant": world.receiver,
        "receiving_org_id": world.r_branch,
        "reason": "就业",
    }
    first = httpx.post(f"{world.t}/v1/transfers", headers=headers, json=body)
    again = httpx.post(f"{world.t}/v1/transfers", headers=headers, json=body)
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    assert len(httpx.get(f"{world.t}/v1/transfers", headers=world.s).json()) == 1


def test_a_graduation_batch_validates_rows_opens_transfers_and_shows_progress(
    world: World, platform: Running
) -> None:
    second = httpx.post(
        f"{world.r}/v1/members",
        headers=world.s,
        json={
            "name": "王芳",
            "organisation_id": world.s_branch,
            "category": "probationary",
            "national_id_number": national_id(),
        },
    ).json()
    third = httpx.post(
        f"{world.r}/v1/members",
        headers=world.s,
        json={
            "name": "张伟",
            "organisation_id": world.s_branch,
            "category": "full",
            "national_id_number": national_id(),
        },
    ).json()
    csv_text = (
        "member_id,destination,receiving_tenant,receiving_org_id,receiving_org_name,reason\n"
        f"{world.member['id']},other_tenant,{world.receiver},{world.r_branch},,就业\n"
        f"{second['id']},undecided,,,,待就业\n"
        f"{third['id']},off_platform,,,,升学\n"
        "not-an-id,off_platform,,,某地,x\n"
        f"{world.member['id']},off_platform,,,某地,重复\n"
    )
    headers = {**world.s, "Content-Type": "text/csv"}
    service_today = date.fromisoformat(httpx.get(f"{world.t}/_test/clock").json()["now"][:10])
    cut_off = service_today + timedelta(days=10)
    imported = httpx.post(
        f"{world.t}/v1/transfer-batches",
        headers=headers,
        content=csv_text.encode(),
        params={
            "title": "2026届毕业生",
            "cut_off": cut_off.isoformat(),
            "default_org_name": "生源地县委组织部",
        },
    )
    assert imported.status_code == 201, imported.text
    batch = imported.json()
    assert batch["accepted"] == 2 and batch["undecided"] == 1
    reasons = {r["line"]: " ".join(r["reasons"]) for r in batch["rejected"]}
    assert "receiving_org_name" in reasons[4] and "not an id" in reasons[5] and "earlier" in reasons[6]

    approved = httpx.post(
        f"{world.t}/v1/transfer-batches/{batch['id']}/approval", headers=world.s, json=APPROVAL
    )
    assert approved.status_code == 200, approved.text
    assert set(approved.json()["cases"]) == {world.member["id"]}, "undecided rows wait until the cut-off"
    progress = eventually(
        lambda: (
            (b := httpx.get(f"{world.t}/v1/transfer-batches/{batch['id']}", headers=world.s).json())[
                "progress"
            ].get("letter_issued")
            and b
        ),
        timeout=30,
        what="the batch's letter issued",
    )
    assert progress["progress"] == {"letter_issued": 1}
    assert (
        httpx.get(
            f"{world.t}/v1/transfer-batches/{batch['id']}", headers=platform.auth(new_tenant(), "committee")
        ).status_code
        == 404
    )

    httpx.post(f"{world.t}/_test/clock/advance", json={"seconds": 11 * 86400})
    after = httpx.post(
        f"{world.t}/v1/transfer-batches/{batch['id']}/approval", headers=world.s, json=APPROVAL
    )
    assert after.status_code == 200 and set(after.json()["cases"]) == {world.member["id"], second["id"]}
    default_case = httpx.get(
        f"{world.t}/v1/transfers/{after.json()['cases'][second['id']]}", headers=world.s
    ).json()
    assert (
        default_case["destination"] == "off_platform"
        and default_case["receiving_org_name"] == "生源地县委组织部"
    )


def test_work_lists_for_both_sides_and_an_overdue_receipt_escalates(world: World) -> None:
    def listed(worklist: str, headers: dict[str, str]) -> list[str]:
        response = httpx.get(
            f"{world.t}/v1/transfers/-/worklists/{worklist}", headers=headers, params={"days": 90}
        )
        assert response.status_code == 200, response.text
        return [c["id"] for c in response.json()]

    case = world.issue()
    assert case["id"] in listed("pending", world.s) and case["id"] not in listed("todo", world.s), (
        "未办结 at the sender"
    )
    # A branch secretary sees the cases of their branch only (the sending branch at the sender).
    own = world.platform.auth(world.sender, "branch_secretary", orgs=[world.s_branch])
    elsewhere = world.platform.auth(world.sender, "branch_secretary", orgs=[str(uuid.uuid4())])
    assert listed("pending", own) == [case["id"]] and listed("pending", elsewhere) == []
    # A page holds at most 500 cases, and says so: more is a 422 naming the parameter.
    too_many = httpx.get(
        f"{world.t}/v1/transfers/-/worklists/pending", headers=world.s, params={"limit": 501}
    )
    assert too_many.status_code == 422 and "limit" in too_many.text
    first = httpx.get(f"{world.t}/v1/transfers", headers=world.s, params={"limit": 1}).json()
    assert [c["id"] for c in first] == [case["id"]]
    assert httpx.get(f"{world.t}/v1/transfers", headers=world.s, params={"before": case["id"]}).json() == []
    assert case["id"] in listed("todo", world.rc) and case["id"] in listed("upcoming", world.rc), (
        "待办 at the receiver"
    )
    assert world.post(case, "acceptance", world.rc).status_code == 200
    assert world.post(case, "check-in", world.rc, {}).status_code == 200
    world.until(case, "checked_in")
    assert case["id"] in listed("upcoming", world.rc) and case["id"] not in listed("overdue", world.rc)

    assert httpx.post(f"{world.t}/_test/clock/advance", json={"seconds": 32 * 86400}).status_code == 200
    eventually(
        lambda: (
            any(
                h["step"] == "receipt_overdue"
                for h in httpx.get(f"{world.t}/v1/transfers/{case['id']}/history", headers=world.s).json()
            )
            or None
        ),
        timeout=30,
        what="the receipt-overdue escalation",
    )
    assert case["id"] in listed("overdue", world.s) and case["id"] in listed("overdue", world.rc), (
        "超时 on both sides"
    )


def test_within_the_tenant_the_receiving_branch_secretary_sees_reads_and_takes_the_branch_steps(
    world: World,
) -> None:
    second = httpx.post(
        f"{world.r}/v1/organisations",
        headers=world.s,
        json={"code": "B2", "name": "测试第二党支部", "kind": "branch", "parent_id": world.s_root},
    )
    assert second.status_code == 201, second.text
    to_branch = second.json()["id"]
    sending = world.platform.auth(world.sender, "branch_secretary", orgs=[world.s_branch])
    receiving = world.platform.auth(world.sender, "branch_secretary", orgs=[to_branch])

    def listed(path: str, headers: dict[str, str]) -> list[tuple[str, str]]:
        response = httpx.get(f"{world.t}/v1/transfers{path}", headers=headers)
        assert response.status_code == 200, response.text
        return [(c["id"], c["side"]) for c in response.json()]

    case = world.request(destination="same_tenant", receiving_tenant=world.sender, receiving_org_id=to_branch)
    assert world.post(case, "branch-approval", sending).status_code == 200
    assert world.post(case, "committee-approval", world.s, APPROVAL).status_code == 200
    world.until(case, "letter_issued")
    # The letter waits for the committee's acceptance: on neither branch secretary's 待办, on both their 未办结.
    assert listed("/-/worklists/todo", receiving) == []
    assert listed("/-/worklists/pending", receiving) == [(case["id"], "receiver")]
    assert listed("/-/worklists/pending", sending) == [(case["id"], "sender")]
    assert listed("/-/worklists/todo", sending) == []
    assert (case["id"], "both") in listed("", world.s)
    read = httpx.get(f"{world.t}/v1/transfers/{case['id']}", headers=receiving)
    assert read.status_code == 200 and read.json()["letter"]["to_org"] == "测试第二党支部"
    # A secretary of neither branch neither lists nor reads it.
    neither = world.platform.auth(world.sender, "branch_secretary", orgs=[str(uuid.uuid4())])
    assert listed("", neither) == []
    assert httpx.get(f"{world.t}/v1/transfers/{case['id']}", headers=neither).status_code == 403
    # The committee accepts (the pivot) and returns the receipt, both the committee's alone; the receiving branch's
    # secretary takes the member's report (报到).
    assert world.post(case, "acceptance", receiving).status_code == 403
    assert world.post(case, "acceptance", world.s).status_code == 200
    assert listed("/-/worklists/todo", receiving) == [(case["id"], "receiver")]
    assert world.post(case, "check-in", receiving, {}).status_code == 200
    world.until(case, "checked_in")
    assert listed("/-/worklists/todo", receiving) == [], "the receipt is the committee's to return"
    receipt = {"handler": "王书记", "phone": "010-1"}
    assert world.post(case, "receipt-return", receiving, receipt).status_code == 403
    done = world.post(case, "receipt-return", world.s, receipt)
    assert done.status_code == 200 and done.json()["state"] == "completed"
