"""Phone channels over HTTP: a tenant's SMS, WeChat and WeCom settings and escalation ladders (committee,
tenant_admin), the SMS count per month and receipts (also operators), a member's SMS choice and WeChat link, and
the providers' callbacks (receipts and TD replies), verified by the tenant's callback token.

Secrets go in and never come out. The callback token is shown once, when it is made (or rotated).
"""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from notify.api.common import Admins, Notify, QuietHoursIn, Settings, Strict
from notify.channels.sms import AliyunSms, SmsProvider, TencentSms, digest_key, phone_digest
from notify.channels.wechat import OfficialAccount, TokenCache
from notify.domain.errors import InvalidMobileSettings, LinkRefused
from notify.domain.escalation import DEFAULT_LADDERS, Ladder
from notify.domain.mobile import DEFAULT_SMS_DAILY_LIMIT, MobilePolicy
from notify.domain.rules import RULES
from notify.readmodels import queries
from shared.auth import Principal, require_roles
from shared.errors import Unauthorized
from shared.runtime import RuntimeDep
from shared.threads import run_sync

Accountants = Annotated[Principal, require_roles("committee", "tenant_admin", "operator")]
Members = Annotated[Principal, require_roles("member")]
MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
VARIABLE = r"^[A-Za-z0-9_]{1,32}$"
REMINDER_RULES = tuple(r.name for r in RULES if r.name.startswith("reminder."))

mobile = APIRouter(prefix="/v1/mobile", tags=["mobile"])
callbacks = APIRouter(
    prefix="/v1/mobile/callbacks",
    tags=["mobile callbacks"],
    responses={401: {"description": "The callback token does not match the tenant's provider"}},
)


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


class UsageLine(BaseModel):
    provider: str
    messages: int
    units: int
    delivered: int
    failed: int
    cost_fen: int


class UsageOut(BaseModel):
    month: str
    unit_price_fen: int
    lines: list[UsageLine]
    messages: int
    units: int
    cost_fen: int


class SmsMessageOut(BaseModel):
    provider: str
    message_id: str
    delivery_id: UUID
    recipient: str
    month: str
    units: int
    status: str
    receipt_code: str | None
    accepted_at: datetime
    receipt_at: datetime | None


class EscalationOut(BaseModel):
    id: UUID
    rule: str
    item_id: str
    deadline: datetime
    steps: list[dict[str, str]]
    taken: dict[str, Any]
    closed_at: datetime | None


class ReachIn(Strict):
    sms: bool = Field(description="false: no SMS (the same as replying TD)")


class ReachOut(BaseModel):
    subject: str
    sms: bool
    sms_choice_source: str | None
    wechat_linked: bool
    wechat_linked_at: datetime | None


class LinkStartOut(BaseModel):
    authorize_url: str
    state: str


class LinkIn(Strict):
    code: str = Field(min_length=1, max_length=512)
    state: str = Field(min_length=8, max_length=128)


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


@mobile.get(
    "/escalations", response_model=list[EscalationOut], summary="Escalations of the tenant, newest first"
)
async def list_escalations(
    user: Accountants,
    runtime: RuntimeDep,
    open_only: Annotated[bool, Query(alias="open")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[EscalationOut]:
    rows = await queries.escalations(runtime.pool, user.tenant, open_only=open_only, limit=limit)
    return [EscalationOut(**asdict(row)) for row in rows]


@mobile.get(
    "/sms/usage", response_model=UsageOut, summary="SMS sent and billed units in a month (Beijing time)"
)
async def sms_usage(
    user: Accountants,
    runtime: RuntimeDep,
    notify: Notify,
    month: Annotated[str, Query(pattern=MONTH, description="YYYY-MM")],
) -> UsageOut:
    policy = await run_sync(notify.mobile_policy_of, user.tenant)
    sms = policy.parts.get("sms") if policy else None
    price = int(sms.get("unit_price_fen", 0)) if sms else 0
    rows = await queries.sms_usage(runtime.pool, user.tenant, month)
    lines = [UsageLine(**asdict(row), cost_fen=row.units * price) for row in rows]
    return UsageOut(
        month=month,
        unit_price_fen=price,
        lines=lines,
        messages=sum(line.messages for line in lines),
        units=sum(line.units for line in lines),
        cost_fen=sum(line.cost_fen for line in lines),
    )


@mobile.get("/sms/messages", response_model=list[SmsMessageOut], summary="SMS accepted, with their receipts")
async def sms_messages(
    user: Accountants,
    runtime: RuntimeDep,
    delivery_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[SmsMessageOut]:
    rows = await queries.sms_messages(runtime.pool, user.tenant, delivery_id=delivery_id, limit=limit)
    return [SmsMessageOut(**asdict(row)) for row in rows]


# A member.


def _reach_out(subject: str, reach: Any) -> ReachOut:
    return ReachOut(
        subject=subject,
        sms=not (reach.sms_opted_out if reach else False),
        sms_choice_source=reach.sms_choice_source if reach else None,
        wechat_linked=bool(reach and reach.openid),
        wechat_linked_at=reach.linked_at if reach else None,
    )


@mobile.get("/me", response_model=ReachOut, summary="The member's SMS choice and WeChat link")
async def get_reach(user: Members, notify: Notify) -> ReachOut:
    return _reach_out(user.subject, await run_sync(notify.reach_of, user.tenant, user.subject))


@mobile.put("/me", response_model=ReachOut, summary="Allow or refuse SMS")
async def put_reach(body: ReachIn, user: Members, notify: Notify) -> ReachOut:
    reach = await run_sync(
        notify.set_sms_choice, user.tenant, user.subject, opted_out=not body.sms, source="member"
    )
    return _reach_out(user.subject, reach)


@mobile.post(
    "/me/wechat/start", response_model=LinkStartOut, summary="Where to send the member to link WeChat"
)
async def start_link(user: Members, notify: Notify) -> LinkStartOut:
    app = await run_sync(notify.wechat_app, user.tenant)
    if app is None:
        raise InvalidMobileSettings("the organisation has no WeChat Official Account set up", field="wechat")
    state = await run_sync(notify.start_wechat_link, user.tenant, user.subject)
    account = OfficialAccount(app_id=app[0], app_secret=app[1], base_url="", tokens=TokenCache())
    return LinkStartOut(authorize_url=account.authorize_url(redirect_uri=app[2], state=state), state=state)


@mobile.post("/me/wechat", response_model=ReachOut, summary="Exchange the authorization code for the openid")
async def finish_link(body: LinkIn, user: Members, notify: Notify, settings: Settings) -> ReachOut:
    await run_sync(notify.check_link_state, user.tenant, user.subject, body.state)
    app = await run_sync(notify.wechat_app, user.tenant)
    if app is None:
        raise InvalidMobileSettings("the organisation has no WeChat Official Account set up", field="wechat")
    account = OfficialAccount(
        app_id=app[0],
        app_secret=app[1],
        base_url=settings.wechat_api_base,
        tokens=TokenCache(),
        timeout_seconds=settings.mobile_timeout_seconds,
    )
    try:
        openid = await account.exchange_code(body.code)
    except ValueError as exc:
        raise LinkRefused(str(exc), field="code") from exc
    reach = await run_sync(notify.finish_wechat_link, user.tenant, user.subject, body.state, openid)
    return _reach_out(user.subject, reach)


@mobile.delete("/me/wechat", response_model=ReachOut, summary="Forget the member's openid")
async def unlink(user: Members, notify: Notify) -> ReachOut:
    return _reach_out(user.subject, await run_sync(notify.unlink_wechat, user.tenant, user.subject))


# Provider callbacks: no bearer token (providers cannot send one); the tenant's callback token in the query.


def _provider(name: str) -> SmsProvider:
    # Parsing callbacks needs no credentials.
    if name == "aliyun":
        return AliyunSms(access_key_id="", access_key_secret="", endpoint="", now=datetime.now)
    return TencentSms(secret_id="", secret_key="", sdk_app_id="", endpoint="", now=datetime.now)


TenantPath = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]


async def _verified_body(request: Request, notify: Notify, tenant: str, provider: str, token: str) -> bytes:
    accepted = await run_sync(notify.sms_callback_accepts, tenant, provider, token)
    if not accepted:
        raise Unauthorized("the callback token does not match this tenant's SMS provider", field="token")
    return await request.body()


@callbacks.post(
    "/{tenant}/{provider}/receipts",
    response_model=dict[str, Any],
    summary="Delivery receipts (status reports) from the provider",
)
async def receipts(
    tenant: TenantPath,
    provider: Literal["aliyun", "tencent"],
    request: Request,
    notify: Notify,
    token: Annotated[str, Query(max_length=128)] = "",
) -> dict[str, Any]:
    body = await _verified_body(request, notify, tenant, provider, token)
    parser = _provider(provider)
    for receipt in parser.receipts(body):
        await run_sync(notify.record_sms_receipt, tenant, provider, receipt)
    return parser.acknowledgement()


@callbacks.post(
    "/{tenant}/{provider}/replies",
    response_model=dict[str, Any],
    summary="Replies (上行) from members: TD opts out of SMS",
)
async def replies(
    tenant: TenantPath,
    provider: Literal["aliyun", "tencent"],
    request: Request,
    notify: Notify,
    settings: Settings,
    token: Annotated[str, Query(max_length=128)] = "",
) -> dict[str, Any]:
    body = await _verified_body(request, notify, tenant, provider, token)
    parser = _provider(provider)
    key = digest_key(settings.cipher_key)
    for reply in parser.replies(body):
        digest = phone_digest(key, reply.phone)
        await run_sync(notify.record_sms_reply, tenant, provider, digest, opts_out=reply.opts_out)
    return parser.acknowledgement()
