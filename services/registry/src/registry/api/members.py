"""Members: registration with the profile of DOMAIN.md section 3, masked reads, decisions, history."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from registry.api.common import (
    UNMASKING_ROLES,
    Admins,
    IdempotencyKey,
    MemberReaders,
    Readers,
    Registrars,
    Registrations,
    Registry,
    RuntimeDep,
    Strict,
    in_scope,
)
from registry.api.models import HistoryEntry, MemberOut, history_entry, member_out
from registry.application import RegistryApplication
from registry.application.members import Registration
from registry.domain import DecisionKind, MemberCategory, MemberNotFound
from registry.domain.categories import OCCUPATIONS
from registry.readmodels import queries
from registry.readmodels.queries import RollPage, members_page
from shared.auth import Principal, require_scope
from shared.errors import Forbidden
from shared.eventstore import IntegrityError
from shared.fieldcrypt import FieldCipher
from shared.idempotency import idempotent_create
from shared.meta import event_meta
from shared.oauth import SCOPE_LETTER_FACTS, SCOPE_NAMES, SCOPE_PHONES
from shared.threads import run_sync

router = APIRouter(prefix="/v1/members", tags=["members"])

OCCUPATION = Literal[
    "worker",
    "farmer_herder_fisher",
    "professional",
    "manager",
    "civil_servant",
    "student",
    "other",
    "retired",
]
INDUSTRY_CODES = Literal[
    "state_owned_enterprise",
    "private_enterprise",
    "rural",
    "party_government_organ",
    "school",
    "other_public_institution",
    "street_community",
    "social_organisation",
    "other",
]


class Profile(Strict):
    name: str = Field(min_length=1, max_length=100, examples=["张三"])
    gender: Literal["male", "female"] | None = None
    ethnicity: str | None = Field(default=None, max_length=20, examples=["汉族"])
    birth_date: date | None = None
    education: str | None = Field(default=None, max_length=50, examples=["本科"])
    national_id_number: str | None = Field(
        default=None, min_length=1, max_length=18, description="validated: length, birth date, check digit"
    )
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9-]{5,20}$")
    joined_on: date | None = Field(default=None, description="入党日期")
    regularised_on: date | None = Field(default=None, description="转正日期")
    employer: str | None = Field(default=None, max_length=200)
    industry_code: INDUSTRY_CODES | None = None
    occupation: OCCUPATION | None = Field(
        default=None,
        description="职业, the 党内统计 class: " + ", ".join(f"{k} {v}" for k, v in OCCUPATIONS.items()),
    )


class MemberIn(Profile):
    organisation_id: UUID
    category: Literal["full", "probationary"]


class ProfileCorrection(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    gender: Literal["male", "female"] | None = None
    ethnicity: str | None = Field(default=None, max_length=20)
    education: str | None = Field(default=None, max_length=50)
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9-]{5,20}$")
    employer: str | None = Field(default=None, max_length=200)
    industry_code: INDUSTRY_CODES | None = None
    occupation: OCCUPATION | None = Field(
        default=None,
        description="职业, the 党内统计 class: " + ", ".join(f"{k} {v}" for k, v in OCCUPATIONS.items()),
    )
    joined_on: date | None = Field(
        default=None, description="入党日期: the 支部大会 date probation runs from"
    )


class DecisionIn(Strict):
    kind: Literal[
        "regularisation",
        "probation_extension",
        "probation_cancellation",
        "suspension",
        "reinstatement",
        "striking_off",
    ]
    decided_on: date
    decided_by: str = Field(
        min_length=1, max_length=200, description="the body that decided, e.g. 支部党员大会"
    )
    basis: str = Field(
        min_length=1, max_length=500, description="the meeting or document the decision rests on"
    )
    details: dict[str, Any] = Field(default_factory=dict, description='e.g. {"months": 6} for an extension')


class MemberSummary(BaseModel):
    id: UUID
    name: str | None
    organisation_id: UUID
    category: str
    standing: str
    roll: str
    transfer_pending: str | None
    national_id_number: str | None
    phone: str | None
    registered_on: date


class MemberPage(BaseModel):
    items: list[MemberSummary]
    next_cursor: str | None


@router.post("", status_code=201, response_model=MemberOut, summary="Register a member in a branch")
async def register_member(
    body: MemberIn,
    user: Registrars,
    runtime: RuntimeDep,
    registry: Registry,
    batcher: Registrations,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    if not in_scope(user, body.organisation_id):
        raise Forbidden(
            "a branch secretary registers members only in the branches they hold", field="organisation_id"
        )
    profile = body.model_dump(exclude={"organisation_id", "category"}, exclude_none=True)

    async def create(member_id: UUID) -> dict[str, Any]:
        try:
            member = await batcher.submit(
                Registration(
                    member_id=member_id,
                    tenant_id=user.tenant,
                    organisation_id=body.organisation_id,
                    category=MemberCategory(body.category),
                    profile=profile,
                    meta=event_meta(user.subject),
                )
            )
        except IntegrityError:
            # A retry whose first attempt stored the member but never answered: the id comes from the key.
            member = await run_sync(registry.get_member, user.tenant, member_id)
        return member_out(member).model_dump(mode="json")

    return await idempotent_create(
        runtime.pool,
        tenant=user.tenant,
        key=idempotency_key,
        route="POST /v1/members",
        payload=body.model_dump(mode="json"),
        create=create,
    )


@router.get(
    "", response_model=MemberPage, summary="The roll: filter by organisation, category, standing, roll"
)
async def list_members(
    user: Readers,
    runtime: RuntimeDep,
    organisation_id: UUID | None = None,
    category: Literal["full", "probationary"] | None = None,
    standing: Literal["active", "suspended"] | None = None,
    mobile: Annotated[
        bool | None, Query(description="only members with (or without) an open mobile registration")
    ] = None,
    contact: Literal["normal", "at_risk", "lost_contact", "self_lapse_review"] | None = None,
    roll: Annotated[Literal["on_roll", "transferred_out", "struck_off"], Query()] = "on_roll",
    cursor: Annotated[UUID | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> MemberPage:
    scope = None if in_scope(user, "*") else sorted(user.orgs)
    page = RollPage(
        roll=roll,
        organisation_id=organisation_id,
        category=category,
        standing=standing,
        mobile=mobile,
        contact=contact,
        organisations=scope,
        after=cursor,
        limit=limit + 1,
    )
    rows = await members_page(runtime.pool, user.tenant, page)
    cipher: FieldCipher = runtime.extras["cipher"]
    items = [
        MemberSummary(
            id=r["id"],
            name=cipher.open(r["name_sealed"], "name"),
            organisation_id=r["organisation_id"],
            category=r["category"],
            standing=r["standing"],
            roll=r["roll"],
            transfer_pending=r["hold_case_id"],
            national_id_number=r["national_id_masked"],
            phone=r["phone_masked"],
            registered_on=r["registered_on"],
        )
        for r in rows[:limit]
    ]
    return MemberPage(items=items, next_cursor=str(items[-1].id) if len(rows) > limit else None)


# The most member ids one names lookup takes: a page of a work list, not the roll.
MAX_NAMES = 200


class MemberName(BaseModel):
    id: UUID
    name: str | None = Field(description="null once the member's personal data is erased")


class MemberNames(BaseModel):
    items: list[MemberName]


@router.get(
    "/-/names",
    response_model=MemberNames,
    summary="The names of these members (at most 200 ids): the ones outside the caller's scope are left out",
)
async def member_names(
    user: MemberReaders,
    runtime: RuntimeDep,
    id: Annotated[
        list[UUID],
        Query(
            min_length=1, max_length=MAX_NAMES, description=f"a member's id, repeated, at most {MAX_NAMES}"
        ),
    ],
) -> MemberNames:
    require_scope(user, SCOPE_NAMES)  # notify names the member of a notice; people are bound by their roles
    scope = None if in_scope(user, "*") else sorted(user.orgs)
    rows = await queries.member_names(runtime.pool, user.tenant, sorted(set(id)), organisations=scope)
    cipher: FieldCipher = runtime.extras["cipher"]
    return MemberNames(
        items=[MemberName(id=r["id"], name=cipher.open(r["name_sealed"], "name")) for r in rows]
    )


Unmasked = Annotated[bool, Query(description="needs committee rights and a purpose; the read is recorded")]
Purpose = Annotated[str | None, Query(max_length=200, description="why, when unmasked")]


async def readable_member(
    registry: RegistryApplication, user: Principal, member_id: UUID, *, unmasked: bool, purpose: str | None
) -> Any:
    """The member in the user's scope; unmasked only with committee rights and a purpose, and then recorded."""
    member = await run_sync(registry.get_member, user.tenant, member_id)
    if not in_scope(user, member.organisation_id):
        raise MemberNotFound(f"member {member_id} not found")
    if unmasked:
        if not user.has_any(*UNMASKING_ROLES):
            raise Forbidden("unmasked personal data needs committee rights", field="unmasked")
        if not purpose:
            raise Forbidden("say why you read unmasked personal data", field="purpose")
        member = await run_sync(
            lambda: registry.disclose(
                user.tenant, member_id, by=user.subject, purpose=purpose, meta=event_meta(user.subject)
            )
        )
    return member


@router.get(
    "/{member_id}", response_model=MemberOut, summary="One member; personal data masked unless asked for"
)
async def get_member(
    member_id: UUID,
    user: MemberReaders,
    registry: Registry,
    unmasked: Unmasked = False,
    purpose: Purpose = None,
) -> MemberOut:
    require_scope(user, SCOPE_LETTER_FACTS, SCOPE_NAMES, SCOPE_PHONES)
    if unmasked and user.has_any("service"):
        require_scope(user, SCOPE_LETTER_FACTS, SCOPE_PHONES)
    member = await readable_member(registry, user, member_id, unmasked=unmasked, purpose=purpose)
    return _for_scopes(user, member_out(member, unmasked=unmasked))


PERSONAL_OUT = (
    "gender",
    "ethnicity",
    "birth_date",
    "education",
    "national_id_number",
    "phone",
    "joined_on",
    "regularised_on",
    "employer",
    "industry_code",
    "occupation",
)


def _for_scopes(user: Principal, out: MemberOut) -> MemberOut:
    """A service gets the fields its token's scopes name: notify a name (and a phone), transfer the letter's."""
    if not user.has_any("service") or SCOPE_LETTER_FACTS in user.scopes:
        return out
    keep = {"phone"} if SCOPE_PHONES in user.scopes else set()
    return out.model_copy(update={f: None for f in PERSONAL_OUT if f not in keep})


@router.patch(
    "/{member_id}", response_model=MemberOut, summary="Correct the profile (each correction is an event)"
)
async def correct_profile(
    member_id: UUID, body: ProfileCorrection, user: Registrars, registry: Registry
) -> MemberOut:
    current = await run_sync(registry.get_member, user.tenant, member_id)
    if not in_scope(user, current.organisation_id):
        raise MemberNotFound(f"member {member_id} not found")
    member = await run_sync(
        lambda: registry.correct_profile(
            user.tenant, member_id, body.model_dump(exclude_none=True), event_meta(user.subject)
        )
    )
    return member_out(member)


@router.post(
    "/{member_id}/decisions",
    response_model=MemberOut,
    summary="Record a decision taken by the branch or committee (转正, 延长预备期, 取消预备资格, 停止党籍, 恢复党籍, "
    "除名)",
)
async def record_decision(member_id: UUID, body: DecisionIn, user: Admins, registry: Registry) -> MemberOut:
    member = await run_sync(
        lambda: registry.record_decision(
            user.tenant,
            member_id,
            kind=DecisionKind(body.kind),
            decided_on=body.decided_on,
            decided_by=body.decided_by,
            basis=body.basis,
            details=body.details,
            meta=event_meta(user.subject),
        )
    )
    return member_out(member)


class ErasureIn(Strict):
    basis: str = Field(
        min_length=3,
        max_length=500,
        description="the legal basis: request, law, decision",
        examples=["本人申请删除个人信息（个人信息保护法第四十七条）"],
    )


@router.post(
    "/{member_id}/erasure",
    response_model=MemberOut,
    summary="Erase the member's personal data (crypto-shredding); refused during a pending transfer",
    description="Records the decision (who, basis) as an event, then destroys the member's personal "
    "data key: name, ID number, phone and birth date are unreadable afterwards in every "
    "event, read model and rebuilt projection, while the events still count and verify. The "
    "erasure is published (personal_data_erased): transfer and notify destroy their copies.",
)
async def erase_personal_data(
    member_id: UUID, body: ErasureIn, user: Admins, registry: Registry
) -> MemberOut:
    current = await run_sync(registry.get_member, user.tenant, member_id)
    if not in_scope(user, current.organisation_id):
        raise MemberNotFound(f"member {member_id} not found")
    member = await run_sync(
        lambda: registry.erase_personal_data(
            user.tenant, member_id, by=user.subject, basis=body.basis, meta=event_meta(user.subject)
        )
    )
    return member_out(member)


@router.get(
    "/{member_id}/history",
    response_model=list[HistoryEntry],
    summary="The member's stored events, in order, with who did what and when",
)
async def member_history(
    member_id: UUID, user: Readers, registry: Registry, unmasked: Unmasked = False, purpose: Purpose = None
) -> list[HistoryEntry]:
    """Masked like the member itself: the full ID number and phone only with a purpose, and the read recorded."""
    await readable_member(registry, user, member_id, unmasked=unmasked, purpose=purpose)
    events = await run_sync(registry.member_history, user.tenant, member_id)
    return [history_entry(e, unmasked=unmasked) for e in events]
