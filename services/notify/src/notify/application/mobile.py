"""Use cases of the phone channels: a tenant's SMS, WeChat and WeCom settings and escalation ladders, a member's
WeChat link and SMS opt-out, provider callbacks (receipts, TD replies), escalation steps, and the targets the
sender resolves at send time. Secrets and openids are sealed here, before they reach an event.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.domain import Aggregate

from notify.application.base import NotifyBase
from notify.application.planning import Occasion, Planner
from notify.application.templates import language_of
from notify.channels.senders import SendOutcome
from notify.channels.sms import PROVIDERS, Receipt
from notify.channels.targets import MOBILE_CHANNELS, MobileTarget, SmsTarget, WeChatTarget, WeComTarget
from notify.channels.webhooks import markdown_message
from notify.domain import Delivery, DeliveryStatus, InvalidChannel, InvalidPreferences, notification_id
from notify.domain.escalation import DEFAULT_LADDERS, Ladder, deadline_of, plan_steps
from notify.domain.mobile import (
    DEFAULT_SMS_DAILY_LIMIT,
    DEFAULT_SMS_QUIET_HOURS,
    Escalation,
    MemberReach,
    MobilePolicy,
    PhoneIndex,
    SmsRecord,
    escalation_id,
    member_reach_id,
    mobile_policy_id,
    phone_index_id,
    sms_record_id,
)
from notify.domain.quiet import DEFAULT_TIMEZONE, QuietHours, next_allowed
from notify.domain.reminder_rules import closed_by, opened_by
from notify.domain.rules import RULES_BY_NAME, Recipient, owning_tenant
from shared.envelope import CloudEvent
from shared.errors import Invalid

SMS_VARIABLE_MAX = 35  # Alibaba Cloud's limit for one template variable; Tencent's is shorter for some types


class InvalidMobileSettings(Invalid):
    type = "invalid-mobile-settings"


class LinkRefused(Invalid):
    type = "wechat-link-refused"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def local_day(at: datetime) -> str:
    return at.astimezone(ZoneInfo(DEFAULT_TIMEZONE)).date().isoformat()


class Mobile(NotifyBase):
    # A tenant's settings.

    def mobile_policy_of(self, tenant_id: str) -> MobilePolicy | None:
        return self.find(MobilePolicy, mobile_policy_id(tenant_id))

    def _mobile_policy_or_open(self, tenant_id: str) -> MobilePolicy:
        return self.mobile_policy_of(tenant_id) or MobilePolicy.open(tenant_id)

    def configure_sms(
        self,
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
        needed = {
            "aliyun": ("access_key_id", "access_key_secret"),
            "tencent": ("secret_id", "secret_key", "sdk_app_id"),
        }
        if provider not in PROVIDERS:
            raise InvalidMobileSettings(f"provider is one of {', '.join(PROVIDERS)}", field="provider")
        missing = [k for k in needed[provider] if not credentials.get(k)]
        if missing:
            raise InvalidMobileSettings(f"{provider} needs {', '.join(missing)}", field="credentials")
        for rule in templates:
            if rule not in RULES_BY_NAME:
                raise InvalidMobileSettings(f"no rule named {rule!r}", field="templates")
        policy = self._mobile_policy_or_open(tenant_id)
        current = policy.parts.get("sms")
        token: str | None = None
        token_digest = current.get("callback_token_digest") if current else None
        if token_digest is None or rotate_callback_token:
            token = secrets.token_urlsafe(24)
            token_digest = _digest(token)
        config = {
            "provider": provider,
            "credentials": self.box.seal(json.dumps(credentials), context=f"{tenant_id}|sms"),
            "region": region,
            "templates": templates,
            "daily_limit": daily_limit,
            "quiet_hours": quiet_hours,
            "unit_price_fen": unit_price_fen,
            "callback_token_digest": token_digest,
        }
        policy.configure("sms", config, by=by)
        self.save(policy)
        return policy, token

    def configure_wechat(
        self,
        tenant_id: str,
        *,
        app_id: str,
        app_secret: str,
        redirect_uri: str,
        templates: dict[str, dict[str, Any]],
        by: str,
    ) -> MobilePolicy:
        for rule in templates:
            if rule not in RULES_BY_NAME:
                raise InvalidMobileSettings(f"no rule named {rule!r}", field="templates")
        policy = self._mobile_policy_or_open(tenant_id)
        policy.configure(
            "wechat",
            {
                "app_id": app_id,
                "app_secret": self.box.seal(app_secret, context=f"{tenant_id}|wechat"),
                "redirect_uri": redirect_uri,
                "templates": templates,
            },
            by=by,
        )
        self.save(policy)
        return policy

    def configure_wecom(
        self,
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
        policy = self._mobile_policy_or_open(tenant_id)
        policy.configure(
            "wecom",
            {
                "corp_id": corp_id,
                "agent_id": agent_id,
                "secret": self.box.seal(secret, context=f"{tenant_id}|wecom"),
                "routes": routes,
            },
            by=by,
        )
        self.save(policy)
        return policy

    def remove_mobile(self, tenant_id: str, part: str, *, by: str) -> MobilePolicy:
        policy = self._mobile_policy_or_open(tenant_id)
        policy.configure(part, None, by=by)
        self.save(policy)
        return policy

    def set_escalation(self, tenant_id: str, rule: str, ladder: Ladder, *, by: str) -> MobilePolicy:
        if not rule.startswith("reminder.") or rule not in RULES_BY_NAME:
            raise InvalidMobileSettings(
                f"escalation applies to reminder rules (items with a deadline), not {rule!r}", field="rule"
            )
        policy = self._mobile_policy_or_open(tenant_id)
        policy.set_escalation(rule, ladder.to_dict(), by=by)
        self.save(policy)
        return policy

    def ladder_for(self, tenant_id: str, rule: str) -> Ladder | None:
        policy = self.mobile_policy_of(tenant_id)
        if policy is not None and rule in policy.escalations:
            return Ladder.from_dict(policy.escalations[rule])
        return DEFAULT_LADDERS.get(rule)

    def sms_callback_accepts(self, tenant_id: str, provider: str, token: str) -> bool:
        policy = self.mobile_policy_of(tenant_id)
        sms = policy.parts.get("sms") if policy else None
        if sms is None or sms["provider"] != provider or not token:
            return False
        return hmac.compare_digest(_digest(token), str(sms["callback_token_digest"]))

    def wechat_app(self, tenant_id: str) -> tuple[str, str, str] | None:
        """(app id, app secret, redirect uri) of the tenant's Official Account, for the code exchange."""
        policy = self.mobile_policy_of(tenant_id)
        wechat = policy.parts.get("wechat") if policy else None
        if wechat is None:
            return None
        secret = self.box.open(wechat["app_secret"], context=f"{tenant_id}|wechat")
        return wechat["app_id"], secret, wechat["redirect_uri"]

    # A member.

    def reach_of(self, tenant_id: str, subject: str) -> MemberReach | None:
        return self.find(MemberReach, member_reach_id(tenant_id, subject))

    def _reach_or_open(self, tenant_id: str, subject: str) -> MemberReach:
        return self.reach_of(tenant_id, subject) or MemberReach.open(tenant_id, subject)

    def start_wechat_link(self, tenant_id: str, subject: str) -> str:
        """A random `state` for the authorization redirect; only its digest is kept, good for one exchange."""
        if self.wechat_app(tenant_id) is None:
            raise InvalidMobileSettings(
                "the organisation has no WeChat Official Account set up", field="wechat"
            )
        state = secrets.token_urlsafe(16)
        reach = self._reach_or_open(tenant_id, subject)
        reach.start_link(state_digest=_digest(state), at=self.clock.now())
        self.save(reach)
        return state

    def check_link_state(self, tenant_id: str, subject: str, state: str) -> None:
        reach = self.reach_of(tenant_id, subject)
        if (
            reach is None
            or reach.state_digest is None
            or not hmac.compare_digest(reach.state_digest, _digest(state))
        ):
            raise LinkRefused("the state does not match a link this member started", field="state")

    def finish_wechat_link(self, tenant_id: str, subject: str, state: str, openid: str) -> MemberReach:
        self.check_link_state(tenant_id, subject, state)
        reach = self._reach_or_open(tenant_id, subject)
        reach.link(openid=self.box.seal(openid, context=f"{tenant_id}|openid|{subject}"), at=self.clock.now())
        self.save(reach)
        return reach

    def unlink_wechat(self, tenant_id: str, subject: str) -> MemberReach:
        reach = self._reach_or_open(tenant_id, subject)
        reach.unlink(at=self.clock.now())
        self.save(reach)
        return reach

    def set_sms_choice(self, tenant_id: str, subject: str, *, opted_out: bool, source: str) -> MemberReach:
        if not subject.startswith("member:"):
            raise InvalidPreferences("only a member chooses SMS", field="sms")
        reach = self._reach_or_open(tenant_id, subject)
        if reach.choose_sms(opted_out=opted_out, source=source, at=self.clock.now()) or reach.version == 0:
            self.save(reach)
        return reach

    # Provider callbacks.

    def record_sms_reply(self, tenant_id: str, provider: str, digest: str, *, opts_out: bool) -> str | None:
        """A reply from a number notify sent to: TD (and the like) opts that member out. Returns the subject."""
        index = self.find(PhoneIndex, phone_index_id(tenant_id, digest))
        if index is None or not opts_out:
            return None
        self.set_sms_choice(tenant_id, index.subject, opted_out=True, source=f"reply:{provider}")
        return index.subject

    def record_sms_receipt(self, tenant_id: str, provider: str, receipt: Receipt) -> SmsRecord | None:
        record = self.find(SmsRecord, sms_record_id(tenant_id, provider, receipt.message_id))
        if record is None or record.tenant_id != tenant_id:
            return None
        if record.receipt(
            delivered=receipt.delivered, code=receipt.code, at=self.clock.now(), units=receipt.units
        ):
            self.save(record)
        return record

    def after_sent(self, delivery: Delivery, outcome: SendOutcome) -> list[Aggregate]:
        """An accepted SMS is counted for the member's day and the tenant's month, and its number's digest points
        at the member (for a TD reply)."""
        if delivery.channel != "sms" or not outcome.ok:
            return []
        subject = delivery.recipient.rsplit("/", 1)[-1]
        now = self.clock.now()
        reach = self._reach_or_open(delivery.tenant_id, subject)
        reach.count_sms(day=local_day(now), delivery_id=str(delivery.id))
        changed: list[Aggregate] = [reach]
        if outcome.reference:
            record_id = sms_record_id(
                delivery.tenant_id, self._sms_provider(delivery.tenant_id), outcome.reference
            )
            if self.find(SmsRecord, record_id) is None:
                changed.append(
                    SmsRecord(
                        id=record_id,
                        tenant_id=delivery.tenant_id,
                        provider=self._sms_provider(delivery.tenant_id),
                        message_id=outcome.reference,
                        delivery_id=str(delivery.id),
                        recipient=delivery.recipient,
                        month=now.astimezone(ZoneInfo(DEFAULT_TIMEZONE)).strftime("%Y-%m"),
                        units=max(1, outcome.units),
                        at=now,
                    )
                )
        if outcome.phone_digest:
            index_id = phone_index_id(delivery.tenant_id, outcome.phone_digest)
            index = self.find(PhoneIndex, index_id)
            if index is None:
                changed.append(PhoneIndex(id=index_id, tenant_id=delivery.tenant_id, subject=subject))
            elif index.point_to(subject):
                changed.append(index)
        return changed

    def _sms_provider(self, tenant_id: str) -> str:
        policy = self.mobile_policy_of(tenant_id)
        sms = policy.parts.get("sms") if policy else None
        return str(sms["provider"]) if sms else "unknown"

    # Escalations: opened and closed with the reminders of the same items, stepped by the scheduler.

    def escalations_for(self, event: CloudEvent, data: dict[str, Any]) -> list[Aggregate]:
        now = self.clock.now()
        tenant = owning_tenant(event.tenantid, data)
        changed: list[Aggregate] = []
        for spec in closed_by(event.type):
            item = spec.item_id(data)
            escalation = self.find(Escalation, escalation_id(tenant, spec.kind, item)) if item else None
            if escalation is not None and escalation.close(at=now, by_event=event.id):
                changed.append(escalation)
                for delivery_id in escalation.deliveries:
                    delivery = self.find(Delivery, UUID(delivery_id))
                    if delivery is not None and delivery.status is DeliveryStatus.Pending:
                        delivery.withdraw_if_pending(reason=f"{spec.kind} closed by {event.type}", at=now)
                        changed.append(delivery)
        for spec in opened_by(event.type):
            item = spec.item_id(data)
            rule = f"reminder.{spec.kind}"
            ladder = self.ladder_for(tenant, rule)
            deadline = deadline_of(spec, event.type, data, event.time)
            if item is None or ladder is None or deadline is None:
                continue
            if self.find(Escalation, escalation_id(tenant, spec.kind, item)) is not None:
                continue  # each step once: a repeated or moved announcement does not start the ladder again
            steps = plan_steps(ladder, deadline, now)
            if not steps:
                continue
            changed.append(
                Escalation(
                    id=escalation_id(tenant, spec.kind, item),
                    tenant_id=tenant,
                    rule=rule,
                    kind=spec.kind,
                    item_id=item,
                    deadline=deadline,
                    urgent=ladder.urgent,
                    steps=steps,
                    source={
                        "type": event.type,
                        "id": event.id,
                        "subject": event.subject,
                        "tenant": event.tenantid,
                        "data": data,
                    },
                )
            )
        return changed

    def get_escalation(self, tenant_id: str, escalation_uuid: UUID) -> Escalation | None:
        escalation = self.find(Escalation, escalation_uuid)
        return escalation if escalation is not None and escalation.tenant_id == tenant_id else None

    def take_escalation_step(self, escalation_uuid: UUID, step: str) -> Escalation | None:
        """A scheduled step: idempotent, nothing once the item closed or the step was taken."""
        escalation = self.find(Escalation, escalation_uuid)
        if escalation is None or escalation.closed or step in escalation.taken:
            return None
        rule = RULES_BY_NAME[escalation.rule]
        source = escalation.source
        occasion = Occasion(
            source["tenant"],
            f"{escalation.id}:{step}",
            f"escalation:{escalation.kind}",
            source["subject"],
            source["data"],
        )
        planner = Planner(self, self.directory, now=self.clock.now(), max_attempts=self.delivery.max_attempts)
        created: list[Delivery] = []
        notes: list[str] = []
        for recipient in rule.recipients(occasion.tenant, occasion.data):
            delivery, note = self._escalation_delivery(
                planner, rule.name, occasion, recipient, step, escalation.urgent
            )
            if delivery is not None and not self.exists(delivery.id):
                created.append(delivery)
            if note:
                notes.append(note)
        if not escalation.take(
            step=step,
            at=self.clock.now(),
            deliveries=[str(d.id) for d in created],
            note="; ".join(notes)[:500],
        ):
            return None
        self.save(escalation, *created)
        return escalation

    def _escalation_delivery(
        self, planner: Planner, rule: str, occasion: Occasion, recipient: Recipient, step: str, urgent: bool
    ) -> tuple[Delivery | None, str]:
        policy = self.mobile_policy_of(recipient.tenant)
        parts = policy.parts if policy else {}
        key = recipient.key(occasion.tenant)
        if recipient.subject is None:
            if step != "wechat":
                return None, ""
            wecom = parts.get("wecom")
            if wecom is None or not _route(wecom, recipient.role, recipient.org):
                return None, f"{key}: no WeCom route"
            return self._step_delivery(
                planner,
                rule,
                occasion,
                recipient,
                "wecom",
                f"{recipient.role}@{recipient.org or '*'}",
                None,
                {},
            ), ""
        prefs = self.preferences_of(recipient.tenant, recipient.subject)
        quiet = None if urgent else QuietHours.from_dict(prefs.quiet_hours if prefs else None)
        if step == "wechat":
            wechat = parts.get("wechat")
            template = (wechat or {}).get("templates", {}).get(rule)
            reach = self.reach_of(recipient.tenant, recipient.subject)
            if template is None:
                return None, f"{key}: no WeChat template for {rule}"
            if reach is None or reach.openid is None:
                return None, f"{key}: WeChat not linked"
            values = self._template_values(planner, occasion, template.get("fields", {}))
            return self._step_delivery(
                planner, rule, occasion, recipient, "wechat", "member", quiet, values
            ), ""
        sms = parts.get("sms")
        template = (sms or {}).get("templates", {}).get(rule)
        if template is None:
            return None, f"{key}: no SMS template for {rule}"
        if not urgent:
            quiet = quiet or QuietHours.from_dict(sms.get("quiet_hours") or DEFAULT_SMS_QUIET_HOURS)  # type: ignore[union-attr]
        values = self._template_values(planner, occasion, template.get("variables", {}))
        return self._step_delivery(planner, rule, occasion, recipient, "sms", "member", quiet, values), ""

    def _template_values(
        self, planner: Planner, occasion: Occasion, mapping: dict[str, str]
    ) -> dict[str, str]:
        """Template variable -> value: an event field, or `member` (the name from the registry)."""
        values: dict[str, str] = {}
        for variable, source in mapping.items():
            if source == "member":
                value = planner.member_name(occasion) or "党员"
            else:
                value = str(occasion.data.get(source) or "")
            values[variable] = value[:SMS_VARIABLE_MAX]
        return values

    def _step_delivery(
        self,
        planner: Planner,
        rule: str,
        occasion: Occasion,
        recipient: Recipient,
        channel: str,
        destination: str,
        quiet: QuietHours | None,
        values: dict[str, str],
    ) -> Delivery:
        key = recipient.key(occasion.tenant)
        prefs = self.preferences_of(recipient.tenant, recipient.subject) if recipient.subject else None
        language = language_of(prefs.language if prefs else None)
        rendered = planner.render(RULES_BY_NAME[rule], occasion, language)
        body = rendered.body if channel == "wecom" else json.dumps({"values": values}, ensure_ascii=False)
        return Delivery(
            id=notification_id(rule, occasion.event_id, key, f"{channel}:{destination}"),
            tenant_id=recipient.tenant,
            rule=rule,
            event_type=occasion.event_type,
            event_id=occasion.event_id,
            recipient=key,
            channel=channel,
            destination=destination,
            language=language,
            title=rendered.title,
            body=body,
            link=rendered.link,
            due_at=next_allowed(planner.now, quiet),
            max_attempts=self.delivery.max_attempts,
            reminder_id=None,
            named_member=planner.named_member(occasion),
        )

    # Send time.

    def mobile_target(self, delivery: Delivery) -> MobileTarget:
        """Raises LookupError with the reason when there is nowhere to send (dead-lettered without trying)."""
        assert delivery.channel in MOBILE_CHANNELS
        tenant = delivery.tenant_id
        policy = self.mobile_policy_of(tenant)
        parts = policy.parts if policy else {}
        if delivery.channel == "wecom":
            wecom = parts.get("wecom")
            role, _, org = delivery.destination.partition("@")
            route = _route(wecom, role, None if org == "*" else org) if wecom else None
            if wecom is None or route is None:
                raise LookupError("WeCom is no longer set up for these secretaries")
            return WeComTarget(
                corp_id=wecom["corp_id"],
                agent_id=int(wecom["agent_id"]),
                secret=self.box.open(wecom["secret"], context=f"{tenant}|wecom"),
                touser=str(route.get("touser") or ""),
                toparty=str(route.get("toparty") or ""),
                content=markdown_message(delivery.title, delivery.body, None),
            )
        subject = delivery.recipient.rsplit("/", 1)[-1]
        values = json.loads(delivery.body).get("values", {})
        reach = self.reach_of(tenant, subject)
        if delivery.channel == "wechat":
            wechat = parts.get("wechat")
            template = (wechat or {}).get("templates", {}).get(delivery.rule)
            if wechat is None or template is None:
                raise LookupError("the WeChat Official Account or its template was removed")
            if reach is None or reach.openid is None:
                raise LookupError("the member unlinked WeChat")
            return WeChatTarget(
                app_id=wechat["app_id"],
                app_secret=self.box.open(wechat["app_secret"], context=f"{tenant}|wechat"),
                openid=self.box.open(reach.openid, context=f"{tenant}|openid|{subject}"),
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
        if reach is not None and reach.sms_on(local_day(self.clock.now())) >= limit:
            raise LookupError(f"the member already had {limit} SMS today (the tenant's daily limit)")
        return SmsTarget(
            member_id=subject.removeprefix("member:"),
            provider=sms["provider"],
            credentials=json.loads(self.box.open(sms["credentials"], context=f"{tenant}|sms")),
            region=sms.get("region"),
            sign_name=str(template["sign_name"]),
            template_id=str(template["template_id"]),
            params=values,
        )


def _route(wecom: dict[str, Any], role: str, org: str | None) -> dict[str, Any] | None:
    for route in wecom.get("routes", []):
        if route.get("role") == role and (route.get("org_id") in (None, org)):
            return dict(route)
    return None


__all__ = ["InvalidChannel", "InvalidMobileSettings", "LinkRefused", "Mobile", "local_day"]
