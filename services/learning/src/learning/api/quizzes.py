"""Question banks and quizzes: windows, one answer per member per question, scores."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, Field

from learning.api.common import (
    Anyone,
    IdempotencyKey,
    Learning,
    Members,
    Secretaries,
    Strict,
    Timestamp,
    content_scope,
    member_id_of,
    require_org,
    require_visible,
    visible_orgs,
)
from learning.domain import Quiz, QuizKind
from learning.domain.errors import QuizNotFound
from learning.readmodels import queries
from shared.idempotency import idempotent_create
from shared.meta import event_meta
from shared.runtime import RuntimeDep
from shared.threads import run_sync


class QuestionIn(Strict):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    text: str = Field(min_length=1, max_length=2000)
    options: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(min_length=2, max_length=10)
    answer: int = Field(ge=0, description="index of the correct option")


class BankIn(Strict):
    title: str = Field(min_length=1, max_length=200)
    questions: list[QuestionIn] = Field(min_length=1, max_length=1000)


class QuestionsIn(Strict):
    questions: list[QuestionIn] = Field(min_length=1, max_length=1000)


class QuizIn(Strict):
    kind: Literal["weekly", "test"]
    title: str = Field(min_length=1, max_length=200)
    bank_id: UUID
    question_ids: list[str] | None = Field(default=None, description="default: every question of the bank")
    organisation_ids: list[UUID] = Field(default_factory=list, description="empty: the whole tenant")
    opens_at: AwareDatetime
    closes_at: AwareDatetime


class AnswerIn(Strict):
    question_id: str = Field(min_length=1, max_length=64)
    choice: int = Field(ge=0, le=20)


class QuestionOut(BaseModel):
    id: str
    text: str
    options: list[str]


class QuizOut(BaseModel):
    id: UUID
    kind: Literal["weekly", "test"]
    title: str
    opens_at: Timestamp
    closes_at: Timestamp
    first_correct_rule: bool
    organisation_ids: list[UUID]
    questions: list[QuestionOut] = Field(description="the questions and options, never the answers")


class BankOut(BaseModel):
    id: UUID
    title: str
    questions: int = Field(description="how many questions the bank holds")


class QuizRowOut(BaseModel):
    id: UUID
    kind: Literal["weekly", "test"]
    title: str
    opens_at: Timestamp
    closes_at: Timestamp
    question_count: int


class AnsweredOut(BaseModel):
    quiz_id: UUID
    question_id: str
    correct: bool
    first_correct: bool


class ScoreOut(BaseModel):
    member_id: UUID
    answered: int
    score: int
    first_correct: int


class ResultsOut(BaseModel):
    quiz_id: UUID
    questions: int
    members: list[ScoreOut]


def quiz_out(q: Quiz) -> dict[str, Any]:
    return {
        "id": str(q.id),
        "kind": q.kind.value,
        "title": q.title,
        "opens_at": q.opens_at.isoformat(),
        "closes_at": q.closes_at.isoformat(),
        "first_correct_rule": q.first_correct_rule,
        "organisation_ids": [str(o) for o in q.organisation_ids],
        "questions": q.public_questions(),
    }


banks = APIRouter(prefix="/v1/question-banks", tags=["quizzes"])
quizzes = APIRouter(prefix="/v1/quizzes", tags=["quizzes"])


@banks.post("", response_model=BankOut, status_code=201, summary="Open a question bank")
async def open_bank(
    body: BankIn,
    user: Secretaries,
    runtime: RuntimeDep,
    learning: Learning,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def create(bank_id: UUID) -> dict[str, Any]:
        bank = await run_sync(
            learning.open_bank,
            bank_id=bank_id,
            tenant_id=user.tenant,
            title=body.title,
            questions=[q.model_dump() for q in body.questions],
            meta=dict(event_meta(user.subject)),
        )
        return {"id": str(bank.id), "title": bank.title, "questions": len(bank.questions)}

    return await idempotent_create(
        runtime.pool,
        tenant=user.tenant,
        key=idempotency_key,
        route="POST /v1/question-banks",
        payload=body.model_dump(mode="json"),
        create=create,
    )


@banks.post("/{bank_id}/questions", response_model=BankOut, summary="Add questions to a bank")
async def add_questions(
    bank_id: UUID, body: QuestionsIn, user: Secretaries, learning: Learning
) -> dict[str, Any]:
    bank = await run_sync(
        learning.add_questions,
        user.tenant,
        bank_id,
        [q.model_dump() for q in body.questions],
        dict(event_meta(user.subject)),
    )
    return {"id": str(bank.id), "title": bank.title, "questions": len(bank.questions)}


@quizzes.post(
    "",
    response_model=QuizOut,
    status_code=201,
    summary="Schedule a weekly quiz or a one-off test with a time window",
)
async def schedule(
    body: QuizIn,
    user: Secretaries,
    runtime: RuntimeDep,
    learning: Learning,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    for org in body.organisation_ids:
        require_org(user, org)

    async def create(quiz_id: UUID) -> dict[str, Any]:
        quiz = await run_sync(
            learning.schedule_quiz,
            quiz_id=quiz_id,
            tenant_id=user.tenant,
            kind=QuizKind(body.kind),
            title=body.title,
            bank_id=body.bank_id,
            question_ids=body.question_ids,
            organisation_ids=body.organisation_ids,
            opens_at=body.opens_at,
            closes_at=body.closes_at,
            meta=dict(event_meta(user.subject)),
        )
        return quiz_out(quiz)

    return await idempotent_create(
        runtime.pool,
        tenant=user.tenant,
        key=idempotency_key,
        route="POST /v1/quizzes",
        payload=body.model_dump(mode="json"),
        create=create,
    )


@quizzes.get(
    "",
    response_model=list[QuizRowOut],
    summary="Quizzes: those of the whole tenant and of the branches the caller belongs to or holds",
)
async def list_quizzes(
    user: Anyone, runtime: RuntimeDep, learning: Learning, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[dict[str, Any]]:
    scope = await content_scope(user, learning)
    rows = await queries.quizzes(runtime.pool, user.tenant, scope=scope, limit=limit)
    return [
        {
            "id": str(r.id),
            "kind": r.kind,
            "title": r.title,
            "opens_at": r.opens_at.isoformat(),
            "closes_at": r.closes_at.isoformat(),
            "question_count": r.question_count,
        }
        for r in rows
    ]


@quizzes.get(
    "/{quiz_id}", response_model=QuizOut, summary="A quiz's questions and options (never the answers)"
)
async def get_quiz(quiz_id: UUID, user: Anyone, learning: Learning) -> dict[str, Any]:
    quiz = await run_sync(learning.get_quiz, user.tenant, quiz_id)
    await require_visible(user, learning, quiz.organisation_ids, QuizNotFound(f"quiz {quiz_id} not found"))
    return quiz_out(quiz)


@quizzes.post(
    "/{quiz_id}/answers",
    response_model=AnsweredOut,
    status_code=201,
    summary="Answer one question, once, inside the window; correct answers earn capped points",
)
async def answer(quiz_id: UUID, body: AnswerIn, user: Members, learning: Learning) -> dict[str, Any]:
    member_id = member_id_of(user)
    answered = await run_sync(learning.answer, user.tenant, quiz_id, member_id, body.question_id, body.choice)
    return {
        "quiz_id": str(quiz_id),
        "question_id": answered.question_id,
        "correct": answered.correct,
        "first_correct": answered.first_correct,
    }


@quizzes.get(
    "/{quiz_id}/results",
    response_model=ResultsOut,
    summary="Scores per member (a member sees only their own)",
)
async def results(quiz_id: UUID, user: Anyone, runtime: RuntimeDep, learning: Learning) -> dict[str, Any]:
    quiz = await run_sync(learning.get_quiz, user.tenant, quiz_id)
    only = (
        None
        if user.has_any("branch_secretary", "committee", "tenant_admin", "auditor")
        else member_id_of(user)
    )
    orgs = None if only else visible_orgs(user)
    rows = await queries.quiz_scores(runtime.pool, user.tenant, quiz_id, only=only, orgs=orgs)
    return {
        "quiz_id": str(quiz.id),
        "questions": len(quiz.questions),
        "members": [
            {
                "member_id": str(r.member_id),
                "answered": r.answered,
                "score": r.score,
                "first_correct": r.first_correct,
            }
            for r in rows
        ],
    }
