"""Escalations: opened and closed with the reminders of the same items, stepped by the scheduler. Each step (SMS,
WeChat, the secretaries' WeCom) is a delivery of its own, sent once."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from notify.application.mobile_settings import ladder_for
from notify.application.planning import Occasion, Planner
from notify.application.targets import wecom_route
from notify.application.templates import language_of
from notify.domain import Delivery, DeliveryStatus, notification_id
from notify.domain.escalation import Escalation, deadline_of, escalation_id, plan_steps
from notify.domain.mobile import DEFAULT_SMS_QUIET_HOURS
from notify.domain.quiet import QuietHours, next_allowed
from notify.domain.reminder_rules import closed_by, opened_by
from notify.domain.rules import RULES_BY_NAME, Recipient, owning_tenant
from shared.envelope import CloudEvent

if TYPE_CHECKING:
    from notify.application import NotifyApplication

SMS_VARIABLE_MAX = 35  # Alibaba Cloud's limit for one template variable; Tencent's is shorter for some types


def escalations_for(app: NotifyApplication, event: CloudEvent, data: dict[str, Any]) -> list[Aggregate]:
    now = app.clock.now()
    tenant = owning_tenant(event.tenantid, data)
    changed: list[Aggregate] = []
    for spec in closed_by(event.type):
        item = spec.item_id(data)
        escalation = app.find(Escalation, escalation_id(tenant, spec.kind, item)) if item else None
        if escalation is not None and escalation.close(at=now, by_event=event.id):
            changed.append(escalation)
            for delivery_id in escalation.deliveries:
                delivery = app.find(Delivery, UUID(delivery_id))
                if delivery is not None and delivery.status is DeliveryStatus.Pending:
                    delivery.withdraw_if_pending(reason=f"{spec.kind} closed by {event.type}", at=now)
                    changed.append(delivery)
    for spec in opened_by(event.type):
        item = spec.item_id(data)
        rule = f"reminder.{spec.kind}"
        ladder = ladder_for(app, tenant, rule)
        deadline = deadline_of(spec, event.type, data, event.time)
        if item is None or ladder is None or deadline is None:
            continue
        if app.find(Escalation, escalation_id(tenant, spec.kind, item)) is not None:
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


def take_escalation_step(app: NotifyApplication, escalation_uuid: UUID, step: str) -> Escalation | None:
    """A scheduled step: idempotent, nothing once the item closed or the step was taken."""
    escalation = app.find(Escalation, escalation_uuid)
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
    planner = Planner(app, app.directory, now=app.clock.now(), max_attempts=app.delivery.max_attempts)
    created: list[Delivery] = []
    notes: list[str] = []
    for recipient in rule.recipients(occasion.tenant, occasion.data):
        delivery, note = _escalation_delivery(
            app, planner, rule.name, occasion, recipient, step, escalation.urgent
        )
        if delivery is not None and not app.exists(delivery.id):
            created.append(delivery)
        if note:
            notes.append(note)
    if not escalation.take(
        step=step,
        at=app.clock.now(),
        deliveries=[str(d.id) for d in created],
        note="; ".join(notes)[:500],
    ):
        return None
    app.save(escalation, *created)
    return escalation


def _escalation_delivery(
    app: NotifyApplication,
    planner: Planner,
    rule: str,
    occasion: Occasion,
    recipient: Recipient,
    step: str,
    urgent: bool,
) -> tuple[Delivery | None, str]:
    policy = app.mobile_policy_of(recipient.tenant)
    parts = policy.parts if policy else {}
    key = recipient.key(occasion.tenant)
    if recipient.subject is None:
        if step != "wechat":
            return None, ""
        wecom = parts.get("wecom")
        if wecom is None or not wecom_route(wecom, recipient.role, recipient.org):
            return None, f"{key}: no WeCom route"
        return _step_delivery(
            app,
            planner,
            rule,
            occasion,
            recipient,
            "wecom",
            f"{recipient.role}@{recipient.org or '*'}",
            None,
            {},
        ), ""
    prefs = app.preferences_of(recipient.tenant, recipient.subject)
    quiet = None if urgent else QuietHours.from_dict(prefs.quiet_hours if prefs else None)
    if step == "wechat":
        wechat = parts.get("wechat")
        template = (wechat or {}).get("templates", {}).get(rule)
        reach = app.reach_of(recipient.tenant, recipient.subject)
        if template is None:
            return None, f"{key}: no WeChat template for {rule}"
        if reach is None or reach.openid is None:
            return None, f"{key}: WeChat not linked"
        values = _template_values(planner, occasion, template.get("fields", {}))
        return _step_delivery(app, planner, rule, occasion, recipient, "wechat", "member", quiet, values), ""
    sms = parts.get("sms")
    template = (sms or {}).get("templates", {}).get(rule)
    if template is None:
        return None, f"{key}: no SMS template for {rule}"
    if not urgent:
        quiet = quiet or QuietHours.from_dict(sms.get("quiet_hours") or DEFAULT_SMS_QUIET_HOURS)  # type: ignore[union-attr]
    values = _template_values(planner, occasion, template.get("variables", {}))
    return _step_delivery(app, planner, rule, occasion, recipient, "sms", "member", quiet, values), ""


def _template_values(planner: Planner, occasion: Occasion, mapping: dict[str, str]) -> dict[str, str]:
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
    app: NotifyApplication,
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
    prefs = app.preferences_of(recipient.tenant, recipient.subject) if recipient.subject else None
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
        max_attempts=app.delivery.max_attempts,
        reminder_id=None,
        named_member=planner.named_member(occasion),
    )
