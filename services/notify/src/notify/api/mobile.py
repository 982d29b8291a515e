"""A tenant's phone channels over HTTP (committee, tenant_admin): its SMS, WeChat and WeCom settings and its
escalation ladders. Secrets go in and never come out. The callback token is shown once, when it is made (or
rotated). The reports are in `mobile_reports`, a member's reach in `reach`, the providers' callbacks in
`callbacks`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from notify.api.common import Admins, Notify, QuietHoursIn, Strict
from notify.domain.errors import InvalidMobileSettings
from notify.domain.escalation import DEFAULT_LADDERS, Ladder
from notify.domain.mobile import DEFAULT_SMS_DAILY_LIMIT, MobilePolicy
from notify.domain.rules import RULES
from shared.threads import run_sync

VARIABLE = r"^[A-Za-z0-9_]{1,32}$"
REMINDER_RULES = tuple(r.name for r in RULES if r.name.startswith("reminder."))

mobile = APIRouter(prefix="/v1/mobile", tags=["mobile"])


class SmsTemplateIn(Strict):
    sign_name: str = Field(min_length=2, max_length=20, description="the approved 短信签名, without 【】")
    template_id: str = Field(
        min_length=1, max_length=64, description="the provider's approved template id/code"
    )
    variables: dict[str, str] = Field(
        default_factory=dict,
        description="template variable -> source: an event field (expires_on, letter_no, …) or `member` (the "
        "name). In order: Tencent's parameters are positional",
    )


class SmsIn(Strict):
    provider: Literal["aliyun", "tencent"]
    credentials: dict[str, str] = Field(
        description="aliyun: access_key_id, access_key_secret; tencent: secret_id, secret_key, sdk_app_id. "
        "Write-only"
    )
    region: str | None = Field(default=None, max_length=32)
    templates: dict[str, SmsTemplateIn] = Field(default_factory=dict, description="per rule (message kind)")
    daily_limit: int = Field(
        default=DEFAULT_SMS_DAILY_LIMIT, ge=1, le=50, description="SMS per member per day"
    )
    quiet_hours: QuietHoursIn | None = Field(default=None, description="default 21:00-08:00 Asia/Shanghai")
    unit_price_fen: int = Field(default=4, ge=0, le=1000, description="price of one billed unit, in fen")
    rotate_callback_token: bool = False


class WeChatTemplateIn(Strict):
    kind: Literal["template", "subscribe"] = Field(
        default="template", description="a template message, or a subscribe message (订阅通知, bizsend)"
    )
    template_id: str = Field(min_length=1, max_length=128)
    fields: dict[str, str] = Field(
        default_factory=dict, description="template keyword -> event field or `member`"
    )
    url: str | None = Field(default=None, max_length=500)


class WeChatIn(Strict):
    app_id: str = Field(min_length=4, max_length=64)
    app_secret: str = Field(min_length=8, max_length=128, description="write-only")
    redirect_uri: str = Field(max_length=500, description="the member page WeChat redirects to with the code")
    templates: dict[str, WeChatTemplateIn] = Field(default_factory=dict)


class WeComRouteIn(Strict):
    role: Literal["branch_secretary", "committee", "tenant_admin"]
    org_id: str | None = Field(default=None, max_length=64)
    touser: str = Field(default="", max_length=1000, description="WeCom user ids joined by |")
    toparty: str = Field(default="", max_length=1000, description="WeCom department ids joined by |")


class WeComIn(Strict):
    corp_id: str = Field(min_length=4, max_length=64)
    agent_id: int = Field(ge=1)
    secret: str = Field(min_length=8, max_length=128, description="write-only")
    routes: list[WeComRouteIn] = Field(default_factory=list)


class LadderIn(Strict):
    enabled: bool = True
    wechat_before_hours: float | None = Field(default=None, ge=0, le=24 * 90)
    sms_before_hours: float | None = Field(default=None, ge=0, le=24 * 90)
    urgent: bool = Field(default=False, description="urgent SMS and WeChat ignore quiet hours")


class MobileOut(BaseModel):
    sms: dict[str, Any] | None
    wechat: dict[str, Any] | None
    wecom: dict[str, Any] | None
    escalations: dict[str, dict[str, Any]]
    callback_token: str | None = Field(default=None, description="shown once, when made or rotated")
    callback_urls: dict[str, str] = Field(default_factory=dict)


def _public(policy: MobilePolicy | None, tenant: str) -> MobileOut:
    parts = policy.parts if policy else {}
    sms = parts.get("sms")
    wechat = parts.get("wechat")
    wecom = parts.get("wecom")
    escalations: dict[str, dict[str, Any]] = {}
    for rule in REMINDER_RULES:
        configured = policy.escalations.get(rule) if policy else None
        ladder = (
            Ladder.from_dict(configured) if configured else DEFAULT_LADDERS.get(rule, Ladder(enabled=False))
        )
        escalations[rule] = ladder.to_dict()
    return MobileOut(
        sms=None
        if sms is None
        else {k: v for k, v in sms.items() if k not in ("credentials", "callback_token_digest")}
        | {"has_credentials": True},
        wechat=None
        if wechat is None
        else {k: v for k, v in wechat.items() if k != "app_secret"} | {"has_secret": True},
        wecom=None
        if wecom is None
        else {k: v for k, v in wecom.items() if k != "secret"} | {"has_secret": True},
        escalations=escalations,
        callback_urls={}
        if sms is None
        else {
            kind: f"/v1/mobile/callbacks/{tenant}/{sms['provider']}/{kind}?token=<callback token>"
            for kind in ("receipts", "replies")
        },
    )


@mobile.get(
    "", response_model=MobileOut, summary="The tenant's SMS, WeChat and WeCom settings and escalations"
)
async def get_mobile(user: Admins, notify: Notify) -> MobileOut:
    return _public(await run_sync(notify.mobile_policy_of, user.tenant), user.tenant)


@mobile.put("/sms", response_model=MobileOut, summary="Set the SMS provider, templates per rule, limits")
async def put_sms(body: SmsIn, user: Admins, notify: Notify) -> MobileOut:
    for rule, template in body.templates.items():
        bad = [v for v in template.variables if not re.match(VARIABLE, v)]
        if bad:
            raise InvalidMobileSettings(
                f"template variables of {rule} are letters, digits, _: {bad}", field="templates"
            )
    policy, token = await run_sync(
        notify.configure_sms,
        user.tenant,
        provider=body.provider,
        credentials=body.credentials,
        region=body.region,
        templates={k: v.model_dump() for k, v in body.templates.items()},
        daily_limit=body.daily_limit,
        quiet_hours=body.quiet_hours.model_dump() if body.quiet_hours else None,
        unit_price_fen=body.unit_price_fen,
        rotate_callback_token=body.rotate_callback_token,
        by=user.subject,
    )
    out = _public(policy, user.tenant)
    out.callback_token = token
    return out


@mobile.put(
    "/wechat", response_model=MobileOut, summary="Set the Official Account and its templates per rule"
)
async def put_wechat(body: WeChatIn, user: Admins, notify: Notify) -> MobileOut:
    policy = await run_sync(
        notify.configure_wechat,
        user.tenant,
        app_id=body.app_id,
        app_secret=body.app_secret,
        redirect_uri=body.redirect_uri,
        templates={k: v.model_dump() for k, v in body.templates.items()},
        by=user.subject,
    )
    return _public(policy, user.tenant)


@mobile.put("/wecom", response_model=MobileOut, summary="Set the WeCom application and who gets what")
async def put_wecom(body: WeComIn, user: Admins, notify: Notify) -> MobileOut:
    policy = await run_sync(
        notify.configure_wecom,
        user.tenant,
        corp_id=body.corp_id,
        agent_id=body.agent_id,
        secret=body.secret,
        routes=[r.model_dump() for r in body.routes],
        by=user.subject,
    )
    return _public(policy, user.tenant)


@mobile.delete("/{part}", response_model=MobileOut, summary="Remove the SMS, WeChat or WeCom settings")
async def delete_part(part: Literal["sms", "wechat", "wecom"], user: Admins, notify: Notify) -> MobileOut:
    policy = await run_sync(notify.remove_mobile, user.tenant, part, by=user.subject)
    return _public(policy, user.tenant)


@mobile.put(
    "/escalations/{rule}", response_model=MobileOut, summary="Set a reminder rule's escalation ladder"
)
async def put_escalation(
    rule: Annotated[str, Path(max_length=64)], body: LadderIn, user: Admins, notify: Notify
) -> MobileOut:
    ladder = Ladder(body.enabled, body.wechat_before_hours, body.sms_before_hours, body.urgent)
    policy = await run_sync(notify.set_escalation, user.tenant, rule, ladder, by=user.subject)
    return _public(policy, user.tenant)
