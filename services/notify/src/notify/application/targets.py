"""Send time: where a delivery goes, resolved from the tenant's settings and the member's reach as they are now.
Raises LookupError with the reason when there is nowhere to send (the delivery is dead-lettered without trying).
Secrets, addresses and openids are opened here, and only here."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from notify.application.sms_records import local_day
from notify.channels.senders import EmailTarget, WebhookTarget
from notify.channels.targets import MOBILE_CHANNELS, MobileTarget, SmsTarget, WeChatTarget, WeComTarget
from notify.channels.webhooks import markdown_message
from notify.domain import Delivery
from notify.domain.mobile import DEFAULT_SMS_DAILY_LIMIT

if TYPE_CHECKING:
    from notify.application import NotifyApplication


def target_of(app: NotifyApplication, delivery: Delivery) -> WebhookTarget | EmailTarget | MobileTarget:
    return mobile_target(app, delivery) if delivery.channel in MOBILE_CHANNELS else _target(app, delivery)


def _target(app: NotifyApplication, delivery: Delivery) -> WebhookTarget | EmailTarget:
    if delivery.destination == "member":
        subject = delivery.recipient.rsplit("/", 1)[-1]
        prefs = app.preferences_of(delivery.tenant_id, subject)
        if prefs is None or not prefs.email:
            raise LookupError("the member no longer has an email address")
        return EmailTarget(app.box.open(prefs.email, context=f"{delivery.tenant_id}|email|{subject}"))
    policy = app.policy_of(delivery.tenant_id)
    config = policy.channels.get(delivery.destination) if policy else None
    if config is None or config.kind != delivery.channel:
        raise LookupError(f"channel {delivery.destination!r} was removed")
    context = f"{delivery.tenant_id}|channel|{config.name}"
    if config.kind == "email":
        assert config.address is not None
        return EmailTarget(app.box.open(config.address, context=context))
    assert config.url is not None and config.preset is not None
    secret = app.box.open(config.secret, context=context) if config.secret else None
    return WebhookTarget(config.url, config.preset, secret)


def mobile_target(app: NotifyApplication, delivery: Delivery) -> MobileTarget:
    assert delivery.channel in MOBILE_CHANNELS
    tenant = delivery.tenant_id
    policy = app.mobile_policy_of(tenant)
    parts = policy.parts if policy else {}
    if delivery.channel == "wecom":
        wecom = parts.get("wecom")
        role, _, org = delivery.destination.partition("@")
        route = wecom_route(wecom, role, None if org == "*" else org) if wecom else None
        if wecom is None or route is None:
            raise LookupError("WeCom is no longer set up for these secretaries")
        return WeComTarget(
            corp_id=wecom["corp_id"],
            agent_id=int(wecom["agent_id"]),
            secret=app.box.open(wecom["secret"], context=f"{tenant}|wecom"),
            touser=str(route.get("touser") or ""),
            toparty=str(route.get("toparty") or ""),
            content=markdown_message(delivery.title, delivery.body, None),
        )
    subject = delivery.recipient.rsplit("/", 1)[-1]
    values = json.loads(delivery.body).get("values", {})
    reach = app.reach_of(tenant, subject)
    if delivery.channel == "wechat":
        wechat = parts.get("wechat")
        template = (wechat or {}).get("templates", {}).get(delivery.rule)
        if wechat is None or template is None:
            raise LookupError("the WeChat Official Account or its template was removed")
        if reach is None or reach.openid is None:
            raise LookupError("the member unlinked WeChat")
        return WeChatTarget(
            app_id=wechat["app_id"],
            app_secret=app.box.open(wechat["app_secret"], context=f"{tenant}|wechat"),
            openid=app.box.open(reach.openid, context=f"{tenant}|openid|{subject}"),
            template_id=str(template["template_id"]),
            data=values,
            url=template.get("url"),
            kind=str(template.get("kind") or "template"),
        )
    sms = parts.get("sms")
    template = (sms or {}).get("templates", {}).get(delivery.rule)
    if sms is None or template is None:
        raise LookupError("SMS or its template for this rule was removed")
    if reach is not None and reach.sms_opted_out:
        raise LookupError(f"the member opted out of SMS ({reach.sms_choice_source})")
    limit = int(sms.get("daily_limit") or DEFAULT_SMS_DAILY_LIMIT)
    if reach is not None and reach.sms_on(local_day(app.clock.now())) >= limit:
        raise LookupError(f"the member already had {limit} SMS today (the tenant's daily limit)")
    return SmsTarget(
        member_id=subject.removeprefix("member:"),
        provider=sms["provider"],
        credentials=json.loads(app.box.open(sms["credentials"], context=f"{tenant}|sms")),
        region=sms.get("region"),
        sign_name=str(template["sign_name"]),
        template_id=str(template["template_id"]),
        params=values,
    )


def wecom_route(wecom: dict[str, Any], role: str, org: str | None) -> dict[str, Any] | None:
    """The tenant's WeCom route to the secretaries of this role (of this organisation, or of any)."""
    for route in wecom.get("routes", []):
        if route.get("role") == role and (route.get("org_id") in (None, org)):
            return dict(route)
    return None
