"""Where an SMS, WeChat or WeCom attempt goes, resolved at send time; secrets and openids never print."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SmsTarget:
    member_id: str
    provider: str
    credentials: dict[str, str] = field(repr=False)
    region: str | None
    sign_name: str
    template_id: str
    params: dict[str, str] = field(repr=False)


@dataclass(frozen=True)
class WeChatTarget:
    app_id: str
    app_secret: str = field(repr=False)
    openid: str = field(repr=False)
    template_id: str = ""
    data: dict[str, str] = field(default_factory=dict, repr=False)
    url: str | None = None
    kind: str = "template"  # or "subscribe" (订阅通知)


@dataclass(frozen=True)
class WeComTarget:
    corp_id: str
    agent_id: int
    secret: str = field(repr=False)
    touser: str = ""
    toparty: str = ""
    content: str = field(default="", repr=False)


MobileTarget = SmsTarget | WeChatTarget | WeComTarget
MOBILE_TARGETS = (SmsTarget, WeChatTarget, WeComTarget)
MOBILE_CHANNELS = ("wechat", "wecom", "sms")
