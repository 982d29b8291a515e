"""The learning service's error hierarchy; each maps to one problem type."""

from __future__ import annotations

from shared.errors import Conflict, Forbidden, Invalid, NotFound, TooManyRequests


class MemberNotKnown(NotFound):
    type = "member-not-found"


class MeetingNotFound(NotFound):
    type = "meeting-not-found"


class CourseNotFound(NotFound):
    type = "course-not-found"


class QuestionBankNotFound(NotFound):
    type = "question-bank-not-found"


class QuizNotFound(NotFound):
    type = "quiz-not-found"


class ThoughtReportNotFound(NotFound):
    type = "thought-report-not-found"


class OutsideAllowedHours(Conflict):
    type = "outside-allowed-hours"


class QuizWindowClosed(Conflict):
    type = "quiz-window-closed"


class AlreadyAnswered(Conflict):
    type = "already-answered"


class AlreadyCheckedIn(Conflict):
    type = "already-checked-in"


class AlreadySignedIn(Conflict):
    type = "already-signed-in"


class MeetingStateError(Conflict):
    type = "meeting-state"


class AlreadyAcknowledged(Conflict):
    type = "already-acknowledged"


class NotEligible(Conflict):
    type = "not-eligible"


class InvalidAppraisal(Invalid):
    type = "invalid-appraisal"


class InvalidOption(Invalid):
    type = "invalid-option"


class InvalidSchedule(Invalid):
    type = "invalid-schedule"


class RankingsOff(Forbidden):
    type = "rankings-off"


class WrongAttendanceCode(Invalid):
    type = "wrong-attendance-code"


class TooManyCodeAttempts(TooManyRequests):
    type = "too-many-code-attempts"
