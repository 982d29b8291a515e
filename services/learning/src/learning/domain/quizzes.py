"""Question banks, and quizzes (weekly or one-off) drawn from them with a time window and one answer per question."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from learning.domain.errors import AlreadyAnswered, InvalidSchedule, QuizWindowClosed


def pass_mark(question_count: int) -> int:
    """Correct answers needed to pass: 60% of the questions, rounded up. DOMAIN.md has no rule of its own;
    60% is the usual 及格 line, and rounding up means a 5-question quiz needs 3."""
    return -(-question_count * 3 // 5)


class QuizKind(enum.Enum):
    Weekly = "weekly"
    Test = "test"


def check_questions(questions: list[dict[str, Any]]) -> None:
    ids = [q["id"] for q in questions]
    if len(set(ids)) != len(ids):
        raise InvalidSchedule("question ids are unique in a bank", field="questions")
    for q in questions:
        if not 0 <= q["answer"] < len(q["options"]):
            raise InvalidSchedule(f"question {q['id']}: the answer is one of its options", field="questions")


class QuestionBank(Aggregate):
    TOPIC = "lianxin.learning.QuestionBank"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.learning.QuestionBank.Created"

    class Opened(Created):
        TOPIC = "lianxin.learning.QuestionBank.Opened"
        tenant_id: str
        title: str
        questions: list[dict[str, Any]]
        meta: dict[str, Any]

    class QuestionsAdded(Event):
        TOPIC = "lianxin.learning.QuestionBank.QuestionsAdded"
        questions: list[dict[str, Any]]
        meta: dict[str, Any]

    @event(Opened)
    def __init__(
        self, *, id: UUID, tenant_id: str, title: str, questions: list[dict[str, Any]], meta: dict[str, Any]
    ) -> None:
        self.tenant_id = tenant_id
        self.title = title
        self.questions = list(questions)

    @classmethod
    def open(
        cls, *, id: UUID, tenant_id: str, title: str, questions: list[dict[str, Any]], meta: dict[str, Any]
    ) -> QuestionBank:
        check_questions(questions)
        return cls(id=id, tenant_id=tenant_id, title=title, questions=questions, meta=meta)

    def add_questions(self, questions: list[dict[str, Any]], meta: dict[str, Any]) -> None:
        check_questions(self.questions + questions)
        self._questions_added(questions=questions, meta=meta)

    @event(QuestionsAdded)
    def _questions_added(self, questions: list[dict[str, Any]], meta: dict[str, Any]) -> None:
        self.questions.extend(questions)


class Quiz(Aggregate):
    """A copy of the questions is taken when the quiz is scheduled: later bank edits do not change a running quiz."""

    TOPIC = "lianxin.learning.Quiz"

    class Event(Aggregate.Event):
        pass

    class Created(Event, Aggregate.Created):
        TOPIC = "lianxin.learning.Quiz.Created"

    class Scheduled(Created):
        TOPIC = "lianxin.learning.Quiz.Scheduled"
        tenant_id: str
        kind: QuizKind
        title: str
        bank_id: UUID
        questions: list[dict[str, Any]]
        organisation_ids: list[UUID]
        opens_at: datetime
        closes_at: datetime
        first_correct_rule: bool
        meta: dict[str, Any]

    class Answered(Event):
        TOPIC = "lianxin.learning.Quiz.Answered"
        member_id: UUID
        organisation_id: UUID
        question_id: str
        choice: int
        correct: bool
        first_correct: bool
        at: datetime

    class Completed(Event):
        """The member answered the quiz's last question: the score, for learning's integration event."""

        TOPIC = "lianxin.learning.Quiz.Completed"
        tenant_id: str
        member_id: UUID
        organisation_id: UUID
        score: int
        question_count: int
        passed: bool
        at: datetime

    @event(Scheduled)
    def __init__(
        self,
        *,
        id: UUID,
        tenant_id: str,
        kind: QuizKind,
        title: str,
        bank_id: UUID,
        questions: list[dict[str, Any]],
        organisation_ids: list[UUID],
        opens_at: datetime,
        closes_at: datetime,
        first_correct_rule: bool,
        meta: dict[str, Any],
    ) -> None:
        self.tenant_id = tenant_id
        self.kind = kind
        self.title = title
        self.questions = {q["id"]: q for q in questions}
        self.organisation_ids = list(organisation_ids)
        self.opens_at = opens_at
        self.closes_at = closes_at
        self.first_correct_rule = first_correct_rule
        self.answered: dict[str, bool] = {}
        self.first_correct_by: dict[str, UUID] = {}
        self.scores: dict[str, int] = {}

    @classmethod
    def schedule(
        cls,
        *,
        id: UUID,
        tenant_id: str,
        kind: QuizKind,
        title: str,
        bank: QuestionBank,
        question_ids: list[str] | None,
        organisation_ids: list[UUID],
        opens_at: datetime,
        closes_at: datetime,
        first_correct_rule: bool,
        meta: dict[str, Any],
    ) -> Quiz:
        if closes_at <= opens_at:
            raise InvalidSchedule("a quiz closes after it opens", field="closes_at")
        chosen = [q for q in bank.questions if question_ids is None or q["id"] in question_ids]
        if not chosen:
            raise InvalidSchedule("a quiz has at least one question of the bank", field="question_ids")
        return cls(
            id=id,
            tenant_id=tenant_id,
            kind=kind,
            title=title,
            bank_id=bank.id,
            questions=chosen,
            organisation_ids=organisation_ids,
            opens_at=opens_at,
            closes_at=closes_at,
            first_correct_rule=first_correct_rule,
            meta=meta,
        )

    def answer(
        self, *, member_id: UUID, organisation_id: UUID, question_id: str, choice: int, at: datetime
    ) -> Quiz.Answered:
        """Recorded once per member per question, only inside the window; late and repeated answers are refused."""
        if at < self.opens_at:
            raise QuizWindowClosed("the quiz has not opened yet")
        if at >= self.closes_at:
            raise QuizWindowClosed("the quiz has closed; late answers are not recorded")
        question = self.questions.get(question_id)
        if question is None:
            raise InvalidSchedule(f"question {question_id} is not in this quiz", field="question_id")
        if f"{member_id}|{question_id}" in self.answered:
            raise AlreadyAnswered("this question was answered already; an answer is recorded once")
        correct = choice == question["answer"]
        first = correct and self.first_correct_rule and question_id not in self.first_correct_by
        self._answered(
            member_id=member_id,
            organisation_id=organisation_id,
            question_id=question_id,
            choice=choice,
            correct=correct,
            first_correct=first,
            at=at,
        )
        answered: Quiz.Answered = self.pending_events[-1]  # type: ignore[assignment]
        if all(f"{member_id}|{q}" in self.answered for q in self.questions):
            score = self.scores.get(str(member_id), 0)
            self._completed(
                tenant_id=self.tenant_id,
                member_id=member_id,
                organisation_id=organisation_id,
                score=score,
                question_count=len(self.questions),
                passed=score >= pass_mark(len(self.questions)),
                at=at,
            )
        return answered

    @event(Answered)
    def _answered(
        self,
        member_id: UUID,
        organisation_id: UUID,
        question_id: str,
        choice: int,
        correct: bool,
        first_correct: bool,
        at: datetime,
    ) -> None:
        self.answered[f"{member_id}|{question_id}"] = correct
        self.scores[str(member_id)] = self.scores.get(str(member_id), 0) + int(correct)
        if first_correct:
            self.first_correct_by[question_id] = member_id

    @event(Completed)
    def _completed(
        self,
        tenant_id: str,
        member_id: UUID,
        organisation_id: UUID,
        score: int,
        question_count: int,
        passed: bool,
        at: datetime,
    ) -> None:
        pass  # the score is already in self.scores; the event says the member is done

    def public_questions(self) -> list[dict[str, Any]]:
        """What a member sees: the questions and options, never the answers."""
        return [{"id": q["id"], "text": q["text"], "options": q["options"]} for q in self.questions.values()]
