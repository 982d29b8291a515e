"""Learning's aggregates, their events and errors; imports eventsourcing.domain and shared errors only."""

from learning.domain.calendar import add_months, quarter_bounds, quarter_of, quarters_between
from learning.domain.meetings import (
    APPRAISAL_TYPES,
    Grade,
    Meeting,
    MeetingMode,
    MeetingType,
    SignInMethod,
)
from learning.domain.members import Branch, HistoryShare, MemberCategory, Participant, ShareReason
from learning.domain.options import DEFAULT_CADENCE, DEFAULT_POINT_RULES, Options, TenantOptions
from learning.domain.points import DailyPoints, PointEntry, daily_id, entry_id, grant
from learning.domain.probation import ProbationAssessment, quota_result
from learning.domain.quizzes import QuestionBank, Quiz, QuizKind
from learning.domain.reports import ThoughtReport, ThoughtReportDuty, report_status
from learning.domain.study import Course, CourseKind, StudyCheckIn, StudyProgress

__all__ = [
    "APPRAISAL_TYPES",
    "DEFAULT_CADENCE",
    "DEFAULT_POINT_RULES",
    "Branch",
    "Course",
    "CourseKind",
    "DailyPoints",
    "Grade",
    "HistoryShare",
    "Meeting",
    "MeetingMode",
    "MeetingType",
    "MemberCategory",
    "Options",
    "Participant",
    "PointEntry",
    "ProbationAssessment",
    "QuestionBank",
    "Quiz",
    "QuizKind",
    "ShareReason",
    "SignInMethod",
    "StudyCheckIn",
    "StudyProgress",
    "TenantOptions",
    "ThoughtReport",
    "ThoughtReportDuty",
    "add_months",
    "daily_id",
    "entry_id",
    "grant",
    "quarter_bounds",
    "quarter_of",
    "quarters_between",
    "quota_result",
    "report_status",
]
