"""The learning application on in-memory persistence: registry reactions, tenancy, hours, caps, history, signals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate

from learning.application import LearningApplication
from learning.consumers import REACTIONS, reacting
from learning.contracts import (
    CONSUMED,
    MeetingAttended,
    StudyCheckedIn,
    ThoughtReportDue,
    ThoughtReportSubmitted,
)
from learning.domain import (
    CourseKind,
    HistoryShare,
    Meeting,
    MeetingMode,
    MeetingType,
    Participant,
    PointEntry,
    ProbationAssessment,
    QuizKind,
    SignInMethod,
    entry_id,
)
from learning.domain.errors import (
    AlreadyCheckedIn,
    MeetingNotFound,
    MemberNotKnown,
    NotEligible,
    OutsideAllowedHours,
    WrongAttendanceCode,
)
from learning.outbound import outbound
from shared.clock import SettableClock
from shared.consumer import apply_tracked
from shared.envelope import CloudEvent

START = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
SEQUENCE = count(1)


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(START)


@pytest.fixture
def app(clock: SettableClock) -> LearningApplication:
    return LearningApplication({"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock)


def registry_event(tenant: str, name: str, data: dict[str, Any], sequence: int | None = None) -> CloudEvent:
    seq = sequence if sequence is not None else next(SEQUENCE)
    return CloudEvent(
        id=f"{uuid4()}:1",
        source="/lianxin/registry",
        type=f"cn.lianxin.registry.{name}.v1",
        subject=str(uuid4()),
        time=START,
        tenantid=tenant,
        sequence=str(seq),
        correlationid=str(uuid4()),
        data=data,
    )


def handle(app: LearningApplication, event: CloudEvent) -> list[Aggregate]:
    """What the consumer does with one registry event: learning's reactions under shared.consumer's tracking."""
    return apply_tracked(app, event, CONSUMED, reacting(app))


def member(app: LearningApplication, tenant: str, branch: UUID, category: str = "full") -> UUID:
    member_id = uuid4()
    handle(
        app,
        registry_event(
            tenant,
            "member_registered",
            {
                "member_id": str(member_id),
                "organisation_id": str(branch),
                "category": category,
                "registered_on": "2026-03-01",
            },
        ),
    )
    return member_id


def announce(app: LearningApplication, tenant: str, branch: UUID, **kw: Any) -> Meeting:
    return app.announce_meeting(
        meeting_id=uuid4(),
        tenant_id=tenant,
        organisation_id=branch,
        meeting_type=MeetingType.ThemedPartyDay,
        title="主题党日",
        mode=kw.pop("mode", MeetingMode.Hybrid),
        starts_at=START + timedelta(days=4),
        ends_at=START + timedelta(days=4, hours=2),
        place="会议室",
        agenda=["学习"],
        short_notice_reason=None,
        meta={},
        **kw,
    )


def test_a_registered_member_is_known_once_and_probation_follows_the_registry(
    app: LearningApplication,
) -> None:
    branch = uuid4()
    member_id = member(app, "t-a", branch, "probationary")
    with pytest.raises(MemberNotKnown):
        app.get_probation("t-a", member_id)  # the registry, which owns the period, has not published it yet
    period = {
        "member_id": str(member_id),
        "organisation_id": str(branch),
        "admitted_on": "2026-02-20",
        "extension_months": 0,
        "ends_on": "2027-02-20",
        "state": "running",
        "rush_admission": False,
    }
    handle(app, registry_event("t-a", "probation_changed", period))
    assessment = app.get_probation("t-a", member_id)
    assert isinstance(assessment, ProbationAssessment) and assessment.ends_on.isoformat() == "2027-02-20"
    handle(
        app,
        registry_event(
            "t-a", "probation_changed", {**period, "extension_months": 6, "ends_on": "2027-08-20"}
        ),
    )
    assert app.get_probation("t-a", member_id).ends_on.isoformat() == "2027-08-20"
    again = registry_event(
        "t-a",
        "member_registered",
        {
            "member_id": str(member_id),
            "organisation_id": str(branch),
            "category": "full",
            "registered_on": "2026-03-01",
        },
        1,
    )
    handle(app, again)  # an old position: already processed, nothing changes
    assert app.repository.get(member_id).version == 1


def test_a_member_arriving_by_transfer_brings_the_probation_and_its_rush_flag(
    app: LearningApplication,
) -> None:
    arriving = uuid4()
    handle(
        app,
        registry_event(
            "t-receiver",
            "probation_changed",
            {
                "member_id": str(arriving),
                "organisation_id": str(uuid4()),
                "admitted_on": "2026-09-02",
                "extension_months": 0,
                "ends_on": "2027-09-02",
                "state": "running",
                "rush_admission": True,
            },
        ),
    )
    assessment = app.get_probation("t-receiver", arriving)
    assert assessment.rush_admission and assessment.admitted_on.isoformat() == "2026-09-02"
    with pytest.raises(MemberNotKnown):
        app.get_probation("t-other", arriving)


def test_another_tenant_cannot_see_a_meeting(app: LearningApplication) -> None:
    meeting = announce(app, "t-a", uuid4())
    with pytest.raises(MeetingNotFound):
        app.get_meeting("t-b", meeting.id)


def test_a_member_of_another_branch_cannot_sign_in(app: LearningApplication, clock: SettableClock) -> None:
    meeting = announce(app, "t-a", uuid4())
    stranger = member(app, "t-a", uuid4())
    clock.advance(timedelta(days=4))
    with pytest.raises(NotEligible):
        app.sign_in("t-a", meeting.id, stranger, SignInMethod.Online, None)


def test_a_mobile_member_signs_in_at_the_host_branch_and_the_signal_goes_home(
    app: LearningApplication, clock: SettableClock
) -> None:
    home_branch, host_branch = uuid4(), uuid4()
    mobile = member(app, "t-home", home_branch)
    with pytest.raises(MemberNotKnown):
        app.participant("t-host", mobile)
    handle(
        app,
        registry_event(
            "t-home",
            "inflow_registered",
            {
                "member_id": str(mobile),
                "home_tenant": "t-home",
                "home_org_id": str(home_branch),
                "host_tenant": "t-host",
                "host_org_id": str(host_branch),
            },
        ),
    )
    meeting = announce(app, "t-host", host_branch)
    clock.advance(timedelta(days=4))
    app.sign_in("t-host", meeting.id, mobile, SignInMethod.Online, "深圳")
    signed = app.events.get(meeting.id)
    mapped = outbound(list(signed)[-1])
    assert mapped is not None
    tenant, contract = mapped
    assert tenant == "t-home" and isinstance(contract, MeetingAttended)
    assert contract.tenant == "t-home" and contract.organisation_id == host_branch
    share = app.find(HistoryShare, HistoryShare.create_id(mobile, "t-host"))
    assert share is not None and share.grantee_member_id == mobile


def test_an_announced_meeting_has_a_random_code_and_wrong_codes_are_kept(
    app: LearningApplication, clock: SettableClock
) -> None:
    branch = uuid4()
    codes = {announce(app, "t-a", branch).attendance_code for _ in range(5)}
    assert all(c is not None and len(c) == 6 and c.isdigit() for c in codes)
    assert len(codes) > 1  # random, not derived from the branch or the tenant
    meeting = announce(app, "t-a", branch)
    assert announce(app, "t-a", branch, mode=MeetingMode.Online).attendance_code is None
    attendee = member(app, "t-a", branch)
    clock.advance(timedelta(days=4))
    wrong = "000000" if meeting.attendance_code != "000000" else "111111"
    with pytest.raises(WrongAttendanceCode):
        app.sign_in("t-a", meeting.id, attendee, SignInMethod.InPerson, None, wrong)
    assert app.get_meeting("t-a", meeting.id).code_refusals == {str(attendee): 1}  # saved despite the error
    app.sign_in("t-a", meeting.id, attendee, SignInMethod.InPerson, None, meeting.attendance_code)
    assert app.get_meeting("t-a", meeting.id).attendance[str(attendee)] == "present"
    first = app.rotate_attendance_code("t-a", meeting.id, {})  # issued days ago: due
    shown = first.attendance_code
    assert first.code_issued_at == clock.now() and first.previous_code == meeting.attendance_code
    assert app.rotate_attendance_code("t-a", meeting.id, {}).attendance_code == shown, "not due yet"
    clock.advance(timedelta(minutes=5))
    rotated = app.rotate_attendance_code("t-a", meeting.id, {})
    assert rotated.previous_code == shown and rotated.code_issued_at == clock.now()
    latecomer = member(app, "t-a", branch)
    app.sign_in("t-a", meeting.id, latecomer, SignInMethod.InPerson, None, shown)  # read a moment ago
    renewed = app.issue_attendance_code("t-a", meeting.id, {})
    assert renewed.previous_code is None, "a new code on request drops the old ones"


def host(app: LearningApplication, mobile: UUID, home: tuple[str, UUID], at: tuple[str, UUID]) -> None:
    handle(
        app,
        registry_event(
            at[0],
            "inflow_registered",
            {
                "member_id": str(mobile),
                "home_tenant": home[0],
                "home_org_id": str(home[1]),
                "host_tenant": at[0],
                "host_org_id": str(at[1]),
            },
        ),
    )


def test_from_home_a_mobile_member_reaches_the_host_branchs_meetings_and_no_others(
    app: LearningApplication, clock: SettableClock
) -> None:
    home_branch, host_branch, other_branch = uuid4(), uuid4(), uuid4()
    mobile = member(app, "t-home", home_branch)
    host(app, mobile, ("t-home", home_branch), ("t-host", host_branch))
    assert app.member_branches("t-home", mobile) == [
        ("t-home", home_branch, False),
        ("t-host", host_branch, True),
    ]
    assert app.member_branches("t-host", mobile) == [("t-host", host_branch, True)]
    with pytest.raises(MemberNotKnown):
        app.member_branches("t-other", mobile)
    hosted = announce(app, "t-host", host_branch)
    elsewhere = announce(app, "t-host", other_branch)
    clock.advance(timedelta(days=4))
    app.sign_in("t-home", hosted.id, mobile, SignInMethod.InPerson, None, hosted.attendance_code)
    with pytest.raises(MeetingNotFound):
        app.sign_in("t-home", elsewhere.id, mobile, SignInMethod.Online, None)
    stranger = member(app, "t-other", uuid4())
    with pytest.raises(MeetingNotFound):
        app.sign_in("t-other", hosted.id, stranger, SignInMethod.InPerson, None, hosted.attendance_code)


def test_a_member_hosted_by_another_branch_of_the_same_tenant_attends_both(
    app: LearningApplication, clock: SettableClock
) -> None:
    home_branch, host_branch = uuid4(), uuid4()
    mobile = member(app, "t-a", home_branch)
    host(app, mobile, ("t-a", home_branch), ("t-a", host_branch))
    at_home, at_host = announce(app, "t-a", home_branch), announce(app, "t-a", host_branch)
    clock.advance(timedelta(days=4))
    app.sign_in("t-a", at_home.id, mobile, SignInMethod.Online, None)
    app.sign_in("t-a", at_host.id, mobile, SignInMethod.Online, None)
    assert app.get_meeting("t-a", at_host.id).attendance[str(mobile)] == "present"


def test_check_in_outside_allowed_hours_is_refused(app: LearningApplication, clock: SettableClock) -> None:
    someone = member(app, "t-a", uuid4())
    clock.advance(timedelta(hours=14))  # 00:00 in Shanghai
    with pytest.raises(OutsideAllowedHours):
        app.check_in("t-a", someone, "党章", None)


def test_one_check_in_a_day_with_its_point_and_signal(app: LearningApplication) -> None:
    someone = member(app, "t-a", uuid4())
    done = app.check_in("t-a", someone, "党章第一章", "https://example.org/note")
    with pytest.raises(AlreadyCheckedIn):
        app.check_in("t-a", someone, "again", None)
    mapped = outbound(next(iter(app.events.get(done.id))))
    assert mapped is not None and isinstance(mapped[1], StudyCheckedIn)
    entries = [
        e
        for e in app.repository.event_store.recorder.select_notifications(1, 1000)
        if e.topic == "lianxin.learning.PointEntry.Granted"
    ]
    assert len(entries) == 1


def test_quiz_points_are_capped_per_day_and_never_granted_twice(app: LearningApplication) -> None:
    someone = member(app, "t-a", uuid4())
    app.change_options("t-a", {"point_rules": {"quiz_correct_answer": {"points": 1, "daily_cap": 2}}}, {})
    bank = app.open_bank(
        bank_id=uuid4(),
        tenant_id="t-a",
        title="题库",
        meta={},
        questions=[{"id": f"q{i}", "text": "?", "options": ["对", "错"], "answer": 0} for i in range(3)],
    )
    quiz = app.schedule_quiz(
        quiz_id=uuid4(),
        tenant_id="t-a",
        kind=QuizKind.Weekly,
        title="每周一测",
        bank_id=bank.id,
        question_ids=None,
        organisation_ids=[],
        opens_at=START,
        closes_at=START + timedelta(days=7),
        meta={},
    )
    for i in range(3):
        assert app.answer("t-a", quiz.id, someone, f"q{i}", 0).correct
    granted = [
        app.repository.get(entry_id("quiz_correct_answer", f"quiz:{quiz.id}:q{i}", someone)) for i in range(3)
    ]
    assert [g.points for g in granted if isinstance(g, PointEntry)] == [1, 1, 0]
    assert (
        app.points_for(
            tenant_id="t-a",
            member_id=someone,
            organisation_id=None,
            rule="quiz_correct_answer",
            action_id=f"quiz:{quiz.id}:q0",
            cause="again",
            at=START,
        )
        == []
    )


def test_thought_reports_come_from_probationary_members(app: LearningApplication) -> None:
    branch = uuid4()
    full, probationary = member(app, "t-a", branch), member(app, "t-a", branch, "probationary")
    with pytest.raises(NotEligible):
        app.submit_thought_report(report_id=uuid4(), tenant_id="t-a", member_id=full, title="t", body="b")
    report = app.submit_thought_report(
        report_id=uuid4(), tenant_id="t-a", member_id=probationary, title="第四季度思想汇报", body="……"
    )
    assert report.quarter == "2026Q4"
    mapped = outbound(next(iter(app.events.get(report.id))))
    assert mapped is not None and isinstance(mapped[1], ThoughtReportSubmitted)
    assert "body" not in mapped[1].model_dump()


def test_an_enrolment_shares_history_with_the_receiving_tenant(app: LearningApplication) -> None:
    leaving = member(app, "t-a", uuid4(), "probationary")
    new_id, new_branch = uuid4(), uuid4()
    handle(
        app,
        registry_event(
            "t-b",
            "member_enrolled",
            {
                "member_id": str(leaving),
                "new_member_id": str(new_id),
                "receiving_tenant": "t-b",
                "receiving_org_id": str(new_branch),
                "case_id": "c1",
            },
        ),
    )
    share = app.find(HistoryShare, HistoryShare.create_id(leaving, "t-b"))
    assert share is not None and share.grantee_member_id == new_id and share.source_tenant == "t-a"
    arrived = app.find(Participant, new_id)
    assert arrived is not None and arrived.tenant_id == "t-b" and arrived.probationary


def test_a_return_home_ends_the_hosting_and_the_hosts_share(app: LearningApplication) -> None:
    home_branch, host_branch = uuid4(), uuid4()
    mobile = member(app, "t-home", home_branch)
    handle(
        app,
        registry_event(
            "t-home",
            "inflow_registered",
            {
                "member_id": str(mobile),
                "home_tenant": "t-home",
                "home_org_id": str(home_branch),
                "host_tenant": "t-host",
                "host_org_id": str(host_branch),
            },
        ),
    )
    handle(
        app,
        registry_event(
            "t-home",
            "mobility_ended",
            {
                "registration_id": str(uuid4()),
                "member_id": str(mobile),
                "outcome": "returned",
                "ended_on": "2027-03-01",
            },
        ),
    )
    with pytest.raises(MemberNotKnown):
        app.participant("t-host", mobile)
    share = app.find(HistoryShare, HistoryShare.create_id(mobile, "t-host"))
    assert share is not None and share.revoked


def test_regularisation_in_the_registry_ends_thought_reports(app: LearningApplication) -> None:
    probationary = member(app, "t-a", uuid4(), "probationary")
    handle(
        app,
        registry_event(
            "t-a",
            "decision_recorded",
            {"member_id": str(probationary), "kind": "regularisation", "decided_on": "2027-03-01"},
        ),
    )
    with pytest.raises(NotEligible):
        app.submit_thought_report(
            report_id=uuid4(), tenant_id="t-a", member_id=probationary, title="t", body="b"
        )


def test_a_malformed_registry_event_is_a_permanent_failure(app: LearningApplication) -> None:
    from shared.consumer import PermanentFailure

    with pytest.raises(PermanentFailure):
        handle(app, registry_event("t-a", "member_registered", {"member_id": "not a uuid"}))


def test_points_outside_a_rules_hours_are_recorded_as_zero(app: LearningApplication) -> None:
    someone = member(app, "t-a", uuid4())
    rule = {"points": 1, "daily_cap": 6, "allowed_from": "20:00", "allowed_until": "22:00"}
    app.change_options("t-a", {"point_rules": {"lesson_completed": rule}}, {})
    course = app.publish_course(
        course_id=uuid4(),
        tenant_id="t-a",
        kind=CourseKind.MicroLesson,
        title="微党课",
        body="",
        links=[],
        attachments=[],
        organisation_ids=[],
        meta={},
    )
    app.record_progress("t-a", course.id, someone, 100)  # 10:00 in Shanghai
    granted = app.repository.get(entry_id("lesson_completed", f"course:{course.id}", someone))
    assert isinstance(granted, PointEntry) and (granted.points, granted.requested) == (0, 1)
    assert "outside" in granted.cause


def test_a_report_duty_is_announced_once_per_quarter_for_probationary_members(
    app: LearningApplication, clock: SettableClock
) -> None:
    probationary, full = member(app, "t-a", uuid4(), "probationary"), member(app, "t-a", uuid4())
    duty = app.announce_report_duty(probationary, "2026Q1")  # a past quarter rolls to the current one
    assert duty is not None and (duty.quarter, duty.due_on.isoformat()) == ("2026Q4", "2026-12-31")
    assert app.announce_report_duty(probationary, "2026Q4") is None
    assert app.announce_report_duty(full, "2026Q4") is None
    mapped = outbound(next(iter(app.events.get(duty.id))))
    assert mapped is not None and isinstance(mapped[1], ThoughtReportDue) and mapped[1].quarter == "2026Q4"
    clock.advance(timedelta(days=40))
    following = app.announce_report_duty(probationary, "2027Q1")
    assert following is not None and following.quarter == "2027Q1"


def test_every_consumed_contract_has_one_reaction() -> None:
    assert set(REACTIONS) == set(CONSUMED.values())
