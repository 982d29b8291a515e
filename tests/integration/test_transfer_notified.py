"""The operator's check, end to end: a tenant's webhook points at a local receiver, a transfer runs through the
real registry, transfer and notify, and every step arrives once, signed, in Chinese; both tenants' inboxes
show it."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import httpx
import pytest

from shared.devstack import free_port
from tests.integration.conftest import Infra, Running, start_platform
from tests.integration.helpers import eventually
from tests.integration.test_transfer import World

pytestmark = pytest.mark.integration
SECRET = "whsec-e2e-0001"


class Receiver:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.calls.append({"headers": dict(self.headers), "body": body})
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def everything(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = start_platform(
        infra,
        tmp_path_factory.mktemp("e2e"),
        services=("registry", "transfer", "notify"),
        extra_env={"WEBHOOK_ALLOWED_HOSTS": "127.0.0.1"},
    )  # the loopback receiver, by name
    try:
        yield running
    finally:
        running.stop()


def test_every_step_of_a_transfer_arrives_once_signed_and_in_chinese(everything: Running) -> None:
    receiver = Receiver()
    world = World(everything)
    notify = everything.url("notify")
    # The sending branch's secretaries hear of every step of their member's transfer.
    channel = httpx.put(
        f"{notify}/v1/channels/branch-robot",
        headers=world.s,
        json={
            "kind": "webhook",
            "role": "branch_secretary",
            "org_id": world.s_branch,
            "url": receiver.url,
            "preset": "generic",
            "secret": SECRET,
            "language": "zh-CN",
        },
    )
    assert channel.status_code in (200, 201), channel.text

    case = world.issue()
    world.post(case, "acceptance", world.rc)
    world.post(case, "check-in", world.rc, {})
    world.until(case, "checked_in")
    assert (
        world.post(case, "receipt-return", world.rc, {"handler": "王", "phone": "1"}).json()["state"]
        == "completed"
    )

    def arrived() -> list[dict[str, Any]] | None:
        kinds = {json.loads(c["body"]).get("event_type", "") for c in receiver.calls}
        return receiver.calls if any("transfer_completed" in k for k in kinds) else None

    calls = eventually(arrived, timeout=60, what="the completion to reach the webhook")
    keys = [c["headers"]["Idempotency-Key"] for c in calls]
    assert len(keys) == len(set(keys)), "a delivery arrived twice"
    for call in calls:
        timestamp = call["headers"]["X-Lianxin-Timestamp"]
        expected = hmac.new(
            SECRET.encode(), f"{timestamp}.".encode() + call["body"], hashlib.sha256
        ).hexdigest()
        assert call["headers"]["X-Lianxin-Signature"] == f"v1={expected}"
        assert any("\u4e00" <= ch <= "\u9fff" for ch in call["body"].decode()), "the text is Chinese"
    steps = [json.loads(c["body"])["event_type"] for c in calls]
    for step in (
        "transfer_requested",
        "committee_approved",
        "letter_issued",
        "transfer_received",
        "member_checked_in",
        "receipt_returned",
        "transfer_completed",
    ):
        assert sum(step in s for s in steps) == 1, f"{step} arrived {sum(step in s for s in steps)} times"

    receiving_inbox = httpx.get(f"{notify}/v1/inbox", headers=world.rc, params={"limit": 200}).json()["items"]
    assert any("transfer" in i["event_type"] for i in receiving_inbox)
