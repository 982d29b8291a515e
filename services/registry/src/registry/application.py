"""The registry's eventsourcing Application: one method per use case."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from registry.contact import ContactUseCases
from registry.declarations import DeclarationUseCases
from registry.development import DevelopmentUseCases
from registry.domain import (
    PERSONAL_FIELDS,
    ActivityCertificate,
    AlreadyOnARoll,
    CauseCode,
    CertificateState,
    ContactStatus,
    DecisionKind,
    DeclarationState,
    Member,
    MemberCategory,
    MemberNotFound,
    MembershipStatus,
    MobileRegistration,
    MobilityKind,
    Organisation,
    OrganisationNotFound,
    OrgKind,
    Outcome,
    ParticipantCommand,
    Person,
    RegistrationState,
    RollStatus,
)
from registry.domain.development import Stage as DevelopmentStage
from registry.domain.dues import DuesAccount
from registry.domain.identity import person_key as derive_person_key
from registry.domain.identity import validate_national_id
from registry.domain.screening import ScreeningOutcome, ScreeningScope
from registry.dues import DuesUseCases
from registry.mobility import MobilityUseCases
from registry.roll_io import ImportUseCases
from registry.screening import ScreeningUseCases
from shared.clock import Clock, SystemClock
from shared.errors import Conflict
from shared.eventstore import IntegrityError, ServiceApplication, rerun_on_clash
from shared.meta import EventMeta
from shared.shredding import PersonalData, PersonalDataApplication

# Name, ID number, phone and birth date of a member, wherever an event carries them.
MEMBER_PERSONAL_DATA = PersonalData(
    "lianxin.registry.Member.",
    tuple(f"{holder}.{name}" for holder in ("profile", "changes") for name in PERSONAL_FIELDS),
)

A = TypeVar("A", bound=Aggregate)


class RegistryApplication(
    ScreeningUseCases,
    DevelopmentUseCases,
    DeclarationUseCases,
    MobilityUseCases,
    ContactUseCases,
    DuesUseCases,
    ImportUseCases,
    PersonalDataApplication,
    ServiceApplication,
):
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

    def erase_personal_data(
        self, tenant_id: str, member_id: UUID, *, by: str, basis: str, meta: EventMeta
    ) -> Member:
        """Record the decision, then destroy the key. A crash in between leaves the decision stored and the key
        alive: calling again destroys it (the decision is not recorded twice)."""
        member = self.get_member(tenant_id, member_id)
        member.erase_personal_data(
            by=by,
            basis=basis,
            erased_on=self.clock.now().date(),
            meta=dict(meta) | {"tenant_id": member.tenant_id},
        )
        self.save(member)
        self.subject_keys().erase(member.id, by=by, basis=basis, at=self.clock.now())
        return member

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

    # Organisations.

    def found_organisation(
        self, *, tenant_id: str, code: str, name: str, kind: OrgKind, parent_id: UUID | None, meta: EventMeta
    ) -> Organisation:
        parent = self.get_organisation(tenant_id, parent_id, field="parent_id") if parent_id else None
        organisation = Organisation.found(
            tenant_id=tenant_id, code=code, name=name, kind=kind, parent=parent, meta=dict(meta)
        )
        try:
            self.save(organisation)
        except IntegrityError:
            raise Conflict(f"an organisation with code {code!r} already exists", field="code") from None
        return organisation

    @rerun_on_clash
    def change_organisation(
        self,
        tenant_id: str,
        organisation_id: UUID,
        *,
        name: str | None,
        parent_id: UUID | None,
        close_reason: str | None,
        meta: EventMeta,
    ) -> Organisation:
        organisation = self.get_organisation(tenant_id, organisation_id)
        if name is not None:
            organisation.rename(name, dict(meta))
        if parent_id is not None:
            organisation.move(self.get_organisation(tenant_id, parent_id, field="parent_id"), dict(meta))
        if close_reason is not None:
            organisation.close(close_reason, dict(meta))
        self.save(organisation)
        return organisation

    @rerun_on_clash
    def assign_role(
        self,
        tenant_id: str,
        organisation_id: UUID,
        *,
        subject: str,
        role: str,
        granted: bool,
        meta: EventMeta,
    ) -> Organisation:
        organisation = self.get_organisation(tenant_id, organisation_id)
        if granted:
            organisation.grant_role(subject, role, dict(meta))
        else:
            organisation.revoke_role(subject, role, dict(meta))
        self.save(organisation)
        return organisation

    # Members.

    def register_member(
        self,
        *,
        member_id: UUID,
        tenant_id: str,
        organisation_id: UUID,
        category: MemberCategory,
        profile: dict[str, Any],
        meta: EventMeta,
    ) -> Member:
        organisation = self.get_organisation(tenant_id, organisation_id, field="organisation_id")
        profile = dict(profile)
        key = None
        if profile.get("national_id_number"):
            profile["national_id_number"] = validate_national_id(profile["national_id_number"])
            key = derive_person_key(self.platform_secret, profile["national_id_number"])
        aggregates = self.new_member_aggregates(
            member_id=member_id,
            tenant_id=tenant_id,
            organisation=organisation,
            category=category,
            profile=profile,
            person_key=key,
            meta=meta,
        )
        self.save(*aggregates)
        member = aggregates[0]
        assert isinstance(member, Member)
        return member

    def new_member_aggregates(
        self,
        *,
        member_id: UUID,
        tenant_id: str,
        organisation: Organisation,
        category: MemberCategory,
        profile: dict[str, Any],
        person_key: str | None,
        meta: EventMeta,
    ) -> list[Aggregate]:
        """The member, the person's one relation and the contact status: saved together or not at all."""
        member = Member.register(
            member_id=member_id,
            tenant_id=tenant_id,
            organisation=organisation,
            category=category,
            profile=profile,
            person_key=person_key,
            registered_on=self.clock.now().date(),
            meta=dict(meta),
        )
        aggregates: list[Aggregate] = [member, self._new_contact_status(member)]
        if person_key:
            aggregates.append(self._person_for(person_key, member))
        return aggregates

    def _new_contact_status(self, member: Member, dues: DuesAccount | None = None) -> ContactStatus:
        """Its dues clock starts with the ledger: six unpaid months from the month the member came on the roll."""
        status = ContactStatus(
            tenant_id=member.tenant_id,
            member_id=member.id,
            organisation_id=member.organisation_id,
            since=self.clock.now(),
        )
        status.dues_clock_moved((dues or self.dues_account(member)).lapse_at(), by="system")
        return status

    def _person_for(self, key: str, member: Member) -> Person:
        """One formal relation: a person already on a roll (here or in another tenant) is not registered again."""
        person = self.find(Person, Person.create_id(key))
        if person is None:
            return Person(person_key=key, member_id=member.id, tenant_id=member.tenant_id)
        if person.member_id is not None and person.member_id != member.id:
            where = "this roll" if person.tenant_id == member.tenant_id else "another organisation's roll"
            raise AlreadyOnARoll(
                f"this person is already a member on {where}; transfer the relation instead",
                field="national_id_number",
            )
        person.move_to(member.id, member.tenant_id)
        return person

    @rerun_on_clash
    def correct_profile(
        self, tenant_id: str, member_id: UUID, changes: dict[str, Any], meta: EventMeta
    ) -> Member:
        member = self.get_member(tenant_id, member_id)
        if "national_id_number" in changes:
            raise Conflict(
                "the national ID number identifies the person and is not corrected here",
                field="national_id_number",
            )
        member.correct_profile(changes, dict(meta))
        self.save(member)
        return member

    @rerun_on_clash
    def record_decision(
        self,
        tenant_id: str,
        member_id: UUID,
        *,
        kind: DecisionKind,
        decided_on: date,
        decided_by: str,
        basis: str,
        details: dict[str, Any],
        meta: EventMeta,
    ) -> Member:
        member = self.get_member(tenant_id, member_id)
        member.record_decision(
            kind=kind,
            decided_on=decided_on,
            decided_by=decided_by,
            basis=basis,
            details=details,
            meta=dict(meta),
        )
        person = None
        if kind in (DecisionKind.StrikingOff, DecisionKind.ProbationCancellation) and member.person_key:
            person = self.find(Person, Person.create_id(member.person_key))
            if person is not None:
                person.move_to(None, None)
        self.save(member, person)
        return member

    @rerun_on_clash
    def disclose(self, tenant_id: str, member_id: UUID, *, by: str, purpose: str, meta: EventMeta) -> Member:
        member = self.get_member(tenant_id, member_id)
        member.disclose(
            by=by,
            fields=["name", "national_id_number", "phone", "birth_date"],
            purpose=purpose,
            meta=dict(meta),
        )
        self.save(member)
        return member

    def member_history(self, tenant_id: str, member_id: UUID) -> list[Any]:
        self.get_member(tenant_id, member_id)
        return list(self.events.get(member_id))

    # The registry as a participant of the transfer saga (ADR 0001).

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
            registration.convert_to_transfer(
                today,
                {
                    **meta,
                    "home": {
                        "tenant_id": registration.tenant_id,
                        "member_id": str(registration.member_id),
                        "org_id": str(registration.home_org_id),
                    },
                },
            )
        if certificate is not None:
            certificate.close(CertificateState.Superseded, today, "superseded by a transfer", dict(meta))
        member.end_mobility(member.mobile_registration_id)
        status = self.find(ContactStatus, ContactStatus.create_id(member.id))
        if status is not None:
            status.end_contact_cycle(self.clock.now())
        return [registration, certificate, status]
