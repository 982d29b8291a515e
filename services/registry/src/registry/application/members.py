"""Use cases of the roll: register a member (with the person's one relation), correct, decide, disclose, erase."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import OperationalError

from registry.application.base import RegistryBase
from registry.application.dues import DuesUseCases
from registry.domain import (
    AlreadyOnARoll,
    ContactStatus,
    DecisionKind,
    Member,
    MemberCategory,
    Organisation,
    OrganisationNotFound,
    Person,
)
from registry.domain.dues import DuesAccount
from registry.domain.identity import person_key as derive_person_key
from registry.domain.identity import validate_national_id
from shared.errors import Conflict, ServiceError
from shared.eventstore import in_one_transaction, rerun_on_clash
from shared.meta import EventMeta


@dataclass(frozen=True)
class Registration:
    """One registration as `register_member` takes it, for `register_members`."""

    member_id: UUID
    tenant_id: str
    organisation_id: UUID
    category: MemberCategory
    profile: dict[str, Any]
    meta: EventMeta


def _member_of(aggregates: list[Aggregate]) -> Member:
    member = aggregates[0]
    assert isinstance(member, Member)
    return member


class MemberUseCases(DuesUseCases, RegistryBase):
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
            meta=dict(meta),
        )
        self.save(member)
        self.subject_keys().erase(member.id, by=by, basis=basis, at=self.clock.now())
        return member

    @in_one_transaction
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
        registration = Registration(member_id, tenant_id, organisation_id, category, profile, meta)
        organisation = self.get_organisation(tenant_id, organisation_id, field="organisation_id")
        aggregates = self._registration_aggregates(registration, organisation)
        self.save(*aggregates)
        return _member_of(aggregates)

    def register_members(self, registrations: Sequence[Registration]) -> list[Member | Exception]:
        """Registrations that arrived together (the members route's group commit), each answered with its member
        or its own error. In one transaction: every registration's reads and aggregates first, then one save of
        all of them, so the event table's lock is held for that one insert only. If that save fails (a clash on
        an id, which only a retried idempotent request causes, or any other error) the transaction rolls back as
        a whole and each registration is made again on its own: one never fails the others."""
        if len(registrations) > 1:
            try:
                return self.in_one_transaction(lambda: self._register_together(registrations))
            except OperationalError as unreachable:
                # The database stayed out of reach through the transaction's own retries: each alone would wait as
                # long again, one after the other. Each is answered as it would have been alone.
                return [unreachable] * len(registrations)
            except Exception:
                pass  # nothing of the batch is stored: each alone, below
        return [self._register_alone(registration) for registration in registrations]

    def _register_together(self, registrations: Sequence[Registration]) -> list[Member | Exception]:
        organisations = self.find_many(Organisation, {r.organisation_id for r in registrations})
        answers: list[Member | Exception] = []
        aggregates: list[Aggregate] = []
        for registration in registrations:
            organisation = organisations.get(registration.organisation_id)
            try:
                if organisation is None or organisation.tenant_id != registration.tenant_id:
                    raise OrganisationNotFound(
                        f"organisation {registration.organisation_id} not found", field="organisation_id"
                    )
                built = self._registration_aggregates(registration, organisation)
            except ServiceError as refused:  # by its own rules, before anything is written: the others go on
                answers.append(refused)
                continue
            answers.append(_member_of(built))
            aggregates.extend(built)
        if aggregates:
            # The members' subject keys in one statement, before the insert takes the table's lock.
            with self.subject_keys().held(a.id for a in aggregates if isinstance(a, Member)):
                self.save(*aggregates)
        return answers

    def _register_alone(self, registration: Registration) -> Member | Exception:
        try:
            return self.register_member(**vars(registration))
        except Exception as error:
            return error

    def _registration_aggregates(
        self, registration: Registration, organisation: Organisation
    ) -> list[Aggregate]:
        """Its reads (the person, if a national ID number is given) and its new aggregates; nothing written."""
        profile = dict(registration.profile)
        key = None
        if profile.get("national_id_number"):
            profile["national_id_number"] = validate_national_id(profile["national_id_number"])
            key = derive_person_key(self.platform_secret, profile["national_id_number"])
        return self.new_member_aggregates(
            member_id=registration.member_id,
            tenant_id=registration.tenant_id,
            organisation=organisation,
            category=registration.category,
            profile=profile,
            person_key=key,
            meta=registration.meta,
        )

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
        # A member registered here is new (a stored one of that id makes the save fail), so is its ledger: opened
        # as `dues_account` would find it missing, without reading the event store for it.
        dues = DuesAccount.open(
            tenant_id=member.tenant_id,
            member_id=member.id,
            organisation_id=member.organisation_id,
            starts=member.registered_on,
        )
        aggregates: list[Aggregate] = [member, self._new_contact_status(member, dues)]
        if person_key:
            aggregates.append(self._person_for(person_key, member))
        return aggregates

    def _new_contact_status(self, member: Member, dues: DuesAccount | None = None) -> ContactStatus:
        """Its dues clock starts with the ledger: six unpaid months from the month the member came on the roll. One
        event (`Opened` carries the clock) where a `DuesClockMoved` used to follow: one event less to store, and
        one less for the projection to apply, with the contact deadlines it reschedules."""
        return ContactStatus(
            tenant_id=member.tenant_id,
            member_id=member.id,
            organisation_id=member.organisation_id,
            since=self.clock.now(),
            dues_lapse_at=(dues or self.dues_account(member)).lapse_at(),
        )

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
