"""Learning's attendance codes and host-branch meetings over HTTP: in person a member signs in with the code the
secretary shows (wrong codes limited per member), online needs none; a mobile member sees and attends the host
branch's meetings from home, and the attendance follows them home."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import httpx
import pytest

from tests.integration.conftest import Running
from tests.integration.helpers import eventually
from tests.integration.learning_world import (
    Tenant,
    advance,
    announce,
    known,
    learning_platform,
    new_branch_tenant,
    ok,
    problem_type,
    registry_event,
)

pytestmark = pytest.mark.integration
running = pytest.fixture(scope="module", name="running")(learning_platform)


@dataclass(frozen=True)
class World:
    home: Tenant
    host: Tenant
    mobile: str  # a member of home, hosted by the host branch while away
    meeting: dict[str, Any]  # home's hybrid meeting
    hosted: dict[str, Any]  # the host branch's hybrid meeting


@pytest.fixture(scope="module")
def world(running: Running) -> World:
    home, host = new_branch_tenant(running), new_branch_tenant(running)
    mobile = home.known_member()
    registry_event(
        running,
        host.id,
        "inflow_registered",
        {
            "registration_id": str(uuid4()),
            "member_id": mobile,
            "home_tenant": home.id,
            "home_org_id": home.branch,
            "host_tenant": host.id,
            "host_org_id": host.branch,
            "registered_on": "2026-11-01",
        },
    )
    known(host, mobile)
    meeting, hosted = announce(home), announce(host)
    advance(running, 4 * 86400)  # the meetings start: sign-in is open
    return World(home, host, mobile, meeting, hosted)


def code_of(t: Tenant, meeting: dict[str, Any]) -> str:
    body = ok(httpx.get(f"{t.url}/v1/meetings/{meeting['id']}/attendance-code", headers=t.secretary()))
    code: str = body["code"]
    return code


def sign_in(t: Tenant, meeting: dict[str, Any], member: str, **body: Any) -> httpx.Response:
    return httpx.post(
        f"{t.url}/v1/meetings/{meeting['id']}/sign-in", headers=t.member_token(member), json=body
    )


def test_the_secretary_reads_a_six_digit_code_and_a_member_cannot(world: World) -> None:
    code = code_of(world.home, world.meeting)
    assert len(code) == 6 and code.isdigit()
    url = f"{world.home.url}/v1/meetings/{world.meeting['id']}"
    assert (
        httpx.get(f"{url}/attendance-code", headers=world.home.member_token(world.mobile)).status_code == 403
    )
    member_view = httpx.get(url, headers=world.home.member_token(world.mobile))
    assert member_view.status_code == 200 and code not in member_view.text


def test_codes_are_random_per_meeting(world: World) -> None:
    codes = {code_of(world.home, announce(world.home)) for _ in range(3)} | {
        code_of(world.home, world.meeting)
    }
    assert len(codes) > 1  # one in a million that four random codes coincide; none derived from the branch


def test_in_person_without_or_with_a_wrong_code_names_the_field(world: World) -> None:
    member = world.home.known_member()
    missing = sign_in(world.home, world.meeting, member, method="in_person")
    assert problem_type(missing, 422) == "wrong-attendance-code" and missing.json()["field"] == "code"
    right = code_of(world.home, world.meeting)
    wrong = sign_in(
        world.home, world.meeting, member, method="in_person", code=f"{(int(right) + 1) % 10**6:06d}"
    )
    assert problem_type(wrong, 422) == "wrong-attendance-code" and "4 tries left" in wrong.json()["detail"]
    assert ok(sign_in(world.home, world.meeting, member, method="in_person", code=right), 201)["method"] == (
        "in_person"
    )


def test_five_wrong_codes_lock_the_member_out_even_with_the_right_one(world: World) -> None:
    member, right = world.home.known_member(), code_of(world.home, world.meeting)
    wrong = f"{(int(right) + 7) % 10**6:06d}"
    for _ in range(5):
        problem_type(sign_in(world.home, world.meeting, member, method="in_person", code=wrong), 422)
    locked = sign_in(world.home, world.meeting, member, method="in_person", code=right)
    assert problem_type(locked, 429) == "too-many-code-attempts"


def test_online_sign_in_needs_no_code(world: World) -> None:
    member = world.home.known_member()
    assert ok(sign_in(world.home, world.meeting, member, method="online"), 201)["status"] == "present"


def test_another_tenants_member_with_the_right_code_finds_no_meeting(world: World) -> None:
    other = new_branch_tenant(world.home.running)
    stranger = other.known_member()
    code = code_of(world.home, world.meeting)
    response = sign_in(other, world.meeting, stranger, method="in_person", code=code)
    assert problem_type(response, 404) == "meeting-not-found"


def test_a_new_code_replaces_the_old_one(world: World) -> None:
    url = f"{world.home.url}/v1/meetings/{world.meeting['id']}/attendance-code"
    before = code_of(world.home, world.meeting)
    renewed = ok(httpx.post(url, headers=world.home.secretary()))["code"]
    assert renewed == code_of(world.home, world.meeting) and len(renewed) == 6
    if renewed != before:
        member = world.home.known_member()
        refused = sign_in(world.home, world.meeting, member, method="in_person", code=before)
        assert problem_type(refused, 422) == "wrong-attendance-code"


def test_the_projectors_rotation_keeps_the_code_just_shown_valid(world: World) -> None:
    url = f"{world.home.url}/v1/meetings/{world.meeting['id']}/attendance-code/rotation"
    shown = ok(httpx.post(url, headers=world.home.secretary()))
    assert ok(httpx.post(url, headers=world.home.secretary()))["code"] == shown["code"], "not due yet"
    advance(world.home.running, 5 * 60)
    rotated = ok(httpx.post(url, headers=world.home.secretary()))
    assert rotated["issued_at"] > shown["issued_at"] and rotated["rotates_at"] > shown["rotates_at"]
    member = world.home.known_member()
    assert ok(sign_in(world.home, world.meeting, member, method="in_person", code=shown["code"]), 201)
    assert httpx.post(url, headers=world.home.member_token(member)).status_code == 403


def test_from_home_the_mobile_member_lists_the_host_branchs_meetings_marked(world: World) -> None:
    rows = ok(httpx.get(f"{world.home.url}/v1/meetings", headers=world.home.member_token(world.mobile)))
    relation = {r["id"]: r["relation"] for r in rows}
    assert relation[world.meeting["id"]] == "home" and relation[world.hosted["id"]] == "host"
    secretary_rows = ok(httpx.get(f"{world.home.url}/v1/meetings", headers=world.home.secretary()))
    assert all("relation" not in r for r in secretary_rows)
    assert world.hosted["id"] not in {r["id"] for r in secretary_rows}


def test_from_home_the_mobile_member_signs_in_at_the_host_with_its_code(world: World) -> None:
    code = code_of(world.host, world.hosted)
    signed = sign_in(world.home, world.hosted, world.mobile, method="in_person", code=code)
    assert ok(signed, 201)["status"] == "present"
    attendance = eventually(
        lambda: [
            a
            for a in ok(
                httpx.get(
                    f"{world.host.url}/v1/meetings/{world.hosted['id']}/attendance",
                    headers=world.host.secretary(),
                )
            )["attendance"]
            if a["member_id"] == world.mobile
        ],
        what="the attendance at the host",
    )
    assert attendance[0]["method"] == "in_person"
    history = eventually(
        lambda: [
            a
            for a in ok(
                httpx.get(
                    f"{world.home.url}/v1/members/{world.mobile}/history", headers=world.home.secretary()
                )
            )["attendance"]
            if a["tenant"] == world.host.id
        ],
        what="the host attendance in the home history",
    )
    assert history[0]["status"] == "present"
