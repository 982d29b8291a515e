"""Public verification of letters (no token): by code, by the signed fields offline, and the tenants' keys."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from shared.auth import CurrentUser, TenantRateLimiter
from shared.errors import Forbidden, TooManyRequests
from shared.meta import event_meta
from shared.runtime import RuntimeDep
from shared.text import StrictModel
from shared.threads import run_sync
from transfer.api.common import COMMITTEE, Transfers
from transfer.api.letter_print import verification_html
from transfer.domain import LETTER_FIELDS, verify_signature
from transfer.readmodels import queries
from transfer.readmodels.queries import LetterRow


async def public_rate_limit(request: Request, runtime: RuntimeDep) -> None:
    """A token bucket per client address: the public endpoints need no token, so a guesser is slowed here."""
    limiter: TenantRateLimiter = runtime.extras["public_limiter"]
    client = request.client.host if request.client else "unknown"
    if not limiter.allow(f"ip:{client}"):
        raise TooManyRequests("too many letter checks from this address; retry in a minute")


PublicLimit = [Depends(public_rate_limit)]
router = APIRouter(
    tags=["letters (public)"],
    responses={429: {"description": "Too many checks from this address (public endpoints)"}},
)


class Verification(BaseModel):
    status: str = Field(description="valid, voided, expired, completed or unknown")
    letter_no: str | None = None
    name: str | None = Field(default=None, description="masked")
    from_org: str | None = None
    to_org: str | None = None
    issued_on: date | None = None
    expires_on: date | None = None
    tenant: str | None = None
    kid: str | None = None


class SignedLetter(StrictModel):
    model_config = ConfigDict(str_strip_whitespace=False)  # the printed fields are checked exactly as sent
    fields: dict[str, Any] = Field(description="every field printed on the letter, exactly")
    signature: str


class SignatureCheck(BaseModel):
    signature_valid: bool
    status: str
    reason: str | None = None


class PublicKey(BaseModel):
    kid: str
    alg: str
    crv: str
    public_pem: str
    since: date


class LetterKeys(BaseModel):
    tenant: str
    keys: list[PublicKey]
    signed_fields: list[str]
    canonical_form: str


class KeyRotation(BaseModel):
    tenant: str
    current: str | None
    keys: list[PublicKey]


class Policy(BaseModel):
    """Letter validity in days: the defaults and the caps."""

    in_province_days: int
    graduate_or_cross_province_days: int
    cap_days: int
    cross_province_cap_days: int


class ConfirmIn(StrictModel):
    receiving_org_name: str = Field(min_length=1, max_length=200)
    handler_name: str = Field(min_length=1, max_length=50)
    handler_phone: str = Field(min_length=1, max_length=50)


async def _status(runtime: Any, code: str) -> tuple[LetterRow | None, str]:
    return await queries.letter_by_code(runtime.pool, code, runtime.clock.now().date())


def wants_html(request: Request) -> bool:
    """A browser (the QR code scanned by a phone) asks for text/html before JSON; a program asks for JSON."""
    accept = request.headers.get("accept", "")
    html_at, json_at = accept.find("text/html"), accept.find("application/json")
    return html_at >= 0 and (json_at < 0 or html_at < json_at)


async def _verification(code: str, runtime: Any) -> Verification:
    row, status = await _status(runtime, code)
    if row is None:
        return Verification(status="unknown")
    return Verification(
        status=status,
        letter_no=row.letter_no,
        name=row.masked_name,
        from_org=row.from_org,
        to_org=row.to_org,
        issued_on=row.issued_on,
        expires_on=row.expires_on,
        tenant=row.tenant,
        kid=row.kid,
    )


@router.get(
    "/v1/letters/verify/{code}",
    response_model=Verification,
    dependencies=PublicLimit,
    responses={
        200: {
            "content": {"text/html": {}},
            "description": "JSON, or the Chinese page for a browser (Accept: text/html)",
        }
    },
    summary="Check a letter by its code (the QR code's page): valid, voided, expired, completed or unknown",
)
async def verify_by_code(code: str, request: Request, runtime: RuntimeDep) -> Verification | HTMLResponse:
    verification = await _verification(code, runtime)
    if wants_html(request):
        return HTMLResponse(
            verification_html(verification.status, verification.model_dump(mode="json"), code)
        )
    return verification


@router.post(
    "/v1/letters/verify",
    response_model=SignatureCheck,
    dependencies=PublicLimit,
    summary="Check the signature of a letter's printed fields against the issuing tenant's public key",
)
async def verify_signed(body: SignedLetter, runtime: RuntimeDep, transfers: Transfers) -> SignatureCheck:
    missing = [f for f in LETTER_FIELDS if f not in body.fields]
    if missing:
        return SignatureCheck(
            signature_valid=False, status="unknown", reason=f"missing fields: {', '.join(missing)}"
        )
    keys = await run_sync(transfers.keys, str(body.fields["tenant"]))
    key = keys.keys.get(str(body.fields["kid"])) if keys else None
    if key is None:
        return SignatureCheck(signature_valid=False, status="unknown", reason="no such key for that tenant")
    valid = verify_signature(key["public_pem"], {f: body.fields[f] for f in LETTER_FIELDS}, body.signature)
    _, status = await _status(runtime, str(body.fields["code"]))
    return SignatureCheck(
        signature_valid=valid,
        status=status if valid else "forged or altered",
        reason=None if valid else "the signature does not match these fields",
    )


@router.get(
    "/v1/tenants/{tenant}/letter-keys",
    response_model=LetterKeys,
    dependencies=PublicLimit,
    summary="The tenant's public keys, old ones included (offline checks)",
)
async def letter_keys(tenant: str, transfers: Transfers) -> LetterKeys:
    keys = await run_sync(transfers.keys, tenant)
    return LetterKeys(
        tenant=tenant,
        keys=[PublicKey(**k) for k in keys.public_keys()] if keys else [],
        signed_fields=list(LETTER_FIELDS),
        canonical_form="JSON, keys sorted, no spaces, UTF-8",
    )


@router.post(
    "/v1/letters/verify/{code}/confirm",
    response_model=Verification,
    dependencies=PublicLimit,
    summary="Off the platform: the receiving organisation confirms receipt of the member with the code",
)
async def confirm(code: str, body: ConfirmIn, runtime: RuntimeDep, transfers: Transfers) -> Verification:
    row, status = await _status(runtime, code)
    if row is None or status != "valid":
        return Verification(status=status)
    await run_sync(
        transfers.confirm_by_code,
        code.upper(),
        body.model_dump(),
        row.case_id,
        event_meta(f"public:{body.handler_name}"),
    )
    return await _verification(code, runtime)


@router.post(
    "/v1/letter-keys/rotate",
    response_model=KeyRotation,
    summary="Start signing with a new key; earlier letters stay verifiable",
)
async def rotate(user: CurrentUser, transfers: Transfers) -> KeyRotation:
    if not user.has_any(*COMMITTEE):
        raise Forbidden("key rotation needs the committee or a tenant administrator")
    keys = await run_sync(transfers.rotate_keys, user.tenant)
    return KeyRotation(
        tenant=user.tenant, current=keys.current, keys=[PublicKey(**k) for k in keys.public_keys()]
    )


class PolicyIn(StrictModel):
    in_province_days: int | None = Field(default=None, ge=1, le=180)
    graduate_or_cross_province_days: int | None = Field(default=None, ge=1, le=180)
    cap_days: int | None = Field(default=None, ge=1, le=90)
    cross_province_cap_days: int | None = Field(default=None, ge=1, le=180)


@router.get(
    "/v1/transfer-policy",
    response_model=Policy,
    tags=["transfers"],
    summary="The tenant's letter validity defaults and caps",
)
async def read_policy(user: CurrentUser, transfers: Transfers) -> Policy:
    return Policy(**(await run_sync(transfers.policy, user.tenant)).values)


@router.put(
    "/v1/transfer-policy",
    response_model=Policy,
    tags=["transfers"],
    summary="Change the defaults and caps (an event)",
)
async def change_policy(body: PolicyIn, user: CurrentUser, transfers: Transfers) -> Policy:
    if not user.has_any(*COMMITTEE):
        raise Forbidden("the policy is the committee's")
    policy = await run_sync(
        transfers.change_policy, user.tenant, body.model_dump(exclude_none=True), event_meta(user.subject)
    )
    return Policy(**policy.values)
