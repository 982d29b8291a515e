"""Use cases of a tenant's phone channels: SMS, WeChat Official Account and WeCom settings, escalation ladders,
and what the callbacks and the link flow read of them. Credentials and secrets are sealed here, before they reach
an event; a callback token is kept as its digest."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import TYPE_CHECKING, Any

from notify.channels.sms import PROVIDERS
from notify.domain.errors import InvalidMobileSettings
from notify.domain.escalation import DEFAULT_LADDERS, Ladder
from notify.domain.mobile import MobilePolicy
from notify.domain.rules import RULES_BY_NAME

if TYPE_CHECKING:
    from notify.application import NotifyApplication

# The credentials each SMS provider's API needs.
SMS_CREDENTIALS = {
    "aliyun": ("access_key_id", "access_key_secret"),
    "tencent": ("secret_id", "secret_key", "sdk_app_id"),
}


def digest(value: str) -> str:
    """What is kept of a token or a link's state: only their SHA-256, compared in constant time."""
    return hashlib.sha256(value.encode()).hexdigest()


def configure_sms(
    app: NotifyApplication,
    tenant_id: str,
    *,
    provider: str,
    credentials: dict[str, str],
    region: str | None,
    templates: dict[str, dict[str, Any]],
    daily_limit: int,
    quiet_hours: dict[str, str] | None,
    unit_price_fen: int,
    rotate_callback_token: bool,
    by: str,
) -> tuple[MobilePolicy, str | None]:
    """Returns the policy and, when one was made, the callback token (shown once, stored as a digest)."""
    if provider not in PROVIDERS:
        raise InvalidMobileSettings(f"provider is one of {', '.join(PROVIDERS)}", field="provider")
    missing = [k for k in SMS_CREDENTIALS[provider] if not credentials.get(k)]
    if missing:
        raise InvalidMobileSettings(f"{provider} needs {', '.join(missing)}", field="credentials")
    _check_rules(templates)
    policy = _mobile_policy_or_open(app, tenant_id)
    current = policy.parts.get("sms")
    token: str | None = None
    token_digest = current.get("callback_token_digest") if current else None
    if token_digest is None or rotate_callback_token:
        token = secrets.token_urlsafe(24)
        token_digest = digest(token)
    config = {
        "provider": provider,
        "credentials": app.box.seal(json.dumps(credentials), context=f"{tenant_id}|sms"),
        "region": region,
        "templates": templates,
        "daily_limit": daily_limit,
        "quiet_hours": quiet_hours,
        "unit_price_fen": unit_price_fen,
        "callback_token_digest": token_digest,
    }
    policy.configure("sms", config, by=by)
    app.save(policy)
    return policy, token


def configure_wechat(
    app: NotifyApplication,
    tenant_id: str,
    *,
    app_id: str,
    app_secret: str,
    redirect_uri: str,
    templates: dict[str, dict[str, Any]],
    by: str,
) -> MobilePolicy:
    _check_rules(templates)
    policy = _mobile_policy_or_open(app, tenant_id)
    policy.configure(
        "wechat",
        {
            "app_id": app_id,
            "app_secret": app.box.seal(app_secret, context=f"{tenant_id}|wechat"),
            "redirect_uri": redirect_uri,
            "templates": templates,
        },
        by=by,
    )
    app.save(policy)
    return policy


def configure_wecom(
    app: NotifyApplication,
    tenant_id: str,
    *,
    corp_id: str,
    agent_id: int,
    secret: str,
    routes: list[dict[str, Any]],
    by: str,
) -> MobilePolicy:
    for i, route in enumerate(routes):
        if not (route.get("touser") or route.get("toparty")):
            raise InvalidMobileSettings(f"route {i} needs touser or toparty", field="routes")
    policy = _mobile_policy_or_open(app, tenant_id)
    policy.configure(
        "wecom",
        {
            "corp_id": corp_id,
            "agent_id": agent_id,
            "secret": app.box.seal(secret, context=f"{tenant_id}|wecom"),
            "routes": routes,
        },
        by=by,
    )
    app.save(policy)
    return policy


def remove_mobile(app: NotifyApplication, tenant_id: str, part: str, *, by: str) -> MobilePolicy:
    policy = _mobile_policy_or_open(app, tenant_id)
    policy.configure(part, None, by=by)
    app.save(policy)
    return policy


def set_escalation(
    app: NotifyApplication, tenant_id: str, rule: str, ladder: Ladder, *, by: str
) -> MobilePolicy:
    if not rule.startswith("reminder.") or rule not in RULES_BY_NAME:
        raise InvalidMobileSettings(
            f"escalation applies to reminder rules (items with a deadline), not {rule!r}", field="rule"
        )
    policy = _mobile_policy_or_open(app, tenant_id)
    policy.set_escalation(rule, ladder.to_dict(), by=by)
    app.save(policy)
    return policy


def ladder_for(app: NotifyApplication, tenant_id: str, rule: str) -> Ladder | None:
    """The tenant's ladder for the rule, else the platform's default (None: the rule does not escalate)."""
    policy = app.mobile_policy_of(tenant_id)
    if policy is not None and rule in policy.escalations:
        return Ladder.from_dict(policy.escalations[rule])
    return DEFAULT_LADDERS.get(rule)


def sms_callback_accepts(app: NotifyApplication, tenant_id: str, provider: str, token: str) -> bool:
    policy = app.mobile_policy_of(tenant_id)
    sms = policy.parts.get("sms") if policy else None
    if sms is None or sms["provider"] != provider or not token:
        return False
    return hmac.compare_digest(digest(token), str(sms["callback_token_digest"]))


def wechat_app(app: NotifyApplication, tenant_id: str) -> tuple[str, str, str] | None:
    """(app id, app secret, redirect uri) of the tenant's Official Account, for the code exchange."""
    policy = app.mobile_policy_of(tenant_id)
    wechat = policy.parts.get("wechat") if policy else None
    if wechat is None:
        return None
    secret = app.box.open(wechat["app_secret"], context=f"{tenant_id}|wechat")
    return wechat["app_id"], secret, wechat["redirect_uri"]


def _check_rules(templates: dict[str, dict[str, Any]]) -> None:
    for rule in templates:
        if rule not in RULES_BY_NAME:
            raise InvalidMobileSettings(f"no rule named {rule!r}", field="templates")


def _mobile_policy_or_open(app: NotifyApplication, tenant_id: str) -> MobilePolicy:
    return app.mobile_policy_of(tenant_id) or MobilePolicy.open(tenant_id)
