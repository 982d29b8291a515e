"""The base of notify's Application: its collaborators and the look-ups every use case needs."""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from notify.application.directory import Directory, NoDirectory
from notify.domain import RecipientPreferences, TenantPolicy, policy_id, preferences_id
from shared.clock import Clock, SystemClock
from shared.eventstore import ServiceApplication
from shared.fieldcrypt import FieldCipher
from shared.shredding import PersonalData, PersonalDataApplication

A = TypeVar("A", bound=Aggregate)


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


class NotifyBase(PersonalDataApplication, ServiceApplication):
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

    def policy_of(self, tenant_id: str) -> TenantPolicy | None:
        return self.find(TenantPolicy, policy_id(tenant_id))

    def preferences_of(self, tenant_id: str, subject: str) -> RecipientPreferences | None:
        return self.find(RecipientPreferences, preferences_id(tenant_id, subject))

    # Helpers.

    def exists(self, aggregate_id: UUID) -> bool:
        return aggregate_id in self.repository
