"""Learning's HTTP routers, one per resource."""

from learning.api.appraisal import appraisal
from learning.api.attendance import meeting_attendance
from learning.api.cadence import cadence
from learning.api.history import history
from learning.api.meetings import meetings
from learning.api.options import options
from learning.api.points import participation, points
from learning.api.probation import probation
from learning.api.quizzes import banks, quizzes
from learning.api.reports import reports
from learning.api.study import check_ins, courses

ROUTERS = (
    options,
    meetings,
    meeting_attendance,
    appraisal,
    cadence,
    courses,
    check_ins,
    banks,
    quizzes,
    reports,
    probation,
    points,
    participation,
    history,
)

__all__ = ["ROUTERS"]
