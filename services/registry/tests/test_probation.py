"""预备期 owned by the registry: one year from the 支部大会, one extension of 6-12 months, 转正 or 取消预备资格, a
reminder a month before the end, and the 突击发展 flag when the member arrives by transfer."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import uuid4

import pytest

from registry.domain import (
    DecisionKind,
    InvalidDecision,
    Member,
    MemberCategory,
    Organisation,
    OrgKind,
    RollStatus,
)
from registry.outbound import outbound

META: dict[str, Any] = {"actor": "u1", "correlation_id": "c1", "causation_id": None, "traceparent": None}


def branch(tenant: str = "t") -> Organisation:
    root = Organisation.found(
        tenant_id=tenant, code="ROOT", name="党委", kind=OrgKind.PrimaryCommittee, parent=None, meta=META
    )
    return Organisation.found(
        tenant_id=tenant, code="B1", name="支部", kind=OrgKind.Branch, parent=root, meta=META
    )


def probationer(joined_on: date = date(2026, 3, 10)) -> Member:
    m = Member.register(
        member_id=uuid4(),
        tenant_id="t",
        organisation=branch(),
        category=MemberCategory.Probationary,
        profile={"name": "李明", "joined_on": joined_on},
        person_key=None,
        registered_on=date(2026, 4, 1),
        meta=META,
    )
    m.collect_events()
    return m


def decide(m: Member, kind: DecisionKind, **details: Any) -> None:
    m.record_decision(
        kind=kind,
        decided_on=date(2027, 3, 10),
        decided_by="支部党员大会",
        basis="支部大会决议",
        details=details,
        meta=META,
    )


def test_probation_runs_a_year_from_the_branch_assembly_and_is_published() -> None:
    m = Member.register(
        member_id=uuid4(),
        tenant_id="t",
        organisation=branch(),
        category=MemberCategory.Probationary,
        profile={"name": "李明", "joined_on": date(2026, 3, 10)},
        person_key=None,
        registered_on=date(2026, 4, 1),
        meta=META,
    )
    facts = m.probation()
    assert facts is not None and facts.ends_on == date(2027, 3, 10) and facts.reminder_on == date(2027, 2, 10)
    published = [outbound(e) for e in m.collect_events()]
    changed = [p[1] for p in published if p and p[1].TYPE == "cn.lianxin.registry.probation_changed.v1"]
    assert changed and changed[0].ends_on == date(2027, 3, 10)  # type: ignore[attr-defined]


@pytest.mark.parametrize("months", [5, 13])
def test_an_extension_of_5_or_13_months_is_refused(months: int) -> None:
    with pytest.raises(InvalidDecision) as refused:
        decide(probationer(), DecisionKind.ProbationExtension, months=months)
    assert refused.value.extensions["field"] == "details.months"


@pytest.mark.parametrize(("months", "ends_on"), [(6, date(2027, 9, 10)), (12, date(2028, 3, 10))])
def test_an_extension_of_6_or_12_months_moves_the_end(months: int, ends_on: date) -> None:
    m = probationer()
    decide(m, DecisionKind.ProbationExtension, months=months)
    facts = m.probation()
    assert facts is not None and facts.ends_on == ends_on and facts.extension_months == months
    (_, changed) = m.collect_events()
    assert isinstance(changed, Member.ProbationSet) and changed.facts["ends_on"] == ends_on


def test_cancellation_is_a_recorded_decision_that_takes_the_member_off_the_roll() -> None:
    m = probationer()
    decide(m, DecisionKind.ProbationCancellation)
    assert m.roll is RollStatus.StruckOff
    decided, changed = m.collect_events()
    assert isinstance(decided, Member.DecisionRecorded) and decided.basis == "支部大会决议"
    assert isinstance(changed, Member.ProbationSet) and changed.facts["state"] == "cancelled"
    with pytest.raises(Exception, match="no longer on this roll"):
        decide(m, DecisionKind.Regularisation)


def test_a_full_member_has_no_probation_to_cancel() -> None:
    m = Member.register(
        member_id=uuid4(),
        tenant_id="t",
        organisation=branch(),
        category=MemberCategory.Full,
        profile={"name": "王芳"},
        person_key=None,
        registered_on=date(2026, 4, 1),
        meta=META,
    )
    with pytest.raises(InvalidDecision):
        decide(m, DecisionKind.ProbationCancellation)


def test_the_reminder_comes_once_a_month_before_the_end() -> None:
    m = probationer()
    assert m.note_probation_ending(date(2027, 2, 9)) is False
    assert m.note_probation_ending(date(2027, 2, 10)) is True
    assert m.note_probation_ending(date(2027, 2, 11)) is False, "once per end date"
    (near,) = m.collect_events()
    published = outbound(near)
    assert published is not None and published[1].TYPE == "cn.lianxin.registry.probation_ending.v1"
    decide(m, DecisionKind.ProbationExtension, months=6)
    assert m.note_probation_ending(date(2027, 8, 10)) is True, "an extension brings a new reminder"


def test_correcting_the_assembly_date_moves_the_end() -> None:
    m = probationer()
    m.correct_profile({"joined_on": date(2026, 1, 5)}, META)
    facts = m.probation()
    assert facts is not None and facts.ends_on == date(2027, 1, 5)


@pytest.mark.parametrize(("joined_on", "rush"), [(date(2026, 9, 2), True), (date(2026, 9, 1), False)])
def test_arriving_by_transfer_less_than_three_months_after_admission_is_flagged(
    joined_on: date, rush: bool
) -> None:
    leaving = probationer(joined_on)
    arriving = Member.enrol(
        member_id=uuid4(),
        leaving=leaving,
        organisation=branch("receiver"),
        case_id="case-1",
        enrolled_on=date(2026, 12, 1),
        meta=META,
    )
    facts = arriving.probation()
    assert facts is not None and facts.rush_admission is rush
    assert facts.admitted_on == joined_on, "the probation follows the member"
    changed = [e for e in arriving.collect_events() if isinstance(e, Member.ProbationSet)]
    assert changed[-1].facts["rush_admission"] is rush and changed[-1].tenant_id == "receiver"
