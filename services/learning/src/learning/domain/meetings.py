"""Organisational life (三会一课, 主题党日, 组织生活会, 民主评议, 谈心谈话): notice, opinions, sign-in, minutes, appraisal."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from learning.domain.errors import (
    AlreadySignedIn,
    InvalidAppraisal,
    InvalidSchedule,
    MeetingStateError,
    TooManyCodeAttempts,
    WrongAttendanceCode,
)

SIGN_IN_OPENS_BEFORE = timedelta(minutes=30)
# Wrong attendance codes a member may enter for one meeting; then their in-person sign-in is refused.
CODE_ATTEMPTS = 5
# While the projector shows it, a new code this often; the previous one is still accepted.
CODE_ROTATES_AFTER = timedelta(minutes=5)


class MeetingType(enum.Enum):
    BranchAssembly = "branch_assembly"
    BranchCommittee = "branch_committee"
    GroupMeeting = "group_meeting"
    PartyLecture = "party_lecture"
    ThemedPartyDay = "themed_party_day"
    OrgLifeMeeting = "org_life_meeting"
    DemocraticAppraisal = "democratic_appraisal"
    HeartToHeartTalk = "heart_to_heart_talk"


APPRAISAL_TYPES = {MeetingType.OrgLifeMeeting, MeetingType.DemocraticAppraisal}


class MeetingMode(enum.Enum):
    InPerson = "in_person"
    Online = "online"
    Hybrid = "hybrid"


class SignInMethod(enum.Enum):
    InPerson = "in_person"
    Online = "online"


class Grade(enum.Enum):
    """民主评议 grades: 优秀 / 合格 / 基本合格 / 不合格."""

    Excellent = "excellent"
    Qualified = "qualified"
    BasicallyQualified = "basically_qualified"
    Unqualified = "unqualified"


class Meeting(Aggregate):
    TOPIC = "lianxin.learning.Meeting"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.learning.Meeting.Created"

    class Announced(Created):
        TOPIC = "lianxin.learning.Meeting.Announced"
        tenant_id: str
        organisation_id: UUID
        meeting_type: MeetingType
        title: str
        mode: MeetingMode
        starts_at: datetime
        ends_at: datetime
        place: str | None
        agenda: list[str]
        notice_days: int
        short_notice_reason: str | None
        announced_at: datetime
        meta: dict[str, Any]

    class OpinionCollected(Event):
        TOPIC = "lianxin.learning.Meeting.OpinionCollected"
        member_id: UUID
        text: str
        at: datetime

    class SignedIn(Event):
        """Never anonymous; the location is shared only when the member chooses to."""

        TOPIC = "lianxin.learning.Meeting.SignedIn"
        meeting: dict[str, Any]
        member_id: UUID
        method: SignInMethod
        location: str | None
        at: datetime
        home_tenant: str
        home_org_id: UUID

    class AttendanceCodeIssued(Event):
        """The code the secretary shows in the room (random, never derived from ids). A rotation keeps the previous
        code valid (`previous_valid`); a new code on the secretary's request does not. Read only by the meeting's
        managers; never published, never projected."""

        TOPIC = "lianxin.learning.Meeting.AttendanceCodeIssued"
        code: str
        issued_at: datetime
        previous_valid: bool
        meta: dict[str, Any]

    class AttendanceCodeRefused(Event):
        """A member entered a wrong code; counted so that a six-digit code cannot be guessed."""

        TOPIC = "lianxin.learning.Meeting.AttendanceCodeRefused"
        member_id: UUID
        at: datetime

    class AbsenceExcused(Event):
        TOPIC = "lianxin.learning.Meeting.AbsenceExcused"
        meeting: dict[str, Any]
        member_id: UUID
        reason: str
        home_tenant: str
        home_org_id: UUID
        meta: dict[str, Any]

    class MinutesRecorded(Event):
        TOPIC = "lianxin.learning.Meeting.MinutesRecorded"
        minutes: str
        held_at: datetime
        meta: dict[str, Any]

    class SpeakingOrderSet(Event):
        TOPIC = "lianxin.learning.Meeting.SpeakingOrderSet"
        member_ids: list[UUID]
        meta: dict[str, Any]

    class SelfAssessmentSubmitted(Event):
        TOPIC = "lianxin.learning.Meeting.SelfAssessmentSubmitted"
        member_id: UUID
        text: str
        at: datetime

    class GradesRecorded(Event):
        TOPIC = "lianxin.learning.Meeting.GradesRecorded"
        grades: dict[str, Grade]
        meta: dict[str, Any]

    @event(Announced)
    def __init__(
        self,
        *,
        id: UUID,
        tenant_id: str,
        organisation_id: UUID,
        meeting_type: MeetingType,
        title: str,
        mode: MeetingMode,
        starts_at: datetime,
        ends_at: datetime,
        place: str | None,
        agenda: list[str],
        notice_days: int,
        short_notice_reason: str | None,
        announced_at: datetime,
        meta: dict[str, Any],
    ) -> None:
        self.tenant_id = tenant_id
        self.organisation_id = organisation_id
        self.meeting_type = meeting_type
        self.title = title
        self.mode = mode
        self.starts_at = starts_at
        self.ends_at = ends_at
        self.place = place
        self.agenda = list(agenda)
        self.opinions: list[dict[str, Any]] = []
        self.attendance: dict[str, str] = {}  # member id -> present / excused
        self.minutes: str | None = None
        self.speaking_order: list[UUID] = []
        self.self_assessments: dict[str, str] = {}
        self.grades: dict[str, Grade] = {}
        self.attendance_code: str | None = None
        self.previous_code: str | None = None  # still accepted after a rotation
        self.code_issued_at: datetime | None = None
        self.code_refusals: dict[str, int] = {}  # member id -> wrong codes entered

    @classmethod
    def announce(
        cls,
        *,
        id: UUID,
        tenant_id: str,
        organisation_id: UUID,
        meeting_type: MeetingType,
        title: str,
        mode: MeetingMode,
        starts_at: datetime,
        ends_at: datetime,
        place: str | None,
        agenda: list[str],
        notice_days: int,
        short_notice_reason: str | None,
        now: datetime,
        meta: dict[str, Any],
    ) -> Meeting:
        """The notice goes out `notice_days` ahead; a shorter notice is allowed only with a recorded reason."""
        if ends_at <= starts_at:
            raise InvalidSchedule("a meeting ends after it starts", field="ends_at")
        if starts_at <= now:
            raise InvalidSchedule("a meeting is announced before it starts", field="starts_at")
        if starts_at - now < timedelta(days=notice_days) and not (short_notice_reason or "").strip():
            raise InvalidSchedule(
                f"the notice is {notice_days} days ahead; give a reason for a shorter notice",
                field="short_notice_reason",
            )
        if mode is not MeetingMode.Online and not (place or "").strip():
            raise InvalidSchedule("a meeting held in person names its place", field="place")
        return cls(
            id=id,
            tenant_id=tenant_id,
            organisation_id=organisation_id,
            meeting_type=meeting_type,
            title=title,
            mode=mode,
            starts_at=starts_at,
            ends_at=ends_at,
            place=place,
            agenda=agenda,
            notice_days=notice_days,
            short_notice_reason=short_notice_reason,
            announced_at=now,
            meta=meta,
        )

    def facts(self) -> dict[str, Any]:
        """Copied onto attendance events: the member's home tenant sees the attendance without the meeting."""
        return {
            "tenant_id": self.tenant_id,
            "organisation_id": self.organisation_id,
            "meeting_type": self.meeting_type.value,
            "starts_at": self.starts_at,
        }

    @property
    def held(self) -> bool:
        return self.minutes is not None

    def collect_opinion(self, member_id: UUID, text: str, at: datetime) -> None:
        if at >= self.starts_at:
            raise MeetingStateError("opinions are collected before the meeting starts")
        self._opinion_collected(member_id=member_id, text=text, at=at)

    @event(OpinionCollected)
    def _opinion_collected(self, member_id: UUID, text: str, at: datetime) -> None:
        self.opinions.append({"member_id": member_id, "text": text, "at": at})

    def issue_attendance_code(
        self, code: str, now: datetime, meta: dict[str, Any], *, keep_previous: bool = False
    ) -> None:
        """A new code for the room; the previous one stops working unless kept (a rotation). Online-only meetings
        have none."""
        if self.mode is MeetingMode.Online:
            raise MeetingStateError("an online meeting has no attendance code")
        if self.held:
            raise MeetingStateError("the minutes are recorded; sign-in has closed")
        self._attendance_code_issued(code=code, issued_at=now, previous_valid=keep_previous, meta=meta)

    @event(AttendanceCodeIssued)
    def _attendance_code_issued(
        self, code: str, issued_at: datetime, previous_valid: bool, meta: dict[str, Any]
    ) -> None:
        self.previous_code = self.attendance_code if previous_valid else None
        self.attendance_code = code
        self.code_issued_at = issued_at

    def code_due(self, now: datetime) -> bool:
        """A code to show in the room, and none yet or the current one shown for CODE_ROTATES_AFTER."""
        if self.mode is MeetingMode.Online or self.held:
            return False
        return self.code_issued_at is None or now - self.code_issued_at >= CODE_ROTATES_AFTER

    def _code_matches(self, code: str) -> bool:
        return any(
            valid is not None and secrets.compare_digest(code, valid)
            for valid in (self.attendance_code, self.previous_code)
        )

    def check_attendance_code(self, member_id: UUID, code: str | None, at: datetime) -> None:
        """In person: the code shown in the room. A wrong code is recorded (the caller saves, then raises);
        after CODE_ATTEMPTS wrong codes the member is refused without the code being compared."""
        if self.code_refusals.get(str(member_id), 0) >= CODE_ATTEMPTS:
            raise TooManyCodeAttempts(
                f"{CODE_ATTEMPTS} wrong codes: ask the secretary to record your attendance", field="code"
            )
        if not code:
            raise WrongAttendanceCode("signing in on site needs the code shown in the room", field="code")
        if not self._code_matches(code):
            self._attendance_code_refused(member_id=member_id, at=at)
            left = CODE_ATTEMPTS - self.code_refusals[str(member_id)]
            raise WrongAttendanceCode(f"the code is wrong; {left} tries left", field="code")

    @event(AttendanceCodeRefused)
    def _attendance_code_refused(self, member_id: UUID, at: datetime) -> None:
        self.code_refusals[str(member_id)] = self.code_refusals.get(str(member_id), 0) + 1

    def sign_in(
        self,
        *,
        member_id: UUID,
        method: SignInMethod,
        location: str | None,
        at: datetime,
        home_tenant: str,
        home_org_id: UUID,
        code: str | None = None,
    ) -> None:
        if self.held:
            raise MeetingStateError("the minutes are recorded; sign-in has closed")
        if not self.starts_at - SIGN_IN_OPENS_BEFORE <= at < self.ends_at:
            raise MeetingStateError("sign-in opens 30 minutes before the start and closes at the end")
        if method is SignInMethod.Online and self.mode is MeetingMode.InPerson:
            raise MeetingStateError("this meeting is held in person only", field="method")
        if method is SignInMethod.InPerson and self.mode is MeetingMode.Online:
            raise MeetingStateError("this meeting is held online only", field="method")
        if self.attendance.get(str(member_id)) == "present":
            raise AlreadySignedIn("the member has signed in already")
        if method is SignInMethod.InPerson:
            self.check_attendance_code(member_id, code, at)
        self._signed_in(
            meeting=self.facts(),
            member_id=member_id,
            method=method,
            location=location,
            at=at,
            home_tenant=home_tenant,
            home_org_id=home_org_id,
        )

    @event(SignedIn)
    def _signed_in(
        self,
        meeting: dict[str, Any],
        member_id: UUID,
        method: SignInMethod,
        location: str | None,
        at: datetime,
        home_tenant: str,
        home_org_id: UUID,
    ) -> None:
        self.attendance[str(member_id)] = "present"

    def excuse_absence(
        self, *, member_id: UUID, reason: str, home_tenant: str, home_org_id: UUID, meta: dict[str, Any]
    ) -> None:
        if self.attendance.get(str(member_id)) == "present":
            raise MeetingStateError("the member attended")
        if not reason.strip():
            raise InvalidSchedule("an excused absence has a reason", field="reason")
        self._absence_excused(
            meeting=self.facts(),
            member_id=member_id,
            reason=reason,
            home_tenant=home_tenant,
            home_org_id=home_org_id,
            meta=meta,
        )

    @event(AbsenceExcused)
    def _absence_excused(
        self,
        meeting: dict[str, Any],
        member_id: UUID,
        reason: str,
        home_tenant: str,
        home_org_id: UUID,
        meta: dict[str, Any],
    ) -> None:
        self.attendance[str(member_id)] = "excused"

    def record_minutes(self, minutes: str, now: datetime, meta: dict[str, Any]) -> None:
        if self.held:
            raise MeetingStateError("the minutes are recorded already")
        if now < self.starts_at:
            raise MeetingStateError("minutes are recorded once the meeting has started")
        self._minutes_recorded(minutes=minutes, held_at=self.starts_at, meta=meta)

    @event(MinutesRecorded)
    def _minutes_recorded(self, minutes: str, held_at: datetime, meta: dict[str, Any]) -> None:
        self.minutes = minutes

    # 组织生活会 / 民主评议 only.

    def _refuse_unless_appraisal(self) -> None:
        if self.meeting_type not in APPRAISAL_TYPES:
            raise InvalidAppraisal(
                "speaking order, self-assessment and grades belong to 组织生活会 and 民主评议"
            )

    def set_speaking_order(self, member_ids: list[UUID], meta: dict[str, Any]) -> None:
        self._refuse_unless_appraisal()
        if len(set(member_ids)) != len(member_ids):
            raise InvalidAppraisal("each member speaks once", field="member_ids")
        self._speaking_order_set(member_ids=member_ids, meta=meta)

    @event(SpeakingOrderSet)
    def _speaking_order_set(self, member_ids: list[UUID], meta: dict[str, Any]) -> None:
        self.speaking_order = list(member_ids)

    def submit_self_assessment(self, member_id: UUID, text: str, at: datetime) -> None:
        self._refuse_unless_appraisal()
        if self.grades:
            raise MeetingStateError("the grades are recorded; self-assessments have closed")
        self._self_assessment_submitted(member_id=member_id, text=text, at=at)

    @event(SelfAssessmentSubmitted)
    def _self_assessment_submitted(self, member_id: UUID, text: str, at: datetime) -> None:
        self.self_assessments[str(member_id)] = text

    def record_grades(self, grades: dict[str, Grade], meta: dict[str, Any]) -> None:
        """优秀 for at most a third of the members graded (民主评议党员)."""
        self._refuse_unless_appraisal()
        if self.grades:
            raise MeetingStateError("the grades are recorded already")
        if not grades:
            raise InvalidAppraisal("grade at least one member", field="grades")
        excellent = sum(1 for g in grades.values() if g is Grade.Excellent)
        if excellent * 3 > len(grades):
            raise InvalidAppraisal(
                f"优秀 is at most a third of the members graded ({len(grades) // 3} of {len(grades)})",
                field="grades",
            )
        self._grades_recorded(grades=grades, meta=meta)

    @event(GradesRecorded)
    def _grades_recorded(self, grades: dict[str, Grade], meta: dict[str, Any]) -> None:
        self.grades = dict(grades)
