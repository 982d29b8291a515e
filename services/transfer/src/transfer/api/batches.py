"""Graduation batches: a CSV of destinations validated row by row, approval of the whole batch, progress."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID, uuid4, uuid5

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from shared.auth import CurrentUser
from shared.errors import Forbidden, Invalid, NotFound
from shared.meta import event_meta
from shared.runtime import RuntimeDep
from shared.text import control_character, read_csv_rows
from shared.threads import run_sync
from transfer.api.common import COMMITTEE, Registry, Transfers
from transfer.api.models import CommitteeApprovalIn, approval_letter_fields
from transfer.application.registry_client import RegistryClient
from transfer.domain import BatchTransfer, DestinationKind
from transfer.readmodels import queries

router = APIRouter(prefix="/v1/transfer-batches", tags=["graduation batches"])
COLUMNS = ("member_id", "destination", "receiving_tenant", "receiving_org_id", "receiving_org_name", "reason")
BATCH_NAMESPACE = UUID("d2f4b6a8-1c3e-4f5a-9b7d-8e6c4a2b0f13")


class BatchOut(BaseModel):
    id: UUID
    title: str
    accepted: int
    rejected: list[dict[str, Any]]
    undecided: int
    cut_off: date | None
    cases: dict[str, str]
    progress: dict[str, int] = Field(default_factory=dict, description="cases by state")


def _committee(user: Any) -> None:
    if not user.has_any(*COMMITTEE):
        raise Forbidden("graduation batches are the committee's")


@router.post(
    "",
    status_code=201,
    response_model=BatchOut,
    summary=f"Import a batch from CSV (columns: {', '.join(COLUMNS)}; destination 'undecided' allowed)",
)
async def import_batch(
    request: Request,
    user: CurrentUser,
    transfers: Transfers,
    registry: Registry,
    title: Annotated[str, Query(min_length=1, max_length=200)],
    cut_off: Annotated[date | None, Query(description="after it, undecided rows take the default")] = None,
    default_org_name: Annotated[
        str | None, Query(max_length=200, description="off-platform default, e.g. 生源地县委组织部")
    ] = None,
) -> BatchOut:
    _committee(user)
    if not request.headers.get("content-type", "").startswith("text/csv"):
        raise Invalid("send the file as Content-Type: text/csv", field="content-type")
    try:
        rows = read_csv_rows((await request.body()).decode("utf-8"))
    except UnicodeDecodeError:
        raise Invalid("the CSV must be UTF-8", field="body") from None
    if not rows or set(rows[0]) - set(COLUMNS):
        raise Invalid(f"the header names the columns: {', '.join(COLUMNS)}", field="body")
    accepted: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    seen: set[str] = set()
    for line, row in enumerate(rows, start=2):
        reasons = await _check(row, user.tenant, registry, seen)
        if reasons:
            rejected.append({"line": line, "reasons": reasons})
        else:
            accepted.append({k: (row.get(k) or None) for k in COLUMNS})
    default = (
        {
            "destination": "off_platform",
            "receiving_org_name": default_org_name,
            "receiving_tenant": None,
            "receiving_org_id": None,
        }
        if default_org_name
        else None
    )
    batch_id = uuid4()
    batch = await run_sync(
        transfers.import_batch,
        batch_id=batch_id,
        tenant_id=user.tenant,
        title=title,
        rows=accepted,
        rejected=rejected,
        default_destination=default,
        cut_off=cut_off,
        meta=event_meta(user.subject),
    )
    return await _out(batch, None)


async def _check(row: dict[str, Any], tenant: str, registry: RegistryClient, seen: set[str]) -> list[str]:
    reasons = [
        f"{column}: control character {bad} is not allowed"
        for column, value in row.items()
        if isinstance(value, str) and (bad := control_character(value)) is not None
    ]
    if reasons:
        return reasons
    try:
        member_id = UUID(row.get("member_id") or "")
    except ValueError:
        return ["member_id: not an id"]
    if str(member_id) in seen:
        return ["member_id: appears earlier in the file"]
    seen.add(str(member_id))
    try:
        member = await registry.member(tenant, member_id)
        if member["roll"] != "on_roll" or member["transfer_pending"]:
            reasons.append("member_id: not on the roll, or a transfer is already pending")
    except NotFound:
        reasons.append("member_id: no such member")
    destination = row.get("destination") or ""
    if destination not in ("same_tenant", "other_tenant", "off_platform", "undecided"):
        reasons.append("destination: same_tenant, other_tenant, off_platform or undecided")
    elif destination == "off_platform" and not row.get("receiving_org_name"):
        reasons.append("receiving_org_name: required off the platform")
    elif destination in ("same_tenant", "other_tenant"):
        try:
            org = await registry.organisation(
                row.get("receiving_tenant") or "", UUID(row.get("receiving_org_id") or "")
            )
            if org["kind"] not in ("branch", "general_branch") or org["closed"]:
                reasons.append("receiving_org_id: not an open branch")
        except (ValueError, NotFound):
            reasons.append("receiving_org_id: no such organisation in that tenant")
    return reasons


@router.post(
    "/{batch_id}/approval",
    response_model=BatchOut,
    summary="Approve the batch: a transfer per ready row, approved by branch and committee at once",
)
async def approve_batch(
    batch_id: UUID,
    body: CommitteeApprovalIn,
    user: CurrentUser,
    runtime: RuntimeDep,
    transfers: Transfers,
    registry: Registry,
) -> BatchOut:
    _committee(user)
    batch = await run_sync(transfers.get_batch, user.tenant, batch_id)
    opened: dict[str, str] = {}
    for row in batch.rows_to_open(runtime.clock.now().date()):
        member_id = UUID(row["member_id"])
        member = await registry.member(user.tenant, member_id)
        receiving_name = row.get("receiving_org_name") or ""
        if row["destination"] != "off_platform":
            receiving_name = (
                await registry.organisation(row["receiving_tenant"], UUID(row["receiving_org_id"]))
            )["name"]
        fields = await approval_letter_fields(
            registry,
            runtime.clock.now().date(),
            user.tenant,
            member_id,
            UUID(member["organisation_id"]),
            body,
        )
        case_id = uuid5(BATCH_NAMESPACE, f"{batch_id}/{member_id}")
        request = {
            "sending_tenant": user.tenant,
            "member_id": member_id,
            "sending_org_id": UUID(member["organisation_id"]),
            "destination": DestinationKind(row["destination"]),
            "receiving_tenant": row.get("receiving_tenant"),
            "receiving_org_id": UUID(row["receiving_org_id"]) if row.get("receiving_org_id") else None,
            "receiving_org_name": receiving_name,
            "reason": row.get("reason") or "毕业转接",
            "graduate": True,
            "cross_province": False,
        }
        meta = event_meta(user.subject, correlation_id=str(batch_id))
        await run_sync(
            transfers.open_from_batch, user.tenant, case_id, request, fields, body.valid_days, meta
        )
        opened[str(member_id)] = str(case_id)
    batch = await run_sync(
        transfers.open_batch_cases, user.tenant, batch_id, opened, event_meta(user.subject)
    )
    return await _out(batch, runtime)


@router.get("/{batch_id}", response_model=BatchOut, summary="The batch and the progress of its transfers")
async def get_batch(batch_id: UUID, user: CurrentUser, runtime: RuntimeDep, transfers: Transfers) -> BatchOut:
    return await _out(await run_sync(transfers.get_batch, user.tenant, batch_id), runtime)


async def _out(batch: BatchTransfer, runtime: Any) -> BatchOut:
    progress: dict[str, int] = {}
    if runtime is not None and batch.cases:
        progress = await queries.states_of(
            runtime.pool, batch.tenant_id, [UUID(c) for c in batch.cases.values()]
        )
    return BatchOut(
        id=batch.id,
        title=batch.title,
        accepted=len(batch.rows),
        rejected=batch.rejected,
        undecided=sum(
            1 for r in batch.rows if r["destination"] == "undecided" and r["member_id"] not in batch.cases
        ),
        cut_off=batch.cut_off,
        cases=batch.cases,
        progress=progress,
    )
