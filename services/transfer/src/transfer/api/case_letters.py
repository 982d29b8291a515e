"""The letter of a case, printed for its parties: HTML with the QR code, and PDF."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from shared.auth import CurrentUser, Principal
from shared.errors import NotFound
from shared.threads import run_sync
from transfer.api.common import Settings, Transfers, require_reader
from transfer.api.letter_print import letter_html, letter_pdf
from transfer.application import TransferApplication
from transfer.domain import TransferCase

router = APIRouter(prefix="/v1/transfers", tags=["transfers"])


async def _letter(
    transfers: TransferApplication, user: Principal, case_id: UUID
) -> tuple[TransferCase, dict[str, Any]]:
    case = await run_sync(transfers.get_case, user.tenant, case_id)
    require_reader(user, case)
    if case.letter is None:
        raise NotFound("no letter has been issued for this transfer")
    return case, case.letter


@router.get(
    "/{case_id}/letter.html", response_class=HTMLResponse, summary="The printable letter (zh-CN, with QR)"
)
async def print_html(
    case_id: UUID, user: CurrentUser, transfers: Transfers, settings: Settings
) -> HTMLResponse:
    case, letter = await _letter(transfers, user, case_id)
    return HTMLResponse(letter_html(letter, settings.public_base_url, case))


@router.get(
    "/{case_id}/letter.pdf",
    summary="The printable letter as PDF",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def print_pdf(case_id: UUID, user: CurrentUser, transfers: Transfers, settings: Settings) -> Response:
    case, letter = await _letter(transfers, user, case_id)
    pdf = await run_sync(letter_pdf, letter, settings.public_base_url)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="letter-{case.id}.pdf"'},
    )
