"""Use cases of the roll: register a member (with the person's one relation), correct, decide, disclose, erase."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from registry.application.base import RegistryBase
from registry.application.dues import DuesUseCases
from registry.domain import (
    AlreadyOnARoll,
    ContactStatus,
    DecisionKind,
    Member,
    MemberCategory,
    Organisation,
    Person,
)
from registry.domain.dues import DuesAccount
from registry.domain.identity import person_key as derive_person_key
from registry.domain.identity import validate_national_id
from shared.errors import Conflict
from shared.eventstore import in_one_transaction, rerun_on_clash
from shared.meta import EventMeta


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
