"""Given events, when a command, then events: the registry's aggregates, refusals included."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from registry.domain import (
    DecisionKind,
    InvalidDecision,
    InvalidTree,
    Member,
    MemberCategory,
    MembershipStatus,
    Organisation,
    OrganisationClosed,
    OrgKind,
    RollStatus,
    TransferPending,
)

META = {"actor": "u1", "correlation_id": "c1", "causation_id": None, "traceparent": None}


def committee(tenant: str = "demo-university") -> Organisation:
    return Organisation.found(
        tenant_id=tenant, code="UNIV", name="党委", kind=OrgKind.PrimaryCommittee, parent=None, meta=META
    )


def branch(tenant: str = "demo-university", code: str = "B1") -> Organisation:
    return Organisation.found(
        tenant_id=tenant, code=code, name="支部", kind=OrgKind.Branch, parent=committee(tenant), meta=META
    )


def member(category: MemberCategory = MemberCategory.Full) -> Member:
    m = Member.register(
        member_id=uuid4(),
        tenant_id="demo-university",
        organisation=branch(),
        category=category,
        profile={"name": "李明"},
        person_key=None,
        registered_on=date(2026, 11, 1),
        meta=META,
    )
    m.collect_events()
    return m


def test_founding_a_committee_records_founded_with_a_natural_key_id() -> None:
    org = committee()
    assert [type(e) for e in org.collect_events()] == [Organisation.Founded]
    assert org.id == Organisation.create_id("demo-university", "UNIV")
    assert org.id != Organisation.create_id("demo-district", "UNIV")


def test_a_branch_needs_a_parent() -> None:
    with pytest.raises(InvalidTree, match="needs a parent"):
        Organisation.found(
            tenant_id="t-1", code="B1", name="支部", kind=OrgKind.Branch, parent=None, meta=META
        )


def test_a_group_cannot_sit_directly_under_a_committee() -> None:
    with pytest.raises(InvalidTree, match="cannot sit under"):
        Organisation.found(
            tenant_id="t-1", code="G1", name="小组", kind=OrgKind.Group, parent=committee(), meta=META
        )


def test_renaming_moving_and_closing_are_events_and_a_closed_node_refuses_changes() -> None:
    b = branch()
    b.collect_events()
    b.rename("新名称", META)
    b.move(
        Organisation.found(
            tenant_id="demo-university",
            code="GB",
            name="总支",
            kind=OrgKind.GeneralBranch,
            parent=committee(),
            meta=META,
        ),
        META,
    )
    b.close("合并", META)
    assert [type(e) for e in b.collect_events()] == [
        Organisation.Renamed,
        Organisation.Moved,
        Organisation.Closed,
    ]
    with pytest.raises(OrganisationClosed):
        b.rename("again", META)


def test_registering_a_member_in_a_branch_makes_an_active_member_on_the_roll() -> None:
    m = Member.register(
        member_id=uuid4(),
        tenant_id="demo-university",
        organisation=branch(),
        category=MemberCategory.Probationary,
        profile={"name": "李明"},
        person_key=None,
        registered_on=date(2026, 11, 1),
        meta=META,
    )
    registered, probation = m.collect_events()
    assert isinstance(registered, Member.Registered) and isinstance(probation, Member.ProbationSet)
    assert m.standing is MembershipStatus.Active and m.roll is RollStatus.OnRoll


def test_members_are_not_registered_to_a_committee() -> None:
    with pytest.raises(InvalidTree, match="belong to a branch"):
        Member.register(
            member_id=uuid4(),
            tenant_id="demo-university",
            organisation=committee(),
            category=MemberCategory.Full,
            profile={"name": "李明"},
            person_key=None,
            registered_on=date(2026, 11, 1),
            meta=META,
        )


def test_regularisation_is_a_recorded_decision_that_makes_a_full_member() -> None:
    m = member(MemberCategory.Probationary)
    m.record_decision(
        kind=DecisionKind.Regularisation,
        decided_on=date(2026, 11, 20),
        decided_by="支部党员大会",
        basis="2026年第4次支部大会决议",
        details={},
        meta=META,
    )
    decided, probation = m.collect_events()
    assert isinstance(decided, Member.DecisionRecorded) and m.category is MemberCategory.Full
    assert isinstance(probation, Member.ProbationSet) and probation.facts["state"] == "regularised"


def test_a_decision_without_its_basis_is_refused() -> None:
    with pytest.raises(InvalidDecision, match="meeting or document"):
        member().record_decision(
            kind=DecisionKind.Suspension,
            decided_on=date(2026, 11, 20),
            decided_by="党委",
            basis=" ",
            details={},
            meta=META,
        )


@pytest.mark.parametrize("months", [3, 13, None])
def test_a_probation_extension_is_six_to_twelve_months(months: int | None) -> None:
    with pytest.raises(InvalidDecision, match="6 to 12"):
        member(MemberCategory.Probationary).record_decision(
            kind=DecisionKind.ProbationExtension,
            decided_on=date(2026, 11, 20),
            decided_by="支部党员大会",
            basis="决议",
            details={"months": months},
            meta=META,
        )


def test_probation_is_extended_once() -> None:
    m = member(MemberCategory.Probationary)
    m.record_decision(
        kind=DecisionKind.ProbationExtension,
        decided_on=date(2026, 11, 20),
        decided_by="支部",
        basis="决议",
        details={"months": 6},
        meta=META,
    )
    with pytest.raises(InvalidDecision, match="once"):
        m.record_decision(
            kind=DecisionKind.ProbationExtension,
            decided_on=date(2027, 5, 20),
            decided_by="支部",
            basis="决议",
            details={"months": 6},
            meta=META,
        )


def test_a_hold_refuses_a_second_transfer_and_striking_off() -> None:
    m = member()
    m.place_hold("case-1", "case-1:hold", META)
    assert m.hold_refusal("case-1") is None
    assert m.hold_refusal("case-2") == ("transfer_pending", "another transfer of this member is pending")
    with pytest.raises(TransferPending):
        m.record_decision(
            kind=DecisionKind.StrikingOff,
            decided_on=date(2026, 11, 20),
            decided_by="党委",
            basis="决议",
            details={},
            meta=META,
        )


def test_placing_the_same_hold_twice_records_it_once() -> None:
    m = member()
    m.place_hold("case-1", "case-1:hold", META)
    m.place_hold("case-1", "case-1:hold", META)
    assert [type(e) for e in m.collect_events()] == [Member.HoldPlaced]


def test_lifting_a_hold_that_was_never_placed_is_safe() -> None:
    m = member()
    m.lift_hold_if_present("case-9", "case-9:lift", META)
    assert m.collect_events() == []


def test_release_needs_the_hold_of_that_case_and_takes_the_member_off_the_roll() -> None:
    m = member()
    with pytest.raises(TransferPending):
        m.release("case-1", "case-1:release", "off-platform", META)
    m.place_hold("case-1", "case-1:hold", META)
    m.release("case-1", "case-1:release", "off-platform", META)
    assert m.roll is RollStatus.TransferredOut and m.hold_case_id is None
    assert m.hold_refusal("case-2") == ("not_on_roll", "the member is no longer on this roll")


def test_a_suspended_member_is_not_held_for_transfer() -> None:
    m = member()
    m.record_decision(
        kind=DecisionKind.Suspension,
        decided_on=date(2026, 11, 20),
        decided_by="党委",
        basis="决议",
        details={},
        meta=META,
    )
    assert m.hold_refusal("case-1") == ("suspended", "the member's standing is suspended")
