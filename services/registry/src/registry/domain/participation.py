"""One identity per person across tenants, and the registry's answers to the transfer saga (ADR 0001)."""

from __future__ import annotations

import enum
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

PERSON_NAMESPACE = UUID("4f0b9c7e-2a65-4d8a-b7f1-3c2e9a0d5b61")
COMMAND_NAMESPACE = UUID("9d3c1a7b-6e2f-4b8d-a5c0-71e4f2b9d8a3")


class Person(Aggregate):
    """Keyed by person_key: where the person's one formal relation is, whichever tenant holds it."""

    TOPIC = "lianxin.registry.Person"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.registry.Person.Created"

    class Identified(Created):
        TOPIC = "lianxin.registry.Person.Identified"
        person_key: str
        member_id: UUID
        tenant_id: str

    class RollChanged(Event):
        TOPIC = "lianxin.registry.Person.RollChanged"
        member_id: UUID | None
        tenant_id: str | None

    @staticmethod
    def create_id(person_key: str) -> UUID:
        return uuid5(PERSON_NAMESPACE, person_key)

    @event(Identified)
    def __init__(self, *, person_key: str, member_id: UUID, tenant_id: str) -> None:
        self.person_key = person_key
        self.member_id: UUID | None = member_id
        self.tenant_id: str | None = tenant_id

    def move_to(self, member_id: UUID | None, tenant_id: str | None) -> None:
        if (member_id, tenant_id) != (self.member_id, self.tenant_id):
            self._roll_changed(member_id=member_id, tenant_id=tenant_id)

    @event(RollChanged)
    def _roll_changed(self, member_id: UUID | None, tenant_id: str | None) -> None:
        self.member_id = member_id
        self.tenant_id = tenant_id


class Outcome(enum.Enum):
    HoldPlaced = "hold_placed"
    HoldRefused = "hold_refused"
    HoldLifted = "hold_lifted"
    MemberEnrolled = "member_enrolled"
    EnrolmentRefused = "enrolment_refused"
    MemberReleased = "member_released"


class ParticipantCommand(Aggregate):
    """The registry's answer to one saga command: its id comes from the command id, so a command is answered once."""

    TOPIC = "lianxin.registry.ParticipantCommand"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.registry.ParticipantCommand.Created"

    class Answered(Created):
        TOPIC = "lianxin.registry.ParticipantCommand.Answered"
        command_id: str
        case_id: str
        member_id: UUID
        tenant_id: str
        outcome: Outcome
        reason_code: str | None
        reason: str | None
        details: dict[str, Any]

    @staticmethod
    def create_id(command_id: str) -> UUID:
        return uuid5(COMMAND_NAMESPACE, command_id)

    @event(Answered)
    def __init__(
        self,
        *,
        command_id: str,
        case_id: str,
        member_id: UUID,
        tenant_id: str,
        outcome: Outcome,
        reason_code: str | None,
        reason: str | None,
        details: dict[str, Any],
    ) -> None:
        self.command_id = command_id
        self.outcome = outcome
