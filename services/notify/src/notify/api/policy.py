"""A tenant's notification policy (committee, tenant_admin): channels, rule overrides, reminder interval.

Secrets and addresses go in and never come out: responses say only whether one is set.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field, HttpUrl

from notify.api.common import Admins, Notify, QuietHoursIn, Settings, Strict
from notify.channels.egress import EgressRefused, check_url, parse_allowed_hosts
from notify.domain import TenantPolicy
from notify.domain.policy import DEFAULT_REMINDER_INTERVAL_DAYS
from notify.domain.rules import RULES
from shared.errors import Invalid
from shared.threads import run_sync

ChannelName = Annotated[
    str, Path(pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$", description="the tenant's name for it")
]


class ChannelIn(Strict):
    kind: Literal["webhook", "email"]
    role: Literal["branch_secretary", "committee", "tenant_admin", "auditor", "operator"] = Field(
        description="whose notifications go here"
    )
    org_id: str | None = Field(default=None, max_length=64, description="only this organisation's; none: all")
    url: HttpUrl | None = Field(default=None, description="webhook endpoint")
    preset: Literal["generic", "wecom", "dingtalk"] | None = None
    secret: str | None = Field(default=None, min_length=8, max_length=512, description="write-only")
    address: str | None = Field(
        default=None,
        max_length=254,
        pattern=r"^[^@\s]+@[^@\s]+$",
        description="mailbox of the role; write-only",
    )
    language: Literal["zh-CN", "en"] = "zh-CN"
    quiet_hours: QuietHoursIn | None = None


class ChannelOut(BaseModel):
    name: str
    kind: str
    role: str
    org_id: str | None
    url: str | None
    preset: str | None
    has_secret: bool
    has_address: bool
    language: str
    quiet_hours: dict[str, str] | None


class RuleIn(Strict):
    enabled: bool = True
    channels: list[Literal["inbox", "email", "webhook"]] | None = Field(
        default=None, description="none: the rule's default channels"
    )
    required_channels: list[Literal["inbox", "email"]] = Field(
        default_factory=list, description="channels members cannot opt out of"
    )


class RuleOut(BaseModel):
    name: str
    event_type: str
    audiences: list[str]
    enabled: bool
    channels: list[str]
    required_channels: list[str]
    overridden: bool


class ReminderSettingsIn(Strict):
    interval_days: int = Field(ge=1, le=90, description="how often a reminder repeats until its item closes")


class ReminderSettingsOut(BaseModel):
    interval_days: int


channels = APIRouter(prefix="/v1/channels", tags=["policy"])
rules = APIRouter(prefix="/v1/rules", tags=["policy"])
reminder_settings = APIRouter(prefix="/v1/reminder-settings", tags=["policy"])


def _channels(policy: TenantPolicy | None) -> list[ChannelOut]:
    if policy is None:
        return []
    return [
        ChannelOut(
            name=c.name,
            kind=c.kind,
            role=c.role,
            org_id=c.org_id,
            url=c.url,
            preset=c.preset,
            has_secret=bool(c.secret),
            has_address=bool(c.address),
            language=c.language,
            quiet_hours=c.quiet_hours,
        )
        for c in sorted(policy.channels.values(), key=lambda c: c.name)
    ]


@channels.get("", response_model=list[ChannelOut], summary="The tenant's webhook and email channels")
async def list_channels(user: Admins, notify: Notify) -> list[ChannelOut]:
    return _channels(await run_sync(notify.policy_of, user.tenant))


@channels.put("/{name}", response_model=ChannelOut, summary="Create or replace a channel")
async def put_channel(
    name: ChannelName, body: ChannelIn, user: Admins, notify: Notify, settings: Settings
) -> ChannelOut:
    if body.url is not None:
        try:
            check_url(str(body.url), parse_allowed_hosts(settings.webhook_allowed_hosts))
        except EgressRefused as exc:
            raise Invalid(str(exc), field="url") from None
    policy = await run_sync(
        notify.configure_channel,
        user.tenant,
        name=name,
        kind=body.kind,
        role=body.role,
        org_id=body.org_id,
        url=str(body.url) if body.url else None,
        preset=body.preset,
        secret=body.secret,
        address=body.address,
        language=body.language,
        quiet_hours=body.quiet_hours.model_dump() if body.quiet_hours else None,
        by=user.subject,
    )
    return next(c for c in _channels(policy) if c.name == name)


@channels.delete(
    "/{name}",
    status_code=204,
    response_class=Response,
    summary="Remove a channel; its pending deliveries dead-letter",
)
async def delete_channel(name: ChannelName, user: Admins, notify: Notify) -> None:
    await run_sync(notify.remove_channel, user.tenant, name, by=user.subject)


def _rules(policy: TenantPolicy | None) -> list[RuleOut]:
    out = []
    for rule in RULES:
        override = policy.overrides.get(rule.name) if policy else None
        channels_ = override.channels if override and override.channels is not None else rule.channels
        out.append(
            RuleOut(
                name=rule.name,
                event_type=rule.event_type,
                audiences=[
                    f"{a.role}"
                    + (f"@{a.org_field}" if a.org_field else "")
                    + (f" of {a.tenant_field}" if a.tenant_field else "")
                    for a in rule.audiences
                ],
                enabled=override.enabled if override else True,
                channels=list(channels_),
                required_channels=list(override.required_channels) if override else [],
                overridden=override is not None,
            )
        )
    return out


@rules.get("", response_model=list[RuleOut], summary="Every rule as it applies to the tenant")
async def list_rules(user: Admins, notify: Notify) -> list[RuleOut]:
    return _rules(await run_sync(notify.policy_of, user.tenant))


@rules.put("/{rule}", response_model=RuleOut, summary="Override a rule for the tenant")
async def put_rule(rule: str, body: RuleIn, user: Admins, notify: Notify) -> RuleOut:
    policy = await run_sync(
        notify.override_rule,
        user.tenant,
        rule,
        enabled=body.enabled,
        channels=list(body.channels) if body.channels is not None else None,
        required_channels=list(body.required_channels),
        by=user.subject,
    )
    return next(r for r in _rules(policy) if r.name == rule)


@reminder_settings.get("", response_model=ReminderSettingsOut, summary="How often reminders repeat")
async def get_reminder_settings(user: Admins, notify: Notify) -> ReminderSettingsOut:
    policy = await run_sync(notify.policy_of, user.tenant)
    return ReminderSettingsOut(
        interval_days=policy.reminder_interval_days if policy else DEFAULT_REMINDER_INTERVAL_DAYS
    )


@reminder_settings.put("", response_model=ReminderSettingsOut, summary="Set how often reminders repeat")
async def put_reminder_settings(
    body: ReminderSettingsIn, user: Admins, notify: Notify
) -> ReminderSettingsOut:
    policy = await run_sync(notify.set_reminder_interval, user.tenant, body.interval_days, by=user.subject)
    return ReminderSettingsOut(interval_days=policy.reminder_interval_days)
