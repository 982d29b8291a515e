"""Sending one attempt: email over SMTP, webhooks over HTTP. Each answers sent, retry later, or never."""

from __future__ import annotations

import smtplib
import time
from dataclasses import dataclass, replace
from email.message import EmailMessage
from email.utils import formatdate
from typing import Protocol
from uuid import UUID

import httpx

from notify.channels.egress import EgressRefused, check_before_send
from notify.channels.targets import MOBILE_TARGETS, MobileTarget
from notify.channels.webhooks import ROBOT_RATE_LIMITED, build_request, robot_error
from shared.threads import run_sync

MESSAGE_ID_DOMAIN = "notify.lianxin"


@dataclass(frozen=True)
class WebhookTarget:
    url: str
    preset: str
    secret: str | None

    def __repr__(self) -> str:  # never print the secret
        return f"WebhookTarget(url={self.url!r}, preset={self.preset!r})"


@dataclass(frozen=True)
class EmailTarget:
    address: str

    def __repr__(self) -> str:
        return "EmailTarget(***)"


@dataclass(frozen=True)
class Outgoing:
    delivery_id: UUID
    attempt: int
    tenant_id: str
    rule: str
    event_type: str
    event_id: str
    channel: str
    language: str
    title: str
    body: str
    link: str | None
    target: WebhookTarget | EmailTarget | MobileTarget | None
    problem: str | None  # why there is nowhere to send it: dead-lettered without trying


@dataclass(frozen=True)
class SendOutcome:
    ok: bool
    retryable: bool
    detail: str
    latency_ms: int = 0
    reference: str | None = None  # the provider's message id (SMS, WeChat)
    units: int = 1  # billed SMS units
    phone_digest: str | None = None  # keyed digest of the number an SMS went to, never the number


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    timeout_seconds: float = 10.0


class MobileSending(Protocol):
    async def send(self, outgoing: Outgoing) -> SendOutcome: ...


class Sender:
    def __init__(
        self,
        smtp: SmtpSettings,
        *,
        webhook_timeout_seconds: float = 5.0,
        mobile: MobileSending | None = None,
        allowed_hosts: frozenset[str] = frozenset(),
    ) -> None:
        self.smtp = smtp
        self.webhook_timeout = webhook_timeout_seconds
        self.mobile = mobile
        self.allowed_hosts = allowed_hosts

    async def send(self, outgoing: Outgoing) -> SendOutcome:
        started = time.monotonic()
        if outgoing.problem is not None or outgoing.target is None:
            outcome = SendOutcome(False, False, outgoing.problem or "nowhere to send")
        elif isinstance(outgoing.target, WebhookTarget):
            outcome = await self._webhook(outgoing, outgoing.target)
        elif isinstance(outgoing.target, MOBILE_TARGETS):
            if self.mobile is None:
                outcome = SendOutcome(False, True, "no sender for SMS and WeChat in this process")
            else:
                outcome = await self.mobile.send(outgoing)
        else:
            target = outgoing.target
            assert isinstance(target, EmailTarget)
            outcome = await run_sync(send_email, self.smtp, outgoing, target)
        return replace(outcome, latency_ms=int((time.monotonic() - started) * 1000))

    async def _webhook(self, outgoing: Outgoing, target: WebhookTarget) -> SendOutcome:
        request = build_request(
            url=target.url,
            preset=target.preset,
            secret=target.secret,
            delivery_id=str(outgoing.delivery_id),
            title=outgoing.title,
            body=outgoing.body,
            link=outgoing.link,
            now_ms=int(time.time() * 1000),
            meta={
                "delivery_id": str(outgoing.delivery_id),
                "tenant": outgoing.tenant_id,
                "rule": outgoing.rule,
                "event_type": outgoing.event_type,
                "event_id": outgoing.event_id,
                "language": outgoing.language,
            },
        )
        try:
            await check_before_send(request.url, self.allowed_hosts)
        except EgressRefused as exc:
            return SendOutcome(False, False, f"refused by the egress rules: {exc}")
        try:
            async with httpx.AsyncClient(timeout=self.webhook_timeout, follow_redirects=False) as client:
                response = await client.post(
                    request.url, params=request.params, headers=request.headers, content=request.body
                )
        except httpx.TimeoutException:
            return SendOutcome(False, True, f"timed out after {self.webhook_timeout}s")
        except httpx.HTTPError as exc:
            return SendOutcome(False, True, f"could not reach the receiver: {type(exc).__name__}")
        return classify_webhook(target.preset, response.status_code, response.content)


def classify_webhook(preset: str, status: int, content: bytes) -> SendOutcome:
    """2xx sent (unless a robot says errcode); 408, 429 and 5xx retried; any other 4xx never will work."""
    if 200 <= status < 300:
        refused = robot_error(preset, content)
        if refused is None:
            return SendOutcome(True, False, f"HTTP {status}")
        code, _ = refused
        return SendOutcome(False, code in ROBOT_RATE_LIMITED, f"robot errcode {code}")
    # Never the reply's body: what an internal server answers must not travel back to the tenant.
    retryable = status in (408, 429) or status >= 500
    return SendOutcome(False, retryable, f"HTTP {status}")


def send_email(smtp: SmtpSettings, outgoing: Outgoing, target: EmailTarget) -> SendOutcome:
    """Blocking (stdlib smtplib): run in a worker thread. The Message-ID is the delivery id, for dedupe."""
    message = EmailMessage()
    message["Subject"] = outgoing.title
    message["From"] = smtp.sender
    message["To"] = target.address
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = f"<{outgoing.delivery_id}@{MESSAGE_ID_DOMAIN}>"
    message["X-Lianxin-Delivery"] = str(outgoing.delivery_id)
    message.set_content(outgoing.body + (f"\n\n{outgoing.link}" if outgoing.link else ""))
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_seconds) as client:
            client.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        return SendOutcome(False, any(400 <= c < 500 for c in codes), f"recipient refused: {codes}")
    except smtplib.SMTPResponseException as exc:
        return SendOutcome(False, exc.smtp_code < 500, f"SMTP {exc.smtp_code}")
    except (smtplib.SMTPException, OSError) as exc:
        return SendOutcome(False, True, f"SMTP unavailable: {type(exc).__name__}")
    return SendOutcome(True, False, "accepted by the SMTP server")
