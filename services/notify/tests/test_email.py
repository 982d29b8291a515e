"""Email over a real SMTP server on loopback (aiosmtpd): the Message-ID is the delivery id; refusals classify."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes, policy
from typing import Any
from uuid import uuid4

import pytest
from aiosmtpd.controller import Controller

from notify.channels.senders import EmailTarget, Outgoing, SmtpSettings, send_email
from shared.devstack import free_port


class Catcher:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.startswith("nobody@"):
            return "550 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpSettings, Catcher]]:
    catcher = Catcher()
    controller = Controller(catcher, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield SmtpSettings("127.0.0.1", controller.port, "notify@lianxin.example", 5), catcher
    finally:
        controller.stop()


def outgoing() -> Outgoing:
    return Outgoing(
        delivery_id=uuid4(),
        attempt=1,
        tenant_id="t",
        rule="r",
        event_type="e",
        event_id="e:1",
        channel="email",
        language="zh-CN",
        title="介绍信已开具",
        body="正文",
        link="/v1/transfers/c1",
        target=None,
        problem=None,
    )


def test_an_email_is_accepted_with_the_delivery_id_as_message_id(smtp: tuple[SmtpSettings, Catcher]) -> None:
    settings, catcher = smtp
    out = outgoing()
    assert send_email(settings, out, EmailTarget("sec@example.org")).ok
    (message,) = catcher.messages
    assert message["Message-ID"] == f"<{out.delivery_id}@notify.lianxin>"
    assert message["Subject"] == "介绍信已开具" and message["To"] == "sec@example.org"
    assert "正文" in message.get_content()


def test_a_refused_mailbox_is_permanent(smtp: tuple[SmtpSettings, Catcher]) -> None:
    settings, _ = smtp
    outcome = send_email(settings, outgoing(), EmailTarget("nobody@example.org"))
    assert not outcome.ok and not outcome.retryable


def test_no_smtp_server_is_retried() -> None:
    outcome = send_email(SmtpSettings("127.0.0.1", free_port(), "n@x", 2), outgoing(), EmailTarget("a@b.c"))
    assert not outcome.ok and outcome.retryable
