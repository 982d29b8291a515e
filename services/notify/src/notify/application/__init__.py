"""Notify's eventsourcing Application: consumed events become notifications exactly once; deliveries are sent,
retried, dead-lettered and replayed; reminders fire and escalate until their items close.

One class, one method per use case. Each use case is a function of the application in the module of its area,
bound here as a method (`configure_channel = policy.configure_channel`): this class is the list of what notify
does, the modules hold how.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from dataclasses import dataclass
from uuid import UUID

from notify.application import (
    escalations,
    inbox,
    mobile_settings,
    policy,
    preferences,
    reach,
    reactions,
    sending,
    sms_records,
)
from notify.application.directory import Directory, NoDirectory
from notify.domain import RecipientPreferences, TenantPolicy, policy_id, preferences_id
from notify.domain.mobile import MobilePolicy, mobile_policy_id
from notify.domain.reach import MemberReach, member_reach_id
from shared.clock import Clock, SystemClock
from shared.eventstore import ServiceApplication
from shared.fieldcrypt import FieldCipher
from shared.shredding import PersonalData, PersonalDataApplication


@dataclass(frozen=True)
class DeliveryPolicy:
    max_attempts: int = 6
    backoff_base_seconds: float = 30.0
    backoff_cap_seconds: float = 3600.0


# A rendered title and body may show a member's name: sealed with that member's key (its id in `named_member`).
RENDERED_PERSONAL_DATA = tuple(
    PersonalData(topic, ("title", "body"), subject="named_member")
    for topic in ("lianxin.notify.InboxItem.Delivered", "lianxin.notify.Delivery.Requested")
)


class NotifyApplication(PersonalDataApplication, ServiceApplication):
    # eventsourcing names an Application after its class unless the class itself sets `name`: tables
    # notify_events and notify_tracking, and the env prefix, must not follow the class around.
    name = "notify"
    personal_data = RENDERED_PERSONAL_DATA

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        clock: Clock | None = None,
        *,
        box: FieldCipher | None = None,
        directory: Directory | None = None,
        delivery: DeliveryPolicy | None = None,
    ) -> None:
        super().__init__(env)
        self.clock = clock or SystemClock()
        # Tests on in-memory persistence get a throwaway key; the runtime always passes CIPHER_KEY's box.
        self.box = box or FieldCipher(base64.b64encode(os.urandom(32)).decode())
        self.directory = directory or NoDirectory()
        self.delivery = delivery or DeliveryPolicy()

    # The look-ups every area uses.

    def policy_of(self, tenant_id: str) -> TenantPolicy | None:
        return self.find(TenantPolicy, policy_id(tenant_id))

    def preferences_of(self, tenant_id: str, subject: str) -> RecipientPreferences | None:
        return self.find(RecipientPreferences, preferences_id(tenant_id, subject))

    def mobile_policy_of(self, tenant_id: str) -> MobilePolicy | None:
        return self.find(MobilePolicy, mobile_policy_id(tenant_id))

    def reach_of(self, tenant_id: str, subject: str) -> MemberReach | None:
        return self.find(MemberReach, member_reach_id(tenant_id, subject))

    def exists(self, aggregate_id: UUID) -> bool:
        return aggregate_id in self.repository

    # Reactions to upstream events (consumers.py chooses which), and the reminders' firings.
    erase_member = reactions.erase_member
    names_for_run = reactions.names_for_run
    notifications_for = reactions.notifications_for
    reminders_for = reactions.reminders_for
    escalations_for = escalations.escalations_for
    fire_reminder = reactions.fire_reminder
    take_escalation_step = escalations.take_escalation_step

    # Sending, and an operator's replay.
    prepare_attempt = sending.prepare_attempt
    record_attempt = sending.record_attempt
    get_delivery = sending.get_delivery
    replay_delivery = sending.replay_delivery

    # The inbox.
    mark_read = inbox.mark_read

    # A tenant's policy.
    configure_channel = policy.configure_channel
    remove_channel = policy.remove_channel
    override_rule = policy.override_rule
    set_reminder_interval = policy.set_reminder_interval

    # A member's preferences.
    set_preferences = preferences.set_preferences
    email_of = preferences.email_of

    # A tenant's phone channels and escalation ladders.
    configure_sms = mobile_settings.configure_sms
    configure_wechat = mobile_settings.configure_wechat
    configure_wecom = mobile_settings.configure_wecom
    remove_mobile = mobile_settings.remove_mobile
    set_escalation = mobile_settings.set_escalation
    sms_callback_accepts = mobile_settings.sms_callback_accepts
    wechat_app = mobile_settings.wechat_app

    # A member's reach by phone, and the provider callbacks.
    start_wechat_link = reach.start_wechat_link
    check_link_state = reach.check_link_state
    finish_wechat_link = reach.finish_wechat_link
    unlink_wechat = reach.unlink_wechat
    set_sms_choice = reach.set_sms_choice
    record_sms_reply = reach.record_sms_reply
    record_sms_receipt = sms_records.record_sms_receipt


__all__ = ["DeliveryPolicy", "NotifyApplication"]
