"""毕业生批量转接: a CSV of members and destinations checked by the transfer service row by row, the batch
approved by the committee at once, and each row's transfer followed to its end."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from console.api.common import Ctx, Submissions, form_action, problem_values, render
from console.api.desk.base import desk_ctx, failed, names_of, transfer_pages
from console.clients.api import ApiError
from console.session import csrf_ok

router = APIRouter(prefix="/desk", include_in_schema=False)


@router.get("/transfer-batches")
async def batches(request: Request) -> Response:
    return await batches_page(request)


async def batches_page(request: Request, status: int = 200, **values: Any) -> Response:
    ctx = desk_ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    return render(ctx, "desk/batches.html", status=status, menu="transfers", **values)


@router.post("/transfer-batches")
async def upload_batch(request: Request) -> Response:
    """The CSV goes to the transfer service as it is; one upload per Idempotency-Key (a second click opens the
    batch the first one made); then the batch's page with the row-by-row check."""
    ctx = desk_ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    raw = await request.form()
    if not csrf_ok(ctx.session, str(raw.get("csrf", ""))):
        return render(ctx, "error.html", status=403, message_key="csrf_failed", status_code=403)
    form = {k: str(v).strip() for k, v in raw.items() if not isinstance(v, UploadFile)}
    upload = raw.get("file")
    content = await upload.read() if isinstance(upload, UploadFile) else b""
    if not content:
        return await batches_page(request, status=422, errors={"file": ctx.t("required")}, form=form)
    params = {k: form[k] for k in ("title", "cut_off", "default_org_name") if form.get(k)}
    submissions: Submissions = request.app.state.submissions

    async def run() -> str:
        batch = await ctx.api.upload("transfer", "/v1/transfer-batches", content, "text/csv", **params)
        return json.dumps(batch["id"])

    try:
        batch_id = json.loads(await submissions.once(str(raw.get("idem") or uuid.uuid4().hex), run))
    except ApiError as exc:
        values = problem_values(exc, form, {"body": "file", "content-type": "file"})
        return await batches_page(request, status=exc.status if exc.status < 500 else 502, **values)
    return RedirectResponse(f"/desk/transfer-batches/{batch_id}", status_code=303)


async def case_states(ctx: Ctx, wanted: set[str]) -> dict[str, str]:
    """The state of each of these cases, from transfer's list read page after page (newest change first) until
    every one is found or the list ends: a batch's cases are among the recent ones, so one page usually does."""
    states: dict[str, str] = {}
    async for page in transfer_pages(ctx, "/v1/transfers"):
        states |= {c["id"]: c["state"] for c in page if c["id"] in wanted}
        if not wanted - states.keys():
            break
    return states


@router.get("/transfer-batches/{batch_id}")
async def batch_page(request: Request, batch_id: str) -> Response:
    return await batch_view(request, batch_id)


async def batch_view(request: Request, batch_id: str, status: int = 200, **values: Any) -> Response:
    ctx = desk_ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    try:
        batch = await ctx.api.get("transfer", f"/v1/transfer-batches/{batch_id}")
    except ApiError as exc:
        return failed(ctx, exc)
    names, states = await asyncio.gather(
        names_of(ctx, batch["cases"].keys()), case_states(ctx, {c for c in batch["cases"].values() if c})
    )
    rows = [
        {"member": names.get(member_id, ""), "case_id": case_id, "state": states.get(case_id, "")}
        for member_id, case_id in batch["cases"].items()
    ]
    return render(ctx, "desk/batch.html", status=status, batch=batch, rows=rows, menu="transfers", **values)


@router.post("/transfer-batches/{batch_id}/approval")
async def approve(request: Request, batch_id: str) -> Response:
    async def run(ctx: Ctx, form: dict[str, str], key: str) -> str:
        body = {k: form.get(k, "") for k in ("dues_paid_through", "issuer_address", "issuer_phone")}
        await ctx.api.post("transfer", f"/v1/transfer-batches/{batch_id}/approval", body, key=key)
        return f"/desk/transfer-batches/{batch_id}?ok=done"

    return await form_action(request, batch_view, "approval", run, member=False, batch_id=batch_id)
