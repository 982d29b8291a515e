"""Quiz use cases: banks, scheduling with a window, answering once, scoring and points."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from learning.application.base import LearningBase
from learning.domain import QuestionBank, Quiz, QuizKind
from learning.domain.errors import NotEligible, QuestionBankNotFound, QuizNotFound


class QuizUseCases(LearningBase):
    def open_bank(
        self,
        *,
        bank_id: UUID,
        tenant_id: str,
        title: str,
        questions: list[dict[str, Any]],
        meta: dict[str, Any],
    ) -> QuestionBank:
        bank = QuestionBank.open(id=bank_id, tenant_id=tenant_id, title=title, questions=questions, meta=meta)
        self.save(bank)
        return bank

    def add_questions(
        self, tenant_id: str, bank_id: UUID, questions: list[dict[str, Any]], meta: dict[str, Any]
    ) -> QuestionBank:
        bank = self.load(QuestionBank, tenant_id, bank_id, QuestionBankNotFound)
        bank.add_questions(questions, meta)
        self.save(bank)
        return bank

    def schedule_quiz(
        self,
        *,
        quiz_id: UUID,
        tenant_id: str,
        kind: QuizKind,
        title: str,
        bank_id: UUID,
        question_ids: list[str] | None,
        organisation_ids: list[UUID],
        opens_at: datetime,
        closes_at: datetime,
        meta: dict[str, Any],
    ) -> Quiz:
        bank = self.load(QuestionBank, tenant_id, bank_id, QuestionBankNotFound)
        quiz = Quiz.schedule(
            id=quiz_id,
            tenant_id=tenant_id,
            kind=kind,
            title=title,
            bank=bank,
            question_ids=question_ids,
            organisation_ids=organisation_ids,
            opens_at=opens_at,
            closes_at=closes_at,
            first_correct_rule=self.options(tenant_id).first_correct_rule,
            meta=meta,
        )
        self.save(quiz)
        return quiz

    def get_quiz(self, tenant_id: str, quiz_id: UUID) -> Quiz:
        return self.load(Quiz, tenant_id, quiz_id, QuizNotFound)

    def answer(
        self, tenant_id: str, quiz_id: UUID, member_id: UUID, question_id: str, choice: int
    ) -> Quiz.Answered:
        """The answer, its points and (with the tenant's rule on) the first-correct bonus commit together."""

        def command() -> Quiz.Answered:
            quiz = self.get_quiz(tenant_id, quiz_id)
            _, branch = self.participant(tenant_id, member_id)
            if quiz.organisation_ids and branch not in quiz.organisation_ids:
                raise NotEligible("this quiz is not assigned to the member's branch")
            now = self.now()
            answered = quiz.answer(
                member_id=member_id, organisation_id=branch, question_id=question_id, choice=choice, at=now
            )
            points: list[Aggregate] = []
            action = f"quiz:{quiz_id}:{question_id}"
            if answered.correct:
                points += self.points_for(
                    tenant_id=tenant_id,
                    member_id=member_id,
                    organisation_id=branch,
                    rule="quiz_correct_answer",
                    action_id=action,
                    cause=f"correct answer in {quiz.title}",
                    at=now,
                )
            if answered.first_correct:
                points += self.points_for(
                    tenant_id=tenant_id,
                    member_id=member_id,
                    organisation_id=branch,
                    rule="quiz_first_correct",
                    action_id=action,
                    cause=f"first correct answer in {quiz.title}",
                    at=now,
                )
            self.save(quiz, *points)
            return answered

        return self.retrying(command)
