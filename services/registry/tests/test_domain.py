"""Given events, when a command, then events: the registry's aggregates, refusals included."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest
from registry.domain import (
    InvalidTree,
    Member,
    MemberCategory,
    MembershipStatus,
    Organisation,
    OrgKind,
)

META = {"actor": "u1", "correlation_id": "c1", "causation_id": None, "traceparent": None}


def committee(tenant: str = "demo-university") -> Organisation:
    return Organisation.found(tenant_id=tenant, code="UNIV", name="党委", kind=OrgKind.PrimaryCommittee,
                              parent=None, meta=META)


def test_founding_a_committee_records_founded_with_a_natural_key_id() -> None:
    org = committee()
    events = org.collect_events()
    assert [type(e) for e in events] == [Organisation.Founded]
    assert org.id == Organisation.create_id("demo-university", "UNIV")
    assert org.id != Organisation.create_id("demo-district", "UNIV")


def test_a_branch_needs_a_parent() -> None:
    with pytest.raises(InvalidTree, match="needs a parent"):
        Organisation.found(tenant_id="t-1", code="B1", name="支部", kind=OrgKind.Branch, parent=None, meta=META)


def test_a_group_cannot_sit_directly_under_a_committee() -> None:
    with pytest.raises(InvalidTree, match="cannot sit under"):
        Organisation.found(tenant_id="t-1", code="G1", name="小组", kind=OrgKind.Group, parent=committee(),
                           meta=META)


def test_registering_a_member_in_a_branch_makes_an_active_member() -> None:
    branch = Organisation.found(tenant_id="demo-university", code="B1", name="支部", kind=OrgKind.Branch,
                                parent=committee(), meta=META)
    member = Member.register(member_id=uuid4(), tenant_id="demo-university", name="李明", organisation=branch,
                             category=MemberCategory.Probationary, registered_on=date(2026, 11, 1), meta=META)
    (registered,) = member.collect_events()
    assert isinstance(registered, Member.Registered)
    assert registered.organisation_id == branch.id
    assert member.status is MembershipStatus.Active


def test_members_are_not_registered_to_a_committee() -> None:
    with pytest.raises(InvalidTree, match="belong to a branch"):
        Member.register(member_id=uuid4(), tenant_id="demo-university", name="李明", organisation=committee(),
                         category=MemberCategory.Full, registered_on=date(2026, 11, 1), meta=META)
