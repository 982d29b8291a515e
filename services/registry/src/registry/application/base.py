"""What every registry use case leans on: the application's settings, its enums and tenant-scoped lookups."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date
from typing import ClassVar
from uuid import UUID

from registry.domain import (
    PERSONAL_FIELDS,
    CauseCode,
    CertificateState,
    DecisionKind,
    DeclarationState,
    Member,
    MemberCategory,
    MemberNotFound,
    MembershipStatus,
    MobilityKind,
    Organisation,
    OrganisationNotFound,
    OrgKind,
    Outcome,
    RegistrationState,
    RollStatus,
)
from registry.domain.development import Stage as DevelopmentStage
from registry.domain.dues import BEIJING
from registry.domain.screening import ScreeningOutcome, ScreeningScope
from shared.clock import Clock, SystemClock
from shared.eventstore import ServiceApplication
from shared.shredding import PersonalData, PersonalDataApplication

# Name, ID number, phone and birth date of a member, wherever an event carries them.
MEMBER_PERSONAL_DATA = PersonalData(
    "lianxin.registry.Member.",
    tuple(f"{holder}.{name}" for holder in ("profile", "changes") for name in PERSONAL_FIELDS),
)


class RegistryBase(PersonalDataApplication, ServiceApplication):
    """Personal fields of member events sealed with the member's own key (shared.shredding)."""

    name = "registry"
    personal_data = (MEMBER_PERSONAL_DATA,)
    enums: ClassVar[Mapping[str, type[enum.Enum]]] = {
        "registry.OrgKind": OrgKind,
        "registry.MemberCategory": MemberCategory,
        "registry.MembershipStatus": MembershipStatus,
        "registry.RollStatus": RollStatus,
        "registry.DecisionKind": DecisionKind,
        "registry.Outcome": Outcome,
        "registry.MobilityKind": MobilityKind,
        "registry.RegistrationState": RegistrationState,
        "registry.CertificateState": CertificateState,
        "registry.CauseCode": CauseCode,
        "registry.DeclarationState": DeclarationState,
        "registry.DevelopmentStage": DevelopmentStage,
        "registry.ScreeningScope": ScreeningScope,
        "registry.ScreeningOutcome": ScreeningOutcome,
    }

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        clock: Clock | None = None,
        platform_secret: str = "development-only-secret",
    ) -> None:
        super().__init__(env)
        self.clock = clock or SystemClock()
        self.platform_secret = platform_secret

    def today(self) -> date:
        """The day in Beijing: dues months, reminders and contact cycles count in it."""
        return self.clock.now().astimezone(BEIJING).date()

    # Lookups that treat another tenant's aggregate exactly like a missing one.

    def get_organisation(self, tenant_id: str, organisation_id: UUID, *, field: str = "id") -> Organisation:
        organisation = self.find(Organisation, organisation_id)
        if organisation is None or organisation.tenant_id != tenant_id:
            raise OrganisationNotFound(f"organisation {organisation_id} not found", field=field)
        return organisation

    def get_member(self, tenant_id: str, member_id: UUID) -> Member:
        member = self.find(Member, member_id)
        if member is None or member.tenant_id != tenant_id:
            raise MemberNotFound(f"member {member_id} not found")
        return member
