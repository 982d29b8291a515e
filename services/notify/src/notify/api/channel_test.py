"""POST /v1/channels/{name}/test: send one test message through a webhook channel now and say what the receiver
answered (committee, tenant_admin; the caller's tenant only).

The message goes out as any delivery would: the same signed request, the same egress rules, the same
classification of the answer (the receiver's status or robot errcode, never its body). Nothing is recorded as a
delivery and no event is written: a test is not a notification. At most a few tests per channel a minute.
"""

from __future__ import annotations

from uuid import uuid4

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from notify.api.common import Admins, Notify, Settings
from notify.api.policy import ChannelName
from notify.channels.egress import parse_allowed_hosts
from notify.channels.senders import Outgoing, Sender, SmtpSettings, WebhookTarget
from shared.auth import TenantRateLimiter
from shared.errors import Invalid, NotFound, TooManyRequests
from shared.runtime import RuntimeDep
from shared.threads import run_sync

TESTS_PER_MINUTE = 6  # a burst of one, then one every ten seconds, per channel
MESSAGES = {
    "zh-CN": ("连心测试消息", "这是一条测试消息：此渠道可以收到连心的通知。"),
    "en": ("Lianxin test message", "This is a test message: this channel receives Lianxin's notifications."),
}

channel_tests = APIRouter(prefix="/v1/channels", tags=["policy"])


class ChannelTestOut(BaseModel):
    channel: str
    delivered: bool = Field(description="the receiver accepted the message (2xx, and no robot errcode)")
    detail: str = Field(
        description="what the receiver answered (`HTTP 200`, `HTTP 404`, `robot errcode 93000`) or why nothing "
        "arrived (timed out, unreachable, refused by the egress rules); never the receiver's body"
    )
    retryable: bool = Field(description="a delivery would be tried again after this answer")
    latency_ms: int
    test_id: str = Field(
        description="the request's Idempotency-Key and X-Lianxin-Delivery, for the receiver's log"
    )


def _limiter(request: Request) -> TenantRateLimiter:
    limiter: TenantRateLimiter | None = getattr(request.app.state, "channel_test_limiter", None)
    if limiter is None:
        limiter = request.app.state.channel_test_limiter = TenantRateLimiter(TESTS_PER_MINUTE)
    return limiter


@channel_tests.post(
    "/{name}/test",
    response_model=ChannelTestOut,
    summary="Send a test message through a webhook channel now and report the receiver's answer",
    responses={
        404: {"description": "no channel of that name in the tenant"},
        422: {"description": "not a webhook channel"},
        429: {"description": "tests of this channel too frequent; retry in a few seconds"},
    },
)
async def test_channel(
    name: ChannelName,
    request: Request,
    user: Admins,
    notify: Notify,
    settings: Settings,
    runtime: RuntimeDep,
) -> ChannelTestOut:
    policy = await run_sync(notify.policy_of, user.tenant)
    config = policy.channels.get(name) if policy else None
    if config is None:
        raise NotFound(f"no channel named {name!r} in this tenant", field="name")
    if config.kind != "webhook" or config.url is None:
        raise Invalid("only a webhook channel can be tested from here", field="name")
    if not _limiter(request).allow(f"{user.tenant}|{name}"):
        raise TooManyRequests("this channel was tested a moment ago; try again in ten seconds", field="name")
    secret = runtime.extras["cipher"].open(config.secret, context=f"{user.tenant}|channel|{name}")
    title, body = MESSAGES.get(config.language, MESSAGES["zh-CN"])
    test_id = uuid4()
    sender = Sender(
        SmtpSettings(settings.smtp_host, settings.smtp_port, settings.smtp_from),
        webhook_timeout_seconds=settings.webhook_timeout_seconds,
        allowed_hosts=parse_allowed_hosts(settings.webhook_allowed_hosts),
    )
    outcome = await sender.send(
        Outgoing(
            delivery_id=test_id,
            attempt=1,
            tenant_id=user.tenant,
            rule="channel_test",
            event_type="cn.lianxin.notify.channel_test",
            event_id=str(test_id),
            channel="webhook",
            language=config.language,
            title=title,
            body=body,
            link=None,
            target=WebhookTarget(config.url, config.preset or "generic", secret),
            problem=None,
        )
    )
    return ChannelTestOut(
        channel=name,
        delivered=outcome.ok,
        detail=outcome.detail,
        retryable=outcome.retryable,
        latency_ms=outcome.latency_ms,
        test_id=str(test_id),
    )
