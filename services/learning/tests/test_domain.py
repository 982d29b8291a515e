"""Learning's aggregates on their own: notices, windows, caps, grades and refusals."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from learning.domain import (
    DailyPoints,
    Grade,
    Meeting,
    MeetingMode,
    MeetingType,
    Options,
    ProbationAssessment,
    QuestionBank,
    Quiz,
    QuizKind,
    SignInMethod,
    StudyProgress,
    TenantOptions,
    grant,
    quarters_between,
    quota_result,
    report_status,
)
from learning.domain.errors import (
    AlreadyAnswered,
    AlreadySignedIn,
    InvalidAppraisal,
    InvalidOption,
    InvalidSchedule,
    MeetingStateError,
    QuizWindowClosed,
    TooManyCodeAttempts,
    WrongAttendanceCode,
)
from learning.domain.meetings import CODE_ATTEMPTS
from learning.domain.quizzes import pass_mark

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def meeting(
    kind: MeetingType = MeetingType.ThemedPartyDay,
    mode: MeetingMode = MeetingMode.Hybrid,
    starts_in: timedelta = timedelta(days=4),
    reason: str | None = None,
) -> Meeting:
    return Meeting.announce(
        id=uuid4(),
        tenant_id="t-a",
        organisation_id=uuid4(),
        meeting_type=kind,
        title="主题党日",
        mode=mode,
        starts_at=NOW + starts_in,
        ends_at=NOW + starts_in + timedelta(hours=2),
        place="二楼会议室",
        agenda=["学习"],
        notice_days=3,
        short_notice_reason=reason,
        now=NOW,
        meta={},
    )


def sign(m: Meeting, at: datetime, method: SignInMethod = SignInMethod.Online, member=None) -> None:  # type: ignore[no-untyped-def]
    m.sign_in(
        member_id=member or uuid4(),
        method=method,
        location=None,
        at=at,
        home_tenant="t-a",
        home_org_id=m.organisation_id,
    )


def test_a_meeting_needs_the_notice_period_or_a_reason() -> None:
    with pytest.raises(InvalidSchedule, match="3 days"):
        meeting(starts_in=timedelta(days=1))
    assert meeting(starts_in=timedelta(days=1), reason="上级临时部署").title == "主题党日"


def test_an_in_person_meeting_names_its_place() -> None:
    with pytest.raises(InvalidSchedule, match="place"):
        Meeting.announce(
            id=uuid4(),
            tenant_id="t",
            organisation_id=uuid4(),
            meeting_type=MeetingType.GroupMeeting,
            title="x",
            mode=MeetingMode.InPerson,
            starts_at=NOW + timedelta(days=5),
            ends_at=NOW + timedelta(days=5, hours=1),
            place=None,
            agenda=[],
            notice_days=3,
            short_notice_reason=None,
            now=NOW,
            meta={},
        )


def test_sign_in_opens_half_an_hour_before_and_closes_at_the_end() -> None:
    m = meeting()
    with pytest.raises(MeetingStateError, match="30 minutes"):
        sign(m, m.starts_at - timedelta(minutes=31))
    with pytest.raises(MeetingStateError):
        sign(m, m.ends_at)
    sign(m, m.starts_at - timedelta(minutes=29))
    assert list(m.attendance.values()) == ["present"]


def test_online_sign_in_to_an_in_person_meeting_is_refused() -> None:
    m = meeting(mode=MeetingMode.InPerson)
    with pytest.raises(MeetingStateError, match="in person only"):
        sign(m, m.starts_at, SignInMethod.Online)


def test_a_member_signs_in_once_and_not_after_the_minutes() -> None:
    m, member = meeting(), uuid4()
    sign(m, m.starts_at, member=member)
    with pytest.raises(AlreadySignedIn):
        sign(m, m.starts_at, member=member)
    m.record_minutes("纪要", m.starts_at + timedelta(hours=1), {})
    with pytest.raises(MeetingStateError, match="sign-in has closed"):
        sign(m, m.starts_at + timedelta(minutes=90))


def in_person(m: Meeting, member, code: str | None) -> None:  # type: ignore[no-untyped-def]
    m.sign_in(
        member_id=member,
        method=SignInMethod.InPerson,
        location=None,
        at=m.starts_at,
        home_tenant="t-a",
        home_org_id=m.organisation_id,
        code=code,
    )


def test_in_person_sign_in_needs_the_code_shown_in_the_room() -> None:
    m, member = meeting(), uuid4()
    m.issue_attendance_code("482913", NOW, {})
    with pytest.raises(WrongAttendanceCode, match="code shown") as missing:
        in_person(m, member, None)
    assert missing.value.extensions["field"] == "code"
    with pytest.raises(WrongAttendanceCode, match="4 tries left"):
        in_person(m, member, "482914")
    in_person(m, member, "482913")
    assert m.attendance[str(member)] == "present"


def test_a_new_code_replaces_the_previous_one() -> None:
    m = meeting()
    m.issue_attendance_code("111111", NOW, {})
    m.issue_attendance_code("222222", NOW, {})
    with pytest.raises(WrongAttendanceCode):
        in_person(m, uuid4(), "111111")
    in_person(m, uuid4(), "222222")


def test_a_rotation_keeps_the_previous_code_and_drops_the_one_before() -> None:
    m = meeting()
    assert m.code_due(NOW)
    m.issue_attendance_code("111111", NOW, {})
    assert not m.code_due(NOW + timedelta(minutes=4)) and m.code_due(NOW + timedelta(minutes=5))
    m.issue_attendance_code("222222", NOW + timedelta(minutes=5), {}, keep_previous=True)
    m.issue_attendance_code("333333", NOW + timedelta(minutes=10), {}, keep_previous=True)
    with pytest.raises(WrongAttendanceCode):
        in_person(m, uuid4(), "111111")
    in_person(m, uuid4(), "222222")
    in_person(m, uuid4(), "333333")
    assert not meeting(mode=MeetingMode.Online).code_due(NOW), "an online meeting shows no code"


def test_after_five_wrong_codes_the_member_is_refused_even_with_the_right_one() -> None:
    m, member = meeting(), uuid4()
    m.issue_attendance_code("482913", NOW, {})
    for _ in range(CODE_ATTEMPTS):
        with pytest.raises(WrongAttendanceCode):
            in_person(m, member, "000000")
    with pytest.raises(TooManyCodeAttempts):
        in_person(m, member, "482913")
    in_person(m, uuid4(), "482913")  # the limit is per member: others still sign in


def test_online_sign_in_needs_no_code_and_an_online_meeting_has_none() -> None:
    m = meeting()
    m.issue_attendance_code("482913", NOW, {})
    sign(m, m.starts_at, SignInMethod.Online)
    online = meeting(mode=MeetingMode.Online)
    with pytest.raises(MeetingStateError, match="online"):
        online.issue_attendance_code("482913", NOW, {})


def test_opinions_are_collected_before_the_meeting_only() -> None:
    m = meeting()
    m.collect_opinion(uuid4(), "建议增加讨论时间", NOW)
    with pytest.raises(MeetingStateError):
        m.collect_opinion(uuid4(), "晚了", m.starts_at)


def test_an_attending_member_cannot_be_excused() -> None:
    m, member = meeting(), uuid4()
    sign(m, m.starts_at, member=member)
    with pytest.raises(MeetingStateError, match="attended"):
        m.excuse_absence(
            member_id=member, reason="出差", home_tenant="t-a", home_org_id=m.organisation_id, meta={}
        )


def test_excellent_is_at_most_a_third_of_those_graded() -> None:
    m = meeting(MeetingType.DemocraticAppraisal)
    ids = [str(uuid4()) for _ in range(3)]
    with pytest.raises(InvalidAppraisal, match="third"):
        m.record_grades({ids[0]: Grade.Excellent, ids[1]: Grade.Excellent, ids[2]: Grade.Qualified}, {})
    m.record_grades({ids[0]: Grade.Excellent, ids[1]: Grade.Qualified, ids[2]: Grade.Qualified}, {})
    assert m.grades[ids[0]] is Grade.Excellent


def test_grades_and_speaking_order_belong_to_appraisal_meetings() -> None:
    m = meeting(MeetingType.ThemedPartyDay)
    with pytest.raises(InvalidAppraisal):
        m.set_speaking_order([uuid4()], {})
    with pytest.raises(InvalidAppraisal):
        m.record_grades({str(uuid4()): Grade.Qualified}, {})


def quiz(first_correct: bool = False) -> Quiz:
    bank = QuestionBank.open(
        id=uuid4(),
        tenant_id="t-a",
        title="题库",
        meta={},
        questions=[
            {"id": "q1", "text": "党的最高理想?", "options": ["共产主义", "其他"], "answer": 0},
            {"id": "q2", "text": "预备期几年?", "options": ["半年", "一年"], "answer": 1},
        ],
    )
    return Quiz.schedule(
        id=uuid4(),
        tenant_id="t-a",
        kind=QuizKind.Weekly,
        title="每周一测",
        bank=bank,
        question_ids=None,
        organisation_ids=[],
        opens_at=NOW,
        closes_at=NOW + timedelta(days=7),
        first_correct_rule=first_correct,
        meta={},
    )


def answer(q: Quiz, member, question: str, choice: int, at: datetime = NOW) -> Quiz.Answered:  # type: ignore[no-untyped-def]
    return q.answer(member_id=member, organisation_id=uuid4(), question_id=question, choice=choice, at=at)


def test_quiz_answers_outside_the_window_are_refused() -> None:
    q = quiz()
    with pytest.raises(QuizWindowClosed, match="not opened"):
        answer(q, uuid4(), "q1", 0, NOW - timedelta(seconds=1))
    with pytest.raises(QuizWindowClosed, match="late"):
        answer(q, uuid4(), "q1", 0, q.closes_at)


def test_a_question_is_answered_once_per_member() -> None:
    q, member = quiz(), uuid4()
    assert answer(q, member, "q1", 1).correct is False
    with pytest.raises(AlreadyAnswered):
        answer(q, member, "q1", 0)
    assert answer(q, member, "q2", 1).correct is True
    assert q.scores[str(member)] == 1


def test_a_member_completes_a_quiz_with_the_last_question_and_passes_at_60_percent() -> None:
    q, member = quiz(), uuid4()
    answer(q, member, "q1", 1)
    assert not [e for e in q.pending_events if isinstance(e, Quiz.Completed)]
    answer(q, member, "q2", 1)
    (completed,) = [e for e in q.pending_events if isinstance(e, Quiz.Completed)]
    assert (completed.score, completed.question_count, completed.passed) == (1, 2, False)
    assert [pass_mark(n) for n in (1, 2, 5, 10)] == [1, 2, 3, 6]


def test_first_correct_answer_only_counts_with_the_tenant_rule() -> None:
    plain, contest = quiz(), quiz(first_correct=True)
    assert answer(plain, uuid4(), "q1", 0).first_correct is False
    assert answer(contest, uuid4(), "q1", 1).first_correct is False  # wrong answers never win
    assert answer(contest, uuid4(), "q1", 0).first_correct is True
    assert answer(contest, uuid4(), "q1", 0).first_correct is False


def test_a_bank_answer_must_be_one_of_the_options() -> None:
    with pytest.raises(InvalidSchedule):
        QuestionBank.open(
            id=uuid4(),
            tenant_id="t",
            title="x",
            meta={},
            questions=[{"id": "q", "text": "?", "options": ["a", "b"], "answer": 2}],
        )


def test_points_stop_at_the_daily_cap_and_keep_the_cause() -> None:
    member, day, counter = uuid4(), date(2026, 11, 23), None
    awarded = []
    for n in range(3):
        entry, counter = grant(
            day=counter,
            tenant_id="t",
            member_id=member,
            organisation_id=None,  # type: ignore[assignment]
            rule="quiz_correct_answer",
            action_id=f"a{n}",
            points=1,
            daily_cap=2,
            local_date=day,
            cause="correct",
            at=NOW,
        )
        awarded.append((entry.points, entry.requested))  # type: ignore[attr-defined]
    assert awarded == [(1, 1), (1, 1), (0, 1)]
    assert isinstance(counter, DailyPoints) and counter.total == 2


def test_probation_follows_the_registrys_period() -> None:
    a = ProbationAssessment(
        tenant_id="t", member_id=uuid4(), organisation_id=uuid4(), admitted_on=date(2026, 2, 28)
    )
    assert a.ends_on == date(2027, 2, 28)
    a.follow(admitted_on=date(2026, 2, 28), extension_months=6, state="running", rush_admission=False)
    assert a.ends_on == date(2027, 8, 28)
    a.collect_events()
    a.follow(admitted_on=date(2026, 2, 28), extension_months=6, state="running", rush_admission=False)
    assert a.collect_events() == [], "the same period again records nothing"


def test_the_probation_quota_is_a_tenant_option_with_known_items() -> None:
    options = TenantOptions(tenant_id="t")
    options.change({"probation_quota": {"thought_reports": 2}}, {})
    assert options.options().probation_quota["thought_reports"] == 2
    assert options.options().probation_quota["meetings_attended"] == 8
    with pytest.raises(InvalidOption):
        options.change({"probation_quota": {"speeches": 3}}, {})


def test_allowed_hours_are_in_the_tenant_time_zone() -> None:
    options = Options(allowed_from="06:00", allowed_until="23:00")
    assert options.within_allowed_hours(NOW)  # 10:00 in Shanghai
    assert not options.within_allowed_hours(datetime(2026, 11, 22, 16, 30, tzinfo=UTC))  # 00:30 in Shanghai
    assert options.local_date(datetime(2026, 11, 22, 16, 30, tzinfo=UTC)) == date(2026, 11, 23)
    night_shift = Options(allowed_from="22:00", allowed_until="02:00")
    assert night_shift.within_allowed_hours(datetime(2026, 11, 22, 16, 30, tzinfo=UTC))
    assert not night_shift.within_allowed_hours(NOW)
    assert Options(allowed_from="00:00", allowed_until="00:00").within_allowed_hours(NOW)


def test_unknown_or_unusable_options_are_refused() -> None:
    saved = TenantOptions(tenant_id="t")
    for bad in (
        {"colour": "red"},
        {"timezone": "Mars/Base"},
        {"allowed_from": "25:00"},
        {"point_rules": {"x": {"points": -1, "daily_cap": 1}}},
        {"rankings": "yes"},
    ):
        with pytest.raises(InvalidOption):
            saved.change(bad, {})
    saved.change({"rankings": True, "point_rules": {"study_check_in": {"points": 2, "daily_cap": 2}}}, {})
    options = saved.options()
    assert options.rankings and options.rule("study_check_in")["points"] == 2
    assert options.rule("lesson_completed")["daily_cap"] == 6  # defaults kept for rules not changed


def test_progress_only_moves_forward_and_completes_once() -> None:
    p = StudyProgress(tenant_id="t", course_id=uuid4(), member_id=uuid4(), organisation_id=uuid4())
    assert p.progress(50, NOW) is False
    assert p.progress(100, NOW) is True
    assert p.progress(100, NOW) is False and p.progress(80, NOW) is False


def test_quarters_between_spans_a_year_end() -> None:
    assert quarters_between(date(2026, 11, 5), date(2027, 4, 1)) == ["2026Q4", "2027Q1", "2027Q2"]


def test_a_quarters_report_is_due_until_the_next_quarter_begins() -> None:
    assert report_status(0, "2026Q4", date(2026, 12, 31)) == "due"


def test_a_missing_report_is_overdue_from_the_next_quarters_first_day() -> None:
    assert report_status(0, "2026Q4", date(2027, 1, 1)) == "overdue"


def test_a_submitted_report_stays_submitted_after_its_quarter() -> None:
    assert report_status(1, "2026Q3", date(2027, 1, 1)) == "submitted"


def test_the_quota_is_met_only_when_every_target_is() -> None:
    result = quota_result(
        {"thought_reports": 4, "study_check_ins": 2}, {"thought_reports": 4, "study_check_ins": 1}
    )
    assert result == {
        "items": {
            "thought_reports": {"target": 4, "actual": 4, "met": True},
            "study_check_ins": {"target": 2, "actual": 1, "met": False},
        },
        "met": False,
    }
