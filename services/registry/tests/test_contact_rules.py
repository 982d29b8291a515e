"""Contact rules as written: three clocks for self-lapse, people choose causes and close cases, and members abroad
or deferred are due for contact every six months."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from registry.domain import CauseCode, ContactStatus, Member
from registry.outbound import outbound
from shared.errors import Invalid

T0 = datetime(2026, 1, 1, 4, 0, tzinfo=UTC)


def status() -> ContactStatus:
    s = ContactStatus(tenant_id="t", member_id=uuid4(), organisation_id=uuid4(), since=T0)
    s.collect_events()
    return s


def test_assigned_work_left_open_for_six_months_opens_a_review_on_its_own_clock() -> None:
    s = status()
    s.assign_work(assignment_id="w1", title="社区志愿服务", at=T0 + timedelta(days=10), by="secretary-1")
    s.record_contact("meeting_attended", T0 + timedelta(days=150), "learning")
    assert s.self_lapse_ground(T0 + timedelta(days=191), self_lapse_days=182) is None
    assert s.open_self_lapse_review_if_due(T0 + timedelta(days=192), self_lapse_days=182) is True
    opened = s.collect_events()[-1]
    assert isinstance(opened, ContactStatus.SelfLapseReviewOpened) and opened.ground == "assigned_work"


def test_completed_work_stops_its_clock() -> None:
    s = status()
    s.assign_work(assignment_id="w1", title="社区志愿服务", at=T0, by="secretary-1")
    s.complete_work(assignment_id="w1", at=T0 + timedelta(days=20), by="secretary-1")
    s.record_contact("meeting_attended", T0 + timedelta(days=150), "learning")
    assert s.self_lapse_ground(T0 + timedelta(days=200), self_lapse_days=182) is None
    with pytest.raises(Invalid):
        s.complete_work(assignment_id="w1", at=T0 + timedelta(days=21), by="secretary-1")


def test_the_dues_clock_is_its_own() -> None:
    s = status()
    s.record_contact("meeting_attended", T0 + timedelta(days=150), "learning")
    s.dues_clock_moved(T0 + timedelta(days=160), by="secretary-1")
    assert s.self_lapse_ground(T0 + timedelta(days=159), self_lapse_days=182) is None
    assert s.self_lapse_ground(T0 + timedelta(days=160), self_lapse_days=182).value == "dues"  # type: ignore[union-attr]


def test_a_person_chooses_the_cause_and_closing_names_who_closed() -> None:
    s = status()
    with pytest.raises(Invalid):
        s.choose_cause(CauseCode.Abroad, by="secretary-1")
    s.flag_if_due(T0 + timedelta(days=90), at_risk_days=90, cause=CauseCode.Other)
    s.choose_cause(CauseCode.EmployerChanged, by="secretary-1")
    assert s.cause is CauseCode.EmployerChanged and s.proposed_cause is CauseCode.Other
    s.close_case("客观原因，已恢复联系", by="secretary-2")
    closed = s.collect_events()[-1]
    assert isinstance(closed, ContactStatus.BackToNormal) and closed.by == "secretary-2"
    published = outbound(closed)
    assert published is not None and published[1].closed_by == "secretary-2"  # type: ignore[attr-defined]


def test_going_mobile_names_who_registered_it() -> None:
    from registry.domain import MemberCategory

    m = Member(
        id=uuid4(),
        tenant_id="t",
        organisation_id=uuid4(),
        category=MemberCategory.Full,
        profile={"name": "王芳"},
        person_key=None,
        registered_on=date(2026, 1, 1),
        meta={},
    )
    m.go_mobile(uuid4(), by="secretary-3")
    went = m.collect_events()[-1]
    assert isinstance(went, Member.WentMobile) and went.by == "secretary-3"


def test_a_member_abroad_is_due_every_six_months_and_a_contact_starts_the_next_cycle() -> None:
    s = status()
    s.open_contact_cycle(date(2026, 1, 31))
    opened = s.collect_events()[-1]
    assert isinstance(opened, ContactStatus.ContactCycleOpened) and opened.due_on == date(2026, 7, 31)
    due = outbound(opened)
    assert due is not None and due[1].TYPE == "cn.lianxin.registry.contact_due.v1"
    assert due[1].item_id == f"{s.member_id}:2026-07-31"  # type: ignore[attr-defined]
    s.record_contact("phone", datetime(2026, 3, 1, 2, 0, tzinfo=UTC), "user:secretary-1")
    met, contact_recorded, nxt = None, None, None
    for e in s.collect_events():
        if isinstance(e, ContactStatus.ContactCycleClosed):
            met = e
            contact_recorded = outbound(e)
        if isinstance(e, ContactStatus.ContactCycleOpened):
            nxt = e
    assert met is not None and met.outcome == "met" and met.item_id == opened.item_id
    assert (
        contact_recorded is not None and contact_recorded[1].TYPE == "cn.lianxin.registry.contact_recorded.v1"
    )
    assert nxt is not None and nxt.due_on == date(2026, 9, 1)
    s.end_contact_cycle(datetime(2026, 4, 1, tzinfo=UTC))
    assert s.contact_cycle is None


def test_a_dues_payment_is_not_the_six_monthly_contact() -> None:
    """Dues can be paid by proxy: the branch has still not heard from the member."""
    s = status()
    s.open_contact_cycle(date(2026, 1, 1))
    s.collect_events()
    s.record_contact("dues_paid", T0 + timedelta(days=5), "user:secretary-1")
    assert not any(isinstance(e, ContactStatus.ContactCycleClosed) for e in s.collect_events())
    assert s.contact_cycle is not None
