"""Notify end to end over real PostgreSQL, NATS, a loopback SMTP server and a loopback webhook receiver.

Transfer events are published onto LIANXIN_TRANSFER by the test (the transfer service's contracts are being
written), in the shape notify's contracts.py documents. Time moves through notify's test clock.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse
from uuid import uuid4

import httpx
import pytest
from aiosmtpd.controller import Controller

from notify.channels.webhooks import dingtalk_sign, verify_lianxin_signature
from shared.devstack import free_port
from tests.integration.conftest import Infra, Running, start_platform
from tests.integration.helpers import build_tree, eventually, inbox, new_tenant, register, service_now
from tests.integration.jetstream import publish

pytestmark = pytest.mark.integration
SECRET = "whsec-0123456789"
SEQUENCE = itertools.count(1)


@dataclass
class Hit:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A loopback webhook receiver. /ok/* answers 200; /flaky/* 500 twice, then 200; /down/* 500 until healed;
    /gone/* 404."""

    port: int
    hits: list[Hit] = field(default_factory=list)
    healed: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def to(self, path: str) -> list[Hit]:
        with self.lock:
            return [h for h in self.hits if h.path == path]

    def answer(self, path: str) -> int:
        with self.lock:
            seen = sum(1 for h in self.hits if h.path == path)
        if path.startswith("/flaky/"):
            return 500 if seen <= 2 else 200
        if path.startswith("/down/"):
            return 200 if path in self.healed else 500
        if path.startswith("/gone/"):
            return 404
        return 200


def _serve(receiver: Receiver) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            url = urlparse(self.path)
            with receiver.lock:
                receiver.hits.append(Hit(url.path, parse_qs(url.query), dict(self.headers.items()), body))
            status = receiver.answer(url.path)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"errcode":0}' if status == 200 else b'{"error":"nope"}')

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", receiver.port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def to(self, address: str) -> list[Any]:
        return [m for m in self.messages if m["To"] == address]


@dataclass
class Stack:
    running: Running
    receiver: Receiver
    mailbox: Mailbox

    @property
    def notify(self) -> str:
        return self.running.url("notify")

    def headers(
        self, tenant: str, *roles: str, orgs: list[str] | None = None, subject: str | None = None
    ) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.running.token(tenant, *roles, orgs=orgs, subject=subject)}"}


@pytest.fixture(scope="module")
def stack(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    receiver = Receiver(free_port())
    server = _serve(receiver)
    running = start_platform(
        infra,
        tmp_path_factory.mktemp("notify"),
        services=("registry", "notify"),
        extra_env={
            "TEST_CLOCK": "true",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp.port),
            "DELIVERY_BACKOFF_BASE_SECONDS": "1",
            "DELIVERY_MAX_ATTEMPTS": "3",
            "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",  # the loopback receiver, allowed by name as an operator would
        },
    )
    try:
        # The registry's port is known only now: point notify at it for names.
        process = running.platform.services["notify"]
        process.env["REGISTRY_URL"] = running.url("registry")
        process.stop()
        process.start()
        process.wait_ready()
        yield Stack(running, receiver, mailbox)
    finally:
        running.stop()
        server.shutdown()
        smtp.stop()


def transfer_event(stack: Stack, step: str, data: dict[str, Any], *, tenant: str) -> str:
    """Publish one transfer CloudEvent as the transfer relay would; returns its id."""
    sequence = next(SEQUENCE)
    event_id = f"{data['case_id']}:{sequence}"
    event = {
        "specversion": "1.0",
        "id": event_id,
        "source": "/lianxin/transfer",
        "type": f"cn.lianxin.transfer.{step}.v1",
        "subject": data["case_id"],
        "time": service_now(stack.notify).isoformat(),
        "tenantid": tenant,
        "sequence": str(sequence),
        "correlationid": data["case_id"],
        "data": data,
    }
    publish(
        stack.running.platform.nats_url,
        f"lianxin.transfer.{tenant}.{step}",
        json.dumps(event).encode(),
        {"Nats-Msg-Id": event_id},
    )
    return event_id


def put(url: str, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.put(url, headers=headers, json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def webhook(
    stack: Stack,
    tenant: str,
    name: str,
    path: str,
    *,
    role: str = "committee",
    org: str | None = None,
    preset: str = "generic",
) -> None:
    put(
        f"{stack.notify}/v1/channels/{name}",
        stack.headers(tenant, "committee"),
        {
            "kind": "webhook",
            "role": role,
            "org_id": org,
            "url": stack.receiver.url(path),
            "preset": preset,
            "secret": SECRET,
        },
    )


def case(
    sender: str, receiver: str, member: str, sending_org: str, receiving_org: str, **extra: Any
) -> dict[str, Any]:
    return {
        "case_id": f"case-{uuid4().hex[:8]}",
        "member_id": member,
        "sending_tenant": sender,
        "receiving_tenant": receiver,
        "sending_org_id": sending_org,
        "receiving_org_id": receiving_org,
        **extra,
    }


def deliveries(stack: Stack, tenant: str, **params: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{stack.notify}/v1/deliveries",
        headers=stack.headers(tenant, "operator"),
        params={"limit": 500, **params},
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def signed(hit: Hit) -> bool:
    return verify_lianxin_signature(
        SECRET, hit.headers["X-Lianxin-Timestamp"], hit.body, hit.headers["X-Lianxin-Signature"]
    )


def test_a_transfer_reaches_both_secretaries_and_the_member_by_inbox_email_and_signed_webhook(
    stack: Stack,
) -> None:
    sender, receiver = new_tenant(), new_tenant()
    registry = stack.running.url("registry")
    _, sending_branch = build_tree(registry, stack.headers(sender, "committee"))
    _, receiving_branch = build_tree(registry, stack.headers(receiver, "committee"))
    member = register(registry, stack.headers(sender, "committee"), sending_branch, name="李明").json()["id"]
    # The registration's own notice to the branch secretary comes first, so the channels below carry the letter
    # alone: notify's consumer lingers before applying (ConsumerSpec.linger_seconds), and a notice applied after a
    # channel exists is sent on it.
    eventually(
        lambda: inbox(stack.notify, stack.headers(sender, "branch_secretary", orgs=[sending_branch]))[
            "items"
        ],
        what="the registration's notice in the secretary's inbox",
    )
    sender_hook, receiver_hook = f"/ok/{sender}", f"/ok/{receiver}"
    webhook(stack, sender, "branch-robot", sender_hook, role="branch_secretary", org=sending_branch)
    webhook(
        stack,
        receiver,
        "district-robot",
        receiver_hook,
        role="branch_secretary",
        org=receiving_branch,
        preset="dingtalk",
    )
    put(
        f"{stack.notify}/v1/channels/branch-mail",
        stack.headers(sender, "committee"),
        {
            "kind": "email",
            "role": "branch_secretary",
            "org_id": sending_branch,
            "address": f"sec@{sender}.cn",
        },
    )
    prefs = put(
        f"{stack.notify}/v1/preferences/me",
        stack.headers(sender, "member", subject=f"member:{member}"),
        {"language": "zh-CN", "channels": ["inbox", "email"], "email": f"liming@{sender}.cn"},
    )
    assert prefs["email"] == f"l***@{sender}.cn", "the address is never given back in full"

    data = case(
        sender,
        receiver,
        member,
        sending_branch,
        receiving_branch,
        letter_no="2026-017",
        expires_on=(service_now(stack.notify).date() + timedelta(days=60)).isoformat(),
    )
    transfer_event(stack, "letter_issued", data, tenant=sender)

    sender_secretary = stack.headers(sender, "branch_secretary", orgs=[sending_branch])
    receiver_secretary = stack.headers(receiver, "branch_secretary", orgs=[receiving_branch])
    member_self = stack.headers(sender, "member", subject=f"member:{member}")
    for who in (sender_secretary, receiver_secretary, member_self):
        (item,) = eventually(
            lambda who=who: [
                i
                for i in inbox(stack.notify, who)["items"]
                if i["event_type"] == "cn.lianxin.transfer.letter_issued.v1"
            ],
            what="the letter in the inbox",
        )
        assert item["title"] == "介绍信已开具" and "李明同志" in item["body"] and "2026-017" in item["body"]
    assert inbox(stack.notify, stack.headers(sender, "member", subject=f"member:{uuid4()}"))["items"] == []

    (to_sender,) = eventually(lambda: stack.receiver.to(sender_hook), what="the sender's webhook")
    (to_receiver,) = eventually(lambda: stack.receiver.to(receiver_hook), what="the receiver's webhook")
    assert signed(to_sender) and signed(to_receiver)
    assert json.loads(to_sender.body)["title"] == "介绍信已开具"
    robot = json.loads(to_receiver.body)
    assert robot["msgtype"] == "markdown" and "李明同志" in robot["markdown"]["text"]
    timestamp = to_receiver.query["timestamp"][0]
    assert to_receiver.query["sign"][0] == dingtalk_sign(SECRET, timestamp)
    assert to_sender.headers["Idempotency-Key"] != to_receiver.headers["Idempotency-Key"]

    mail = eventually(
        lambda: stack.mailbox.to(f"liming@{sender}.cn") and stack.mailbox.to(f"sec@{sender}.cn"),
        what="both emails",
    )
    assert mail[0]["Subject"] == "介绍信已开具" and mail[0]["Message-ID"].endswith("@notify.lianxin>")
    sent = eventually(
        lambda: (lambda d: d if len(d) == 3 else None)(deliveries(stack, sender, status="sent")),
        what="the sender's deliveries recorded sent",
    )
    assert {(d["channel"], d["destination"]) for d in sent} == {
        ("webhook", "branch-robot"),
        ("email", "branch-mail"),
        ("email", "member"),
    }


def test_a_receiver_that_fails_twice_then_succeeds_gets_exactly_one_delivery(stack: Stack) -> None:
    sender, receiver = new_tenant(), new_tenant()
    path = f"/flaky/{receiver}"
    webhook(stack, receiver, "robot", path)
    transfer_event(
        stack,
        "letter_issued",
        case(sender, receiver, str(uuid4()), str(uuid4()), str(uuid4()), letter_no="9"),
        tenant=sender,
    )
    (delivery,) = eventually(
        lambda: deliveries(stack, receiver, status="sent"), timeout=30, what="the delivery recorded sent"
    )
    assert delivery["attempts"] == 3 and delivery["last_error"] is None
    hits = stack.receiver.to(path)
    assert len(hits) == 3 and {h.headers["Idempotency-Key"] for h in hits} == {delivery["id"]}
    accepted = [h for n, h in enumerate(hits) if n >= 2]
    assert len(accepted) == 1 and signed(accepted[0])
    time.sleep(3)
    assert len(stack.receiver.to(path)) == 3, "nothing is sent after the success"


def test_a_receiver_that_always_fails_is_dead_lettered_and_an_operator_replays_it(stack: Stack) -> None:
    sender, receiver = new_tenant(), new_tenant()
    path = f"/down/{receiver}"
    webhook(stack, receiver, "robot", path)
    transfer_event(
        stack,
        "letter_issued",
        case(sender, receiver, str(uuid4()), str(uuid4()), str(uuid4())),
        tenant=sender,
    )
    # The retries back off before the delivery is given up; on a loaded machine that takes longer than 30 s.
    (dead,) = eventually(lambda: deliveries(stack, receiver, status="dead"), timeout=90, what="a dead letter")
    assert dead["attempts"] == 3 and "gave up after 3 attempts: HTTP 500" in dead["last_error"]
    metrics = httpx.get(f"{stack.notify}/metrics").text
    assert 'lianxin_notify_deliveries_total{channel="webhook",outcome="dead"}' in metrics

    stack.receiver.healed.add(path)
    operator = stack.headers(receiver, "operator")
    assert (
        httpx.post(
            f"{stack.notify}/v1/deliveries/{dead['id']}/replay", headers=stack.headers(receiver, "committee")
        ).status_code
        == 403
    )
    assert (
        httpx.post(
            f"{stack.notify}/v1/deliveries/{dead['id']}/replay",
            headers=stack.headers(new_tenant(), "operator"),
        ).status_code
        == 404
    )
    replay = httpx.post(f"{stack.notify}/v1/deliveries/{dead['id']}/replay", headers=operator)
    assert replay.status_code == 202, replay.text
    (sent,) = eventually(
        lambda: deliveries(stack, receiver, status="sent"), timeout=20, what="the replay sent"
    )
    assert sent["id"] == dead["id"] and sent["attempts"] == 4
    assert {h.headers["Idempotency-Key"] for h in stack.receiver.to(path)} == {dead["id"]}
    again = httpx.post(f"{stack.notify}/v1/deliveries/{dead['id']}/replay", headers=operator)
    assert again.status_code == 409 and again.json()["type"].endswith("delivery-not-dead-lettered")


def test_a_receiver_answering_4xx_is_dead_lettered_at_once_with_the_reason(stack: Stack) -> None:
    sender, receiver = new_tenant(), new_tenant()
    path = f"/gone/{receiver}"
    webhook(stack, receiver, "robot", path)
    transfer_event(
        stack,
        "letter_issued",
        case(sender, receiver, str(uuid4()), str(uuid4()), str(uuid4())),
        tenant=sender,
    )
    (dead,) = eventually(lambda: deliveries(stack, receiver, status="dead"), timeout=90, what="a dead letter")
    assert dead["attempts"] == 1 and dead["last_error"].startswith("HTTP 404")


def test_channel_secrets_are_write_only_and_stored_encrypted(stack: Stack) -> None:
    tenant = new_tenant()
    webhook(stack, tenant, "robot", "/ok/secret")
    listed = httpx.get(f"{stack.notify}/v1/channels", headers=stack.headers(tenant, "committee")).json()
    assert listed[0]["has_secret"] is True and SECRET not in json.dumps(listed)
    (stored,) = stack.running.sql(
        "notify",
        "SELECT state FROM notify_events WHERE topic = %s ORDER BY notification_id DESC LIMIT 1",
        "lianxin.notify.TenantPolicy.ChannelConfigured",
    )
    assert SECRET.encode() not in bytes(stored[0])
    assert (
        httpx.get(f"{stack.notify}/v1/channels", headers=stack.headers(tenant, "member")).status_code == 403
    )


def test_reminders_repeat_at_the_tenants_interval_and_stop_when_the_receipt_returns(stack: Stack) -> None:
    sender, receiver = new_tenant(), new_tenant()
    put(f"{stack.notify}/v1/reminder-settings", stack.headers(sender, "committee"), {"interval_days": 2})
    data = case(
        sender,
        receiver,
        str(uuid4()),
        str(uuid4()),
        str(uuid4()),
        receipt_due_on=(service_now(stack.notify).date() - timedelta(days=1)).isoformat(),
    )
    transfer_event(stack, "member_checked_in", data, tenant=sender)
    committee = stack.headers(sender, "committee")

    def reminders() -> list[dict[str, Any]]:
        return [
            i for i in inbox(stack.notify, committee, limit=200)["items"] if i["title"] == "回执逾期未退回"
        ]

    eventually(lambda: len(reminders()) == 1 or None, what="the first reminder (the receipt is overdue)")
    advance(stack, days=2)
    eventually(lambda: len(reminders()) == 2 or None, what="the reminder repeated after the interval")

    transfer_event(stack, "receipt_returned", data, tenant=receiver)
    eventually(
        lambda: stack.running.sql(
            "notify", "SELECT 1 FROM reminders WHERE item_id = %s AND closed_at IS NOT NULL", data["case_id"]
        ),
        what="the reminder closed",
    )
    advance(stack, days=5)
    time.sleep(3)  # the scheduler polls every second: three chances to fire what should not fire
    assert len(reminders()) == 2
    assert stack.running.sql(
        "notify",
        "SELECT count(*) FROM deadlines WHERE subject_id = "
        "(SELECT id::text FROM reminders WHERE item_id = %s) AND fired_at IS NULL "
        "AND cancelled_at IS NULL",
        data["case_id"],
    ) == [(0,)]


def advance(stack: Stack, *, days: float) -> None:
    response = httpx.post(f"{stack.notify}/_test/clock/advance", json={"seconds": days * 86400})
    assert response.status_code == 200, response.text


def test_notify_killed_during_a_burst_sends_nothing_twice_and_misses_nothing(stack: Stack) -> None:
    sender, receiver = new_tenant(), new_tenant()
    path = f"/ok/burst-{receiver}"
    webhook(stack, receiver, "robot", path)
    cases = [
        case(sender, receiver, str(uuid4()), str(uuid4()), str(uuid4()), letter_no=str(n)) for n in range(30)
    ]
    for data in cases:
        transfer_event(stack, "letter_issued", data, tenant=sender)
    eventually(lambda: len(stack.receiver.to(path)) >= 5 or None, what="the burst under way")
    process = stack.running.platform.services["notify"]
    process.kill()
    at_kill = {h.headers["Idempotency-Key"] for h in stack.receiver.to(path)}
    assert len(at_kill) < len(cases), "the kill came in the middle of the burst"
    process.start()
    process.wait_ready()
    # A restarted test clock starts again at the real time; earlier tests moved it on by days, and attempts
    # recorded before the kill are due at those later times.
    advance(stack, days=30)

    def keys() -> set[str] | None:
        found = {h.headers["Idempotency-Key"] for h in stack.receiver.to(path)}
        return found if len(found) == len(cases) else None

    eventually(keys, timeout=60, what="every case delivered after the restart")
    sent = eventually(
        lambda: (lambda d: d if len(d) == len(cases) else None)(deliveries(stack, receiver, status="sent")),
        what="every delivery recorded sent",
    )
    assert {d["id"] for d in sent} == keys()
    hits = stack.receiver.to(path)
    # At most the one request in flight at the kill is sent again, with the same key for the receiver to drop.
    assert len(hits) - len(cases) <= 1
    items = inbox(stack.notify, stack.headers(receiver, "committee"), limit=200)["items"]
    assert len(items) == len({i["event_id"] for i in items}) == len(cases)
