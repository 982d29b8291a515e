"""The registry as a participant of the transfer saga (ADR 0001): hold, lift, enrol and release, answered once."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from registry.application.members import MemberUseCases
from registry.domain import (
    ActivityCertificate,
    CertificateState,
    ContactStatus,
    Member,
    MobileRegistration,
    Organisation,
    OrgKind,
    Outcome,
    ParticipantCommand,
    Person,
    RollStatus,
)
from shared.meta import EventMeta


class TransferParticipation(MemberUseCases):
    def answer(
        self,
        *,
        command_id: str,
        case_id: str,
        member_id: UUID,
        tenant_id: str,
        kind: str,
        meta: EventMeta,
        **request: Any,
    ) -> list[Aggregate | None]:
        """One saga command, answered once: the member's change and the answer (last), for the consumer to store
        with the command's position; nothing when the command was answered before."""
        if self.find(ParticipantCommand, ParticipantCommand.create_id(command_id)) is not None:
            return []
        member = self.find(Member, member_id)
        if member is None or member.tenant_id != tenant_id:
            refusal = Outcome.EnrolmentRefused if kind == "enrol" else Outcome.HoldRefused
            reply = ParticipantCommand(
                command_id=command_id,
                case_id=case_id,
                member_id=member_id,
                tenant_id=tenant_id,
                outcome=refusal,
                reason_code="member_not_found",
                reason="no such member in the sending organisation",
                details={},
            )
            return [reply]
        changed: list[Aggregate | None] = [member]
        if kind == "hold":
            outcome, reason = self._hold(member, case_id, command_id, meta)
        elif kind == "lift":
            member.lift_hold_if_present(case_id, command_id, dict(meta))
            outcome, reason = Outcome.HoldLifted, None
        elif kind == "enrol":
            outcome, reason, extra = self._enrol(member, case_id, command_id, request, meta)
            changed += extra
        else:
            outcome, reason, extra = self._release(member, case_id, command_id, meta)
            changed += extra
        details = {k: str(v) for k, v in request.items()}
        if outcome is Outcome.MemberEnrolled:
            details["new_member_id"] = str(ParticipantCommand.create_id(f"{command_id}:member"))
            details["category"] = member.category.value
        reply = ParticipantCommand(
            command_id=command_id,
            case_id=case_id,
            member_id=member_id,
            tenant_id=tenant_id,
            outcome=outcome,
            reason_code=reason[0] if reason else None,
            reason=reason[1] if reason else None,
            details=details,
        )
        return [*changed, reply]

    def _hold(
        self, member: Member, case_id: str, command_id: str, meta: EventMeta
    ) -> tuple[Outcome, tuple[str, str] | None]:
        refusal = member.hold_refusal(case_id)
        if refusal is not None:
            return Outcome.HoldRefused, refusal
        member.place_hold(case_id, command_id, dict(meta))
        return Outcome.HoldPlaced, None

    def _enrol(
        self, member: Member, case_id: str, command_id: str, request: dict[str, Any], meta: EventMeta
    ) -> tuple[Outcome, tuple[str, str] | None, list[Aggregate | None]]:
        """Enrol at the receiver and release at the sender in one transaction: never on two rolls, nor on none."""
        if member.hold_case_id != case_id:
            return Outcome.EnrolmentRefused, ("not_held", "the member is not held for this transfer"), []
        receiving = self.find(Organisation, request["receiving_org_id"])
        if (
            receiving is None
            or receiving.tenant_id != request["receiving_tenant"]
            or receiving.closed
            or receiving.kind not in (OrgKind.Branch, OrgKind.GeneralBranch)
        ):
            return (
                Outcome.EnrolmentRefused,
                (
                    "receiving_org_unavailable",
                    "the receiving branch does not exist, is closed or is not a branch",
                ),
                [],
            )
        arriving = Member.enrol(
            member_id=ParticipantCommand.create_id(f"{command_id}:member"),
            leaving=member,
            organisation=receiving,
            case_id=case_id,
            enrolled_on=self.clock.now().date(),
            meta=dict(meta),
        )
        superseded = self._supersede_mobility(member, meta)
        member.release(case_id, command_id, f"tenant:{receiving.tenant_id}", dict(meta))
        person = None
        if member.person_key:
            person = self.find(Person, Person.create_id(member.person_key))
            if person is not None:
                person.move_to(arriving.id, arriving.tenant_id)
        dues = self.carried_dues(member, arriving)
        return (
            Outcome.MemberEnrolled,
            None,
            [arriving, person, dues, self._new_contact_status(arriving, dues), *superseded],
        )

    def _release(
        self, member: Member, case_id: str, command_id: str, meta: EventMeta
    ) -> tuple[Outcome, tuple[str, str] | None, list[Aggregate | None]]:
        if member.roll is RollStatus.TransferredOut:
            return Outcome.MemberReleased, None, []
        superseded = self._supersede_mobility(member, meta)
        member.release(case_id, command_id, "off-platform", dict(meta))
        person = self.find(Person, Person.create_id(member.person_key)) if member.person_key else None
        if person is not None:
            person.move_to(None, None)
        return Outcome.MemberReleased, None, [person, *superseded]

    def _supersede_mobility(self, member: Member, meta: EventMeta) -> list[Aggregate | None]:
        """A formal transfer supersedes a mobile registration and its activity certificate."""
        if member.mobile_registration_id is None:
            return []
        registration = self.find(MobileRegistration, member.mobile_registration_id)
        certificate = self.find(
            ActivityCertificate, ActivityCertificate.id_for(member.mobile_registration_id)
        )
        today = self.clock.now().date()
        if registration is not None and registration.open:
            registration.convert_to_transfer(today, dict(meta))
        if certificate is not None:
            certificate.close(CertificateState.Superseded, today, "superseded by a transfer", dict(meta))
        member.end_mobility(member.mobile_registration_id)
        status = self.find(ContactStatus, ContactStatus.create_id(member.id))
        if status is not None:
            status.end_contact_cycle(self.clock.now())
        return [registration, certificate, status]
