"""A member's own declaration that they are leaving (DOMAIN.md b, `Declared`): the branch confirms it, which
registers the outflow, or questions it, which sends it back to the member with the branch's question."""

from __future__ import annotations

import enum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from registry.domain.errors import RegistrationStateError


class DeclarationState(enum.Enum):
    Declared = "declared"
    Confirmed = "confirmed"
    Questioned = "questioned"


class MobilityDeclaration(Aggregate):
    TOPIC = "lianxin.registry.MobilityDeclaration"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.registry.MobilityDeclaration.Created"

    class Declared(Created):
        TOPIC = "lianxin.registry.MobilityDeclaration.Declared"
        tenant_id: str
        member_id: UUID
        home_org_id: UUID
        reason: str
        destination: str
        expected_months: int
        fixed_place: bool
        contact: str
        meta: dict[str, Any]

    class Confirmed(Event):
        TOPIC = "lianxin.registry.MobilityDeclaration.Confirmed"
        registration_id: UUID
        home: dict[str, str]  # whose declaration: the home tenant and member
        meta: dict[str, Any]
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["home"] = dict(state["meta"].get("home") or {})  # stored when meta carried it

    class Questioned(Event):
        TOPIC = "lianxin.registry.MobilityDeclaration.Questioned"
        question: str
        home: dict[str, str]
        meta: dict[str, Any]
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["home"] = dict(state["meta"].get("home") or {})  # stored when meta carried it

    @event(Declared)
    def __init__(
        self,
        *,
        id: UUID,
        tenant_id: str,
        member_id: UUID,
        home_org_id: UUID,
        reason: str,
        destination: str,
        expected_months: int,
        fixed_place: bool,
        contact: str,
        meta: dict[str, Any],
    ) -> None:
        self.tenant_id = tenant_id
        self.member_id = member_id
        self.home_org_id = home_org_id
        self.reason = reason
        self.destination = destination
        self.expected_months = expected_months
        self.fixed_place = fixed_place
        self.contact = contact
        self.state = DeclarationState.Declared
        self.registration_id: UUID | None = None
        self.question: str | None = None

    @property
    def home(self) -> dict[str, str]:
        """Whose declaration: its answers carry it, so they are published without a lookup."""
        return {"tenant_id": self.tenant_id, "member_id": str(self.member_id)}

    def confirm(self, registration_id: UUID, meta: dict[str, Any]) -> None:
        if self.state is DeclarationState.Confirmed and self.registration_id == registration_id:
            return
        if self.state is not DeclarationState.Declared:
            raise RegistrationStateError(f"the declaration is already {self.state.value}")
        self._confirmed(registration_id=registration_id, home=self.home, meta=meta)

    @event(Confirmed)
    def _confirmed(self, registration_id: UUID, home: dict[str, str], meta: dict[str, Any]) -> None:
        self.state = DeclarationState.Confirmed
        self.registration_id = registration_id

    def ask(self, question: str, meta: dict[str, Any]) -> None:
        if self.state is not DeclarationState.Declared:
            raise RegistrationStateError(f"the declaration is already {self.state.value}")
        self._questioned(question=question, home=self.home, meta=meta)

    @event(Questioned)
    def _questioned(self, question: str, home: dict[str, str], meta: dict[str, Any]) -> None:
        self.state = DeclarationState.Questioned
        self.question = question
