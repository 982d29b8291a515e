"""Members: the profile, the decisions recorded about them, and their one formal relation (roll, hold, release)."""

from __future__ import annotations

import enum
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from registry.domain.errors import (
    InvalidDecision,
    InvalidTree,
    NotOnRoll,
    OrganisationClosed,
    TransferPending,
)
from registry.domain.organisations import Organisation, OrgKind
from registry.domain.probation import ProbationFacts, probation_facts

MEMBER_ORGS = {OrgKind.Branch, OrgKind.GeneralBranch}
PROFILE_FIELDS = (
    "name",
    "gender",
    "ethnicity",
    "birth_date",
    "education",
    "national_id_number",
    "phone",
    "joined_on",
    "regularised_on",
    "employer",
    "industry_code",
    "occupation",  # 职业, one of registry.domain.categories.OCCUPATIONS (the 党内统计 classes)
)
PERSONAL_FIELDS = ("name", "national_id_number", "phone", "birth_date")


class MemberCategory(enum.Enum):
    """正式党员 / 预备党员."""

    Full = "full"
    Probationary = "probationary"


class MembershipStatus(enum.Enum):
    """党籍: 正常 / 停止党籍."""

    Active = "active"
    Suspended = "suspended"


class RollStatus(enum.Enum):
    """Whether this tenant's roll holds the member's formal relation."""

    OnRoll = "on_roll"
    TransferredOut = "transferred_out"
    StruckOff = "struck_off"


class DecisionKind(enum.Enum):
    """Decisions people take and the software records: 转正, 延长预备期, 取消预备资格, 停止党籍, 恢复党籍, 除名."""

    Regularisation = "regularisation"
    ProbationExtension = "probation_extension"
    ProbationCancellation = "probation_cancellation"  # 取消预备资格
    Suspension = "suspension"
    Reinstatement = "reinstatement"
    StrikingOff = "striking_off"


PROBATION_DECISIONS = {
    DecisionKind.Regularisation,
    DecisionKind.ProbationExtension,
    DecisionKind.ProbationCancellation,
}


def member_organisation_check(organisation: Organisation) -> None:
    if organisation.closed:
        raise OrganisationClosed("members cannot join a closed organisation", field="organisation_id")
    if organisation.kind not in MEMBER_ORGS:
        raise InvalidTree(
            f"members belong to a branch or general branch, not a {organisation.kind.value}",
            field="organisation_id",
        )


class Member(Aggregate):
    TOPIC = "lianxin.registry.Member"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.registry.Member.Created"

    class Registered(Created):
        TOPIC = "lianxin.registry.Member.Registered"
        tenant_id: str
        organisation_id: UUID
        category: MemberCategory
        profile: dict[str, Any]
        person_key: str | None
        registered_on: date
        meta: dict[str, Any]

    class Enrolled(Created):
        """Arrived by a transfer from another roll; the letter's fields came with the member."""

        TOPIC = "lianxin.registry.Member.Enrolled"
        tenant_id: str
        organisation_id: UUID
        category: MemberCategory
        profile: dict[str, Any]
        person_key: str | None
        registered_on: date
        from_member_id: UUID
        from_tenant: str
        case_id: str
        meta: dict[str, Any]

        def apply(self, aggregate: Any) -> None:
            aggregate.from_member_id = self.from_member_id

    class ProfileCorrected(Event):
        TOPIC = "lianxin.registry.Member.ProfileCorrected"
        changes: dict[str, Any]
        meta: dict[str, Any]

    class DecisionRecorded(Event):
        TOPIC = "lianxin.registry.Member.DecisionRecorded"
        tenant_id: str
        kind: DecisionKind
        decided_on: date
        decided_by: str
        basis: str
        details: dict[str, Any]
        meta: dict[str, Any]

    class HoldPlaced(Event):
        TOPIC = "lianxin.registry.Member.HoldPlaced"
        case_id: str
        command_id: str
        meta: dict[str, Any]

    class HoldLifted(Event):
        TOPIC = "lianxin.registry.Member.HoldLifted"
        case_id: str
        command_id: str
        meta: dict[str, Any]

    class Released(Event):
        TOPIC = "lianxin.registry.Member.Released"
        case_id: str
        command_id: str
        destination: str
        meta: dict[str, Any]

    class WentMobile(Event):
        TOPIC = "lianxin.registry.Member.WentMobile"
        class_version = 2
        registration_id: UUID
        by: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["by"] = "unrecorded"  # registered before the event named who registered it

    class MobilityEnded(Event):
        TOPIC = "lianxin.registry.Member.MobilityEnded"
        registration_id: UUID

    class PersonalDataErased(Event):
        """Erasure (PIPL art. 47): the decision, who took it and on what basis. The subject's key is destroyed
        right after this is stored, so name, ID number, phone and birth date read back as None everywhere."""

        TOPIC = "lianxin.registry.Member.PersonalDataErased"
        by: str
        basis: str
        erased_on: date
        tenant_id: str | None  # None only in erasures stored before it was published: those are not sent
        meta: dict[str, Any]
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["tenant_id"] = state["meta"].get("tenant_id")  # stored when meta carried it

    class ProbationSet(Event):
        """The probation period as the registry now holds it (admission, extension, end, outcome)."""

        TOPIC = "lianxin.registry.Member.ProbationSet"
        tenant_id: str
        organisation_id: UUID
        facts: dict[str, Any]

    class ProbationEndNear(Event):
        """A month before the end: the branch prepares 转正 (the member applies, the assembly meets after the end)."""

        TOPIC = "lianxin.registry.Member.ProbationEndNear"
        tenant_id: str
        organisation_id: UUID
        ends_on: date

    class PersonalDataDisclosed(Event):
        """Every read of unmasked personal data is itself recorded."""

        TOPIC = "lianxin.registry.Member.PersonalDataDisclosed"
        by: str
        fields: list[str]
        purpose: str
        meta: dict[str, Any]

    def _init_state(
        self,
        tenant_id: str,
        organisation_id: UUID,
        category: MemberCategory,
        profile: dict[str, Any],
        person_key: str | None,
        registered_on: date,
    ) -> None:
        self.tenant_id = tenant_id
        self.organisation_id = organisation_id
        self.category = category
        self.profile = dict(profile)
        self.person_key = person_key
        self.registered_on = registered_on
        self.standing = MembershipStatus.Active
        self.roll = RollStatus.OnRoll
        self.hold_case_id: str | None = None
        self.probation_extended = False
        self.from_member_id: UUID | None = None
        self.mobile_registration_id: UUID | None = None
        self.probation_reminded_for: date | None = None

    @event(Registered)
    def __init__(
        self,
        *,
        id: UUID,
        tenant_id: str,
        organisation_id: UUID,
        category: MemberCategory,
        profile: dict[str, Any],
        person_key: str | None,
        registered_on: date,
        meta: dict[str, Any],
    ) -> None:
        self._init_state(tenant_id, organisation_id, category, profile, person_key, registered_on)

    @classmethod
    def register(
        cls,
        *,
        member_id: UUID,
        tenant_id: str,
        organisation: Organisation,
        category: MemberCategory,
        profile: dict[str, Any],
        person_key: str | None,
        registered_on: date,
        meta: dict[str, Any],
    ) -> Member:
        member_organisation_check(organisation)
        member = cls(
            id=member_id,
            tenant_id=tenant_id,
            organisation_id=organisation.id,
            category=category,
            profile=profile,
            person_key=person_key,
            registered_on=registered_on,
            meta=meta,
        )
        member._probation_changed()
        return member

    @classmethod
    def enrol(
        cls,
        *,
        member_id: UUID,
        leaving: Member,
        organisation: Organisation,
        case_id: str,
        enrolled_on: date,
        meta: dict[str, Any],
    ) -> Member:
        member_organisation_check(organisation)
        member = cls._create(
            cls.Enrolled,
            id=member_id,
            tenant_id=organisation.tenant_id,
            organisation_id=organisation.id,
            category=leaving.category,
            profile=dict(leaving.profile),
            person_key=leaving.person_key,
            registered_on=enrolled_on,
            from_member_id=leaving.id,
            from_tenant=leaving.tenant_id,
            case_id=case_id,
            meta=meta,
        )
        member._probation_changed()  # probation follows the member, with the 突击发展 check
        return member

    # Probation: the registry is its one owner.

    def probation(self, state: str = "running") -> ProbationFacts | None:
        if self.category is not MemberCategory.Probationary and state == "running":
            return None
        return probation_facts(
            self.profile,
            registered_on=self.registered_on,
            arrived_by_transfer=self.from_member_id is not None,
            state=state,
        )

    def _probation_changed(self, state: str = "running") -> None:
        facts = self.probation(state)
        if facts is not None:
            self._probation_set(
                tenant_id=self.tenant_id, organisation_id=self.organisation_id, facts=facts.as_dict()
            )

    @event(ProbationSet)
    def _probation_set(self, tenant_id: str, organisation_id: UUID, facts: dict[str, Any]) -> None:
        pass

    def note_probation_ending(self, today: date) -> bool:
        """Timer: once per end date, from a month before it, while the member is still probationary here."""
        facts = self.probation()
        if (
            facts is None
            or not self.on_roll
            or today < facts.reminder_on
            or self.probation_reminded_for == facts.ends_on
        ):
            return False
        self._probation_end_near(
            tenant_id=self.tenant_id, organisation_id=self.organisation_id, ends_on=facts.ends_on
        )
        return True

    @event(ProbationEndNear)
    def _probation_end_near(self, tenant_id: str, organisation_id: UUID, ends_on: date) -> None:
        self.probation_reminded_for = ends_on

    @property
    def name(self) -> str:
        return str(self.profile.get("name") or "")  # empty once erased

    @property
    def on_roll(self) -> bool:
        return self.roll is RollStatus.OnRoll

    # Corrections and decisions.

    def correct_profile(self, changes: dict[str, Any], meta: dict[str, Any]) -> None:
        changed = {k: v for k, v in changes.items() if k in PROFILE_FIELDS and self.profile.get(k) != v}
        if changed:
            self._profile_corrected(changes=changed, meta=meta)
            if "joined_on" in changed:  # the 支部大会 date the probation runs from
                self._probation_changed()

    @event(ProfileCorrected)
    def _profile_corrected(self, changes: dict[str, Any], meta: dict[str, Any]) -> None:
        self.profile.update(changes)

    @property
    def erased_on(self) -> date | None:
        return getattr(self, "_erased_on", None)

    def erase_personal_data(self, *, by: str, basis: str, erased_on: date, meta: dict[str, Any]) -> None:
        """Refused under a legal hold: a pending transfer still needs the data on its letter."""
        if not basis.strip():
            raise InvalidDecision("an erasure names its legal basis", field="basis")
        if self.hold_case_id:
            raise TransferPending(
                "a member with a pending transfer is under a legal hold; erase after it ends",
                case_id=self.hold_case_id,
            )
        if self.erased_on is None:
            self._personal_data_erased(
                by=by, basis=basis, erased_on=erased_on, tenant_id=self.tenant_id, meta=meta
            )

    @event(PersonalDataErased)
    def _personal_data_erased(
        self, by: str, basis: str, erased_on: date, tenant_id: str | None, meta: dict[str, Any]
    ) -> None:
        for name in PERSONAL_FIELDS:
            if name in self.profile:
                self.profile[name] = None
        self._erased_on = erased_on

    def record_decision(
        self,
        *,
        kind: DecisionKind,
        decided_on: date,
        decided_by: str,
        basis: str,
        details: dict[str, Any],
        meta: dict[str, Any],
    ) -> None:
        """The branch or committee decided; this records it. Nothing here decides by itself."""
        if not basis.strip():
            raise InvalidDecision("a decision names its meeting or document", field="basis")
        if kind is DecisionKind.StrikingOff and self.hold_case_id:
            raise TransferPending(
                "a member with a pending transfer cannot be struck off", case_id=self.hold_case_id
            )
        if not self.on_roll:
            raise NotOnRoll("the member is no longer on this roll")
        if kind in PROBATION_DECISIONS and self.category is not MemberCategory.Probationary:
            raise InvalidDecision(
                "only a probationary member is regularised, has probation extended or cancelled", field="kind"
            )
        if kind is DecisionKind.ProbationExtension:
            months = details.get("months")
            if self.probation_extended:
                raise InvalidDecision("probation can be extended once", field="kind")
            if not isinstance(months, int) or not 6 <= months <= 12:
                raise InvalidDecision("an extension is 6 to 12 months", field="details.months")
        if kind is DecisionKind.Suspension and self.standing is MembershipStatus.Suspended:
            raise InvalidDecision("the member's standing is already suspended", field="kind")
        if kind is DecisionKind.Reinstatement and self.standing is not MembershipStatus.Suspended:
            raise InvalidDecision("only a suspended member is reinstated", field="kind")
        self._decision_recorded(
            tenant_id=self.tenant_id,
            kind=kind,
            decided_on=decided_on,
            decided_by=decided_by,
            basis=basis,
            details=details,
            meta=meta,
        )
        if kind in PROBATION_DECISIONS:
            self._probation_changed(
                {
                    DecisionKind.Regularisation: "regularised",
                    DecisionKind.ProbationCancellation: "cancelled",
                }.get(kind, "running")
            )

    @event(DecisionRecorded)
    def _decision_recorded(
        self,
        tenant_id: str,
        kind: DecisionKind,
        decided_on: date,
        decided_by: str,
        basis: str,
        details: dict[str, Any],
        meta: dict[str, Any],
    ) -> None:
        if kind is DecisionKind.Regularisation:
            self.category = MemberCategory.Full
            self.profile["regularised_on"] = decided_on
        elif kind is DecisionKind.ProbationExtension:
            self.probation_extended = True
            self.profile["probation_extension_months"] = details["months"]
        elif kind is DecisionKind.ProbationCancellation:
            self.roll = RollStatus.StruckOff  # no longer a member: the probation is cancelled
            self.profile["probation_cancelled_on"] = decided_on
        elif kind is DecisionKind.Suspension:
            self.standing = MembershipStatus.Suspended
        elif kind is DecisionKind.Reinstatement:
            self.standing = MembershipStatus.Active
        elif kind is DecisionKind.StrikingOff:
            self.roll = RollStatus.StruckOff

    # The formal relation, as a participant of the transfer saga.

    def hold_refusal(self, case_id: str) -> tuple[str, str] | None:
        """Why a hold for this case cannot be placed, as (reason code, reason); None when it can."""
        if not self.on_roll:
            return "not_on_roll", "the member is no longer on this roll"
        if self.hold_case_id and self.hold_case_id != case_id:
            return "transfer_pending", "another transfer of this member is pending"
        if self.standing is not MembershipStatus.Active:
            return "suspended", "the member's standing is suspended"
        return None

    def place_hold(self, case_id: str, command_id: str, meta: dict[str, Any]) -> None:
        if self.hold_case_id != case_id:
            self._hold_placed(case_id=case_id, command_id=command_id, meta=meta)

    @event(HoldPlaced)
    def _hold_placed(self, case_id: str, command_id: str, meta: dict[str, Any]) -> None:
        self.hold_case_id = case_id

    def lift_hold_if_present(self, case_id: str, command_id: str, meta: dict[str, Any]) -> None:
        """A compensation: safe when the hold was never placed or is already lifted."""
        if self.hold_case_id == case_id:
            self._hold_lifted(case_id=case_id, command_id=command_id, meta=meta)

    @event(HoldLifted)
    def _hold_lifted(self, case_id: str, command_id: str, meta: dict[str, Any]) -> None:
        self.hold_case_id = None

    def release(self, case_id: str, command_id: str, destination: str, meta: dict[str, Any]) -> None:
        if self.roll is RollStatus.TransferredOut:
            return
        if self.hold_case_id != case_id:
            raise TransferPending("the member is not held for this transfer", case_id=case_id)
        self._released(case_id=case_id, command_id=command_id, destination=destination, meta=meta)

    @event(Released)
    def _released(self, case_id: str, command_id: str, destination: str, meta: dict[str, Any]) -> None:
        self.roll = RollStatus.TransferredOut
        self.hold_case_id = None

    def go_mobile(self, registration_id: UUID, *, by: str) -> None:
        """At most one open mobile registration: a second one clashes here, in the same transaction."""
        if not self.on_roll:
            raise NotOnRoll("the member is no longer on this roll")
        if self.hold_case_id is not None:
            raise TransferPending("a transfer of this member is pending", case_id=self.hold_case_id)
        if self.mobile_registration_id is not None:
            raise TransferPending(
                "the member already has an open mobile registration",
                registration_id=str(self.mobile_registration_id),
            )
        self._went_mobile(registration_id=registration_id, by=by)

    @event(WentMobile)
    def _went_mobile(self, registration_id: UUID, by: str) -> None:
        self.mobile_registration_id = registration_id

    def end_mobility(self, registration_id: UUID) -> None:
        if self.mobile_registration_id == registration_id:
            self._mobility_ended(registration_id=registration_id)

    @event(MobilityEnded)
    def _mobility_ended(self, registration_id: UUID) -> None:
        self.mobile_registration_id = None

    def disclose(self, *, by: str, fields: list[str], purpose: str, meta: dict[str, Any]) -> None:
        self._disclosed(by=by, fields=fields, purpose=purpose, meta=meta)

    @event(PersonalDataDisclosed)
    def _disclosed(self, by: str, fields: list[str], purpose: str, meta: dict[str, Any]) -> None:
        pass
