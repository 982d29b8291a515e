"""The roll in and out as CSV: import validated row by row, export with personal data masked."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from registry.api.common import Admins, Readers, Registry, RuntimeDep, in_scope
from registry.application.roll_import import COLUMNS
from registry.readmodels.queries import roll_with_codes
from shared.errors import Invalid
from shared.fieldcrypt import FieldCipher
from shared.meta import event_meta
from shared.text import spreadsheet_safe
from shared.threads import run_sync

router = APIRouter(prefix="/v1/members", tags=["members"])


class RowResult(BaseModel):
    line: int
    member_id: str | None = None
    reasons: list[str] | None = None


class ImportReportOut(BaseModel):
    dry_run: bool
    accepted: list[RowResult]
    rejected: list[RowResult]


@router.post(
    "/import",
    response_model=ImportReportOut,
    summary=f"Import members from CSV (UTF-8, header row; columns: {', '.join(COLUMNS)})",
    openapi_extra={
        "requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}, "required": True}
    },
)
async def import_members(
    request: Request,
    user: Admins,
    registry: Registry,
    dry_run: Annotated[bool, Query(description="validate and report, store nothing")] = False,
) -> ImportReportOut:
    if not request.headers.get("content-type", "").startswith("text/csv"):
        raise Invalid("send the file as Content-Type: text/csv", field="content-type")
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid("the CSV must be UTF-8", field="body") from None
    report = await run_sync(
        lambda: registry.import_members(user.tenant, text, dry_run=dry_run, meta=event_meta(user.subject))
    )
    return ImportReportOut(
        dry_run=dry_run,
        accepted=[RowResult(**r) for r in report.accepted],
        rejected=[RowResult(**r) for r in report.rejected],
    )


@router.get(
    "/export.csv",
    summary="The roll as CSV; ID numbers and phones masked",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
async def export_members(user: Readers, runtime: RuntimeDep) -> Response:
    rows = await roll_with_codes(runtime.pool, user.tenant)
    cipher: FieldCipher = runtime.extras["cipher"]
    visible: list[dict[str, Any]] = [
        {**dict(r), "name": cipher.open(r["name_sealed"], "name")}
        for r in rows
        if in_scope(user, r["organisation_id"])
    ]
    return Response(
        export_csv(visible),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="roll.csv"'},
    )


def export_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "member_id",
            "name",
            "organisation_code",
            "category",
            "standing",
            "national_id_number",
            "phone",
            "registered_on",
        ]
    )
    for r in rows:
        writer.writerow(
            [
                spreadsheet_safe(cell)
                for cell in (
                    r["id"],
                    r["name"],
                    r["code"],
                    r["category"],
                    r["standing"],
                    r["national_id_masked"],
                    r["phone_masked"],
                    r["registered_on"].isoformat(),
                )
            ]
        )
    return "\ufeff" + out.getvalue()  # the BOM lets spreadsheet programs read UTF-8 Chinese correctly
