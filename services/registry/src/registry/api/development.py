"""发展党员 over HTTP: records from 入党申请 to admission, each step a recorded decision; what is missing; work lists."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from registry.api.common import IdempotencyKey, Readers, Registrars, Registry, RuntimeDep, Strict, in_scope
from registry.application import RegistryApplication
from registry.application.development import readiness
from registry.domain.development import STAGE_WORDS, DevelopmentNotFound, DevelopmentRecord, Stage
from registry.readmodels import queries
from shared.auth import Principal
from shared.envelope import TENANT_PATTERN
from shared.errors import Forbidden
from shared.fieldcrypt import FieldCipher
from shared.idempotency import idempotent_create
from shared.meta import event_meta
from shared.threads import run_sync

router = APIRouter(prefix="/v1/development", tags=["member development"])


class ApplicationIn(Strict):
    organisation_id: UUID = Field(description="the branch that received the 入党申请书")
    name: str = Field(min_length=1, max_length=100)
    gender: Literal["male", "female"] | None = None
    ethnicity: str | None = Field(default=None, max_length=20)
    birth_date: date | None = None
    education: str | None = Field(default=None, max_length=50)
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9-]{5,20}$")
    applied_on: date = Field(description="the date on the 入党申请书")


class DecisionIn(Strict):
    stage: Literal["activist", "candidate", "probationary", "closed"]
    decided_on: date
    decided_by: str = Field(min_length=1, max_length=200, examples=["支部委员会", "支部大会"])
    basis: str = Field(min_length=1, max_length=1000, examples=["党员推荐、群团组织推优"])
    branch_assembly_on: date | None = Field(default=None, description="预备党员: the 支部大会's date")
    approved_on: date | None = Field(default=None, description="预备党员: the upper committee's approval")
    approved_by: str | None = Field(
        default=None, max_length=200, description="预备党员: the approving committee"
    )


class ContactPersonsIn(Strict):
    persons: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(min_length=1, max_length=3)
    on: date | None = None


class ReportIn(Strict):
    on: date | None = None


class ReviewIn(Strict):
    on: date
    passed: bool
    reviewed_by: str = Field(min_length=1, max_length=200)
    summary: str = Field(min_length=1, max_length=1000)


class TrainingIn(Strict):
    course: str = Field(min_length=1, max_length=200)
    days: float = Field(ge=0, le=60)
    hours: float = Field(ge=0, le=500)
    on: date = Field(description="the day the training finished")


class SponsorsIn(Strict):
    sponsors: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(min_length=1, max_length=2)


class MoveIn(Strict):
    organisation_id: UUID


class MoveOutIn(Strict):
    to_tenant: str = Field(pattern=TENANT_PATTERN)


class ArrivalIn(Strict):
    source_record_id: UUID
    code: str = Field(min_length=1, max_length=100)
    organisation_id: UUID


class Missing(BaseModel):
    item: str
    message: str


class RecordOut(BaseModel):
    id: UUID
    organisation_id: UUID
    name: str
    stage: str
    stage_words: str
    applied_on: date
    since: dict[str, date] = Field(description="the date each stage began")
    next_stage: str | None
    missing: list[Missing] = Field(description="what the next step still needs today; the people decide")
    period_served_on: date | None = Field(description="发展对象: the day the activist year is served")
    contact_persons: list[str]
    thought_reports: list[date]
    training_days: float
    training_hours: float
    political_review: dict[str, Any] | None
    sponsors: list[str]
    decisions: list[dict[str, Any]]
    moves: list[dict[str, Any]]
    member_id: UUID | None = Field(description="the Member registered on admission as 预备党员")


class RecordSummary(BaseModel):
    id: UUID
    organisation_id: UUID
    name: str | None
    stage: str
    stage_since: date
    next_stage: str | None = None
    due: bool | None = None
    missing: list[Missing] | None = None


class MoveOutOut(BaseModel):
    record: RecordOut
    code: str = Field(description="give it to the receiving committee; shown once")


def record_out(record: DevelopmentRecord, today: date) -> RecordOut:
    ready = readiness(record, today)
    days, hours = record.training_totals()
    return RecordOut(
        id=record.id,
        organisation_id=record.organisation_id,
        name=record.name,
        stage=record.stage.value,
        stage_words=STAGE_WORDS[record.stage],
        applied_on=record.applied_on,
        since={k: v for k, v in record.since.items()},
        next_stage=ready["next_stage"],
        missing=[Missing(**m) for m in ready["missing"]],
        period_served_on=ready["period_served_on"],
        contact_persons=record.contact_persons,
        thought_reports=record.reports,
        training_days=days,
        training_hours=hours,
        political_review=record.review,
        sponsors=record.sponsors,
        decisions=record.decisions,
        moves=record.moves,
        member_id=record.member_id,
    )


async def _scoped(registry: RegistryApplication, user: Principal, record_id: UUID) -> DevelopmentRecord:
    record: DevelopmentRecord = await run_sync(registry.get_development, user.tenant, record_id)
    if not in_scope(user, record.organisation_id):
        raise DevelopmentNotFound(f"development record {record_id} not found")
    return record


def _today(runtime: Any) -> date:
    return runtime.clock.now().date()


@router.post(
    "/records",
    status_code=201,
    response_model=RecordOut,
    summary="Record an 入党申请 received by a branch: the record of an 入党申请人 opens",
)
async def open_record(
    body: ApplicationIn,
    user: Registrars,
    runtime: RuntimeDep,
    registry: Registry,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    if not in_scope(user, body.organisation_id):
        raise Forbidden(
            "a branch secretary records applications only in the branches they hold", field="organisation_id"
        )
    profile = body.model_dump(mode="json", exclude={"organisation_id", "applied_on"}, exclude_none=True)

    async def create(record_id: UUID) -> dict[str, Any]:
        record = await run_sync(
            lambda: registry.open_development(
                record_id=record_id,
                tenant_id=user.tenant,
                organisation_id=body.organisation_id,
                profile=profile,
                applied_on=body.applied_on,
                meta=event_meta(user.subject),
            )
        )
        return record_out(record, _today(runtime)).model_dump(mode="json")

    return await idempotent_create(
        runtime.pool,
        tenant=user.tenant,
        key=idempotency_key,
        route="POST /v1/development/records",
        payload=body.model_dump(mode="json"),
        create=create,
    )


@router.get(
    "/records/{record_id}", response_model=RecordOut, summary="One record: stages, decisions, what is missing"
)
async def read_record(record_id: UUID, user: Readers, runtime: RuntimeDep, registry: Registry) -> RecordOut:
    return record_out(await _scoped(registry, user, record_id), _today(runtime))


@router.post(
    "/records/{record_id}/decisions",
    response_model=RecordOut,
    responses={409: {"description": "development-not-ready: the problem lists `missing`"}},
    summary="Record a decision taken by people (支部委员会, 支部大会 and upper committee); refused while a "
    "period or record is missing. 预备党员 registers the Member and hands the record over",
)
async def decide(
    record_id: UUID, body: DecisionIn, user: Registrars, runtime: RuntimeDep, registry: Registry
) -> RecordOut:
    await _scoped(registry, user, record_id)
    details = body.model_dump(
        mode="json", include={"branch_assembly_on", "approved_on", "approved_by"}, exclude_none=True
    )
    record = await run_sync(
        lambda: registry.decide_development(
            user.tenant,
            record_id,
            stage=Stage(body.stage),
            decided_on=body.decided_on,
            decided_by=body.decided_by,
            basis=body.basis,
            details=details,
            meta=event_meta(user.subject),
        )
    )
    return record_out(record, _today(runtime))


async def _record(
    registry: RegistryApplication, runtime: Any, user: Principal, record_id: UUID, action: str, **values: Any
) -> RecordOut:
    await _scoped(registry, user, record_id)
    record = await run_sync(
        lambda: registry.record_development(
            user.tenant, record_id, action, event_meta(user.subject), **values
        )
    )
    return record_out(record, _today(runtime))


@router.post(
    "/records/{record_id}/contact-persons", response_model=RecordOut, summary="Assign the 培养联系人"
)
async def contact_persons(
    record_id: UUID, body: ContactPersonsIn, user: Registrars, runtime: RuntimeDep, registry: Registry
) -> RecordOut:
    return await _record(
        registry, runtime, user, record_id, "contact_persons", persons=body.persons, on=body.on
    )


@router.post(
    "/records/{record_id}/thought-reports",
    response_model=RecordOut,
    summary="Record a 思想汇报 handed in on paper (those submitted in learning are counted by themselves)",
)
async def thought_report(
    record_id: UUID, body: ReportIn, user: Registrars, runtime: RuntimeDep, registry: Registry
) -> RecordOut:
    return await _record(registry, runtime, user, record_id, "thought_report", on=body.on, source="branch")


@router.post(
    "/records/{record_id}/political-review",
    response_model=RecordOut,
    summary="The conclusion of the political review (政治审查) of a 发展对象",
)
async def political_review(
    record_id: UUID, body: ReviewIn, user: Registrars, runtime: RuntimeDep, registry: Registry
) -> RecordOut:
    return await _record(
        registry,
        runtime,
        user,
        record_id,
        "review",
        on=body.on,
        passed=body.passed,
        reviewed_by=body.reviewed_by,
        summary=body.summary,
    )


@router.post(
    "/records/{record_id}/training",
    response_model=RecordOut,
    summary="Concentrated training attended (集中培训): days and hours add up, also across moves",
)
async def training(
    record_id: UUID, body: TrainingIn, user: Registrars, runtime: RuntimeDep, registry: Registry
) -> RecordOut:
    return await _record(
        registry,
        runtime,
        user,
        record_id,
        "training",
        course=body.course,
        days=body.days,
        hours=body.hours,
        on=body.on,
    )


@router.post(
    "/records/{record_id}/sponsors", response_model=RecordOut, summary="The two 入党介绍人 (full members)"
)
async def sponsors(
    record_id: UUID, body: SponsorsIn, user: Registrars, runtime: RuntimeDep, registry: Registry
) -> RecordOut:
    return await _record(registry, runtime, user, record_id, "sponsors", sponsors=body.sponsors)


@router.post(
    "/records/{record_id}/move",
    response_model=RecordOut,
    summary="The person moved within the tenant: the record, its time and training go with them",
)
async def move(
    record_id: UUID, body: MoveIn, user: Registrars, runtime: RuntimeDep, registry: Registry
) -> RecordOut:
    return await _record(registry, runtime, user, record_id, "move", organisation_id=body.organisation_id)


@router.post(
    "/records/{record_id}/move-out",
    response_model=MoveOutOut,
    summary="The person moves to another tenant: a handover code for the receiving committee (细则 art. 12)",
)
async def move_out(
    record_id: UUID, body: MoveOutIn, user: Registrars, runtime: RuntimeDep, registry: Registry
) -> MoveOutOut:
    await _scoped(registry, user, record_id)
    record, code = await run_sync(
        lambda: registry.move_development_out(
            user.tenant, record_id, body.to_tenant, event_meta(user.subject)
        )
    )
    return MoveOutOut(record=record_out(record, _today(runtime)), code=code)


@router.post(
    "/arrivals",
    status_code=201,
    response_model=RecordOut,
    summary="The receiving tenant takes over a record moved out to it, with the code it was given",
)
async def arrival(body: ArrivalIn, user: Registrars, runtime: RuntimeDep, registry: Registry) -> RecordOut:
    if not in_scope(user, body.organisation_id):
        raise Forbidden(
            "a branch secretary receives only into the branches they hold", field="organisation_id"
        )
    record = await run_sync(
        lambda: registry.receive_development(
            tenant_id=user.tenant,
            source_id=body.source_record_id,
            code=body.code,
            organisation_id=body.organisation_id,
            new_id=uuid.uuid4(),
            meta=event_meta(user.subject),
        )
    )
    return record_out(record, _today(runtime))


async def _rows(runtime: Any, user: Principal, stages: list[str]) -> list[Any]:
    rows = await queries.development_records(runtime.pool, user.tenant, stages)
    return [r for r in rows if in_scope(user, r["organisation_id"])]


@router.get(
    "/records", response_model=list[RecordSummary], summary="Records by stage (the branches in scope)"
)
async def list_records(
    user: Readers,
    runtime: RuntimeDep,
    stage: Literal["applicant", "activist", "candidate", "probationary", "moved_out", "closed"] | None = None,
) -> list[RecordSummary]:
    stages: list[str] = [stage] if stage else ["applicant", "activist", "candidate"]
    cipher: FieldCipher = runtime.extras["cipher"]
    return [
        RecordSummary(
            id=r["id"],
            organisation_id=r["organisation_id"],
            name=cipher.open(r["name_sealed"], "name"),
            stage=r["stage"],
            stage_since=r["stage_since"],
        )
        for r in await _rows(runtime, user, stages)
    ]


@router.get(
    "/worklist",
    response_model=list[RecordSummary],
    summary="Who comes up for the next step: applicants and 发展对象 always, activists whose year is served "
    "within `days`; `due` when nothing is missing today, else what is",
)
async def worklist(
    user: Readers, runtime: RuntimeDep, registry: Registry, days: Annotated[int, Query(ge=0, le=365)] = 0
) -> list[RecordSummary]:
    today = _today(runtime)
    horizon = today + timedelta(days=days)
    rows = await _rows(runtime, user, ["applicant", "activist", "candidate"])
    cipher: FieldCipher = runtime.extras["cipher"]

    def check() -> list[RecordSummary]:
        out = []
        for r in rows:
            record = registry.get_development(user.tenant, r["id"])
            ready = readiness(record, today)
            served = ready["period_served_on"]
            if ready["next_stage"] is None or (served is not None and served > horizon):
                continue
            out.append(
                RecordSummary(
                    id=r["id"],
                    organisation_id=r["organisation_id"],
                    name=cipher.open(r["name_sealed"], "name"),
                    stage=r["stage"],
                    stage_since=r["stage_since"],
                    next_stage=ready["next_stage"],
                    due=not ready["missing"],
                    missing=[Missing(**m) for m in ready["missing"]],
                )
            )
        return out

    return await run_sync(check)
