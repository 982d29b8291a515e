"""A service killed with SIGKILL at every step boundary and restarted: the transfer still ends completed (or
compensated), none is stuck, and the member is never on two rolls or on none."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.integration.conftest import Infra, Running, start_platform
from tests.integration.helpers import eventually
from tests.integration.jetstream import consumer_idle, messages, publish
from tests.integration.test_transfer import APPROVAL, World

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def platform(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = start_platform(
        infra, tmp_path_factory.mktemp("transfer-faults"), services=("registry", "transfer")
    )
    try:
        yield running
    finally:
        running.stop()


def crash(running: Running, service: str) -> None:
    process = running.platform.services[service]
    process.kill()
    process.start()
    process.wait_ready()


def on_one_roll(world: World) -> list[str]:
    rolls = world.rolls()
    assert len(rolls) == 1, f"the member is on {len(rolls)} rolls: {rolls}"
    return rolls


def test_sigkill_at_every_step_boundary_still_completes_on_exactly_one_roll(platform: Running) -> None:
    world = World(platform)
    case = world.request()
    crash(platform, "transfer")
    assert world.post(case, "branch-approval", world.s).status_code == 200
    crash(platform, "registry")
    assert world.post(case, "committee-approval", world.s, APPROVAL).status_code == 200
    crash(platform, "transfer")  # the hold request may be stored but not yet published
    crash(platform, "registry")  # ... or published and not yet answered
    world.until(case, "letter_issued")
    on_one_roll(world)
    assert world.post(case, "acceptance", world.rc).status_code == 200
    crash(platform, "transfer")
    assert world.post(case, "check-in", world.rc, {}).status_code == 200
    crash(platform, "registry")  # enrolment requested, perhaps half consumed
    crash(platform, "transfer")
    checked = world.until(case, "checked_in")
    assert checked["enrolled_member_id"]
    eventually(
        lambda: world.rolls() == [f"receiver:{checked['enrolled_member_id']}"] or None,
        timeout=30,
        what="the member on the receiving roll only",
    )
    assert (
        world.post(case, "receipt-return", world.rc, {"handler": "王", "phone": "1"}).json()["state"]
        == "completed"
    )
    on_one_roll(world)


def test_sigkill_during_compensation_still_lifts_the_hold(platform: Running) -> None:
    world = World(platform)
    case = world.issue()
    assert world.post(case, "refusal", world.rc, {"reason": "材料不全"}).status_code == 200
    crash(platform, "transfer")
    crash(platform, "registry")
    eventually(
        lambda: (
            httpx.get(f"{world.r}/v1/members/{world.member['id']}", headers=world.s).json()[
                "transfer_pending"
            ]
            is None
            or None
        ),
        timeout=30,
        what="the hold to be lifted after the crashes",
    )
    assert on_one_roll(world) == [f"sender:{world.member['id']}"]


def test_a_registry_reply_redelivered_under_a_new_message_id_issues_no_second_letter(
    platform: Running,
) -> None:
    world = World(platform)
    case = world.issue()
    nats_url = platform.platform.nats_url
    (placed,) = messages(nats_url, "LIANXIN_REGISTRY", f"lianxin.registry.{world.sender}.hold_placed")
    publish(
        nats_url,
        f"lianxin.registry.{world.sender}.hold_placed",
        placed.data,
        {"Nats-Msg-Id": f"again-{case['id']}"},
    )
    (lifted_request,) = [
        m
        for m in messages(nats_url, "LIANXIN_TRANSFER", f"lianxin.transfer.{world.sender}.>")
        if b"hold_requested" in m.data
    ]
    publish(
        nats_url,
        f"lianxin.transfer.{world.sender}.hold_requested",
        lifted_request.data,
        {"Nats-Msg-Id": f"again-request-{case['id']}"},
    )
    eventually(
        lambda: (
            (
                consumer_idle(nats_url, "LIANXIN_REGISTRY", "transfer-from-registry")
                and consumer_idle(nats_url, "LIANXIN_TRANSFER", "registry-from-transfer")
            )
            or None
        ),
        what="both consumers to take the copies",
    )
    history = httpx.get(f"{world.t}/v1/transfers/{case['id']}/history", headers=world.s).json()
    assert [h["type"] for h in history].count("LetterIssued") == 1
    replies = messages(nats_url, "LIANXIN_REGISTRY", f"lianxin.registry.{world.sender}.hold_placed")
    assert len([m for m in replies if not m.headers["Nats-Msg-Id"].startswith("again-")]) == 1, (
        "the registry answered the re-sent request again"
    )
