"""The learning eventsourcing Application: one method per use case, grouped by area."""

from __future__ import annotations

from learning.application.meetings import MeetingUseCases
from learning.application.quizzes import QuizUseCases
from learning.application.reports import ReportUseCases
from learning.application.study import StudyUseCases


class LearningApplication(MeetingUseCases, StudyUseCases, QuizUseCases, ReportUseCases):
    name = "learning"


__all__ = ["LearningApplication"]
