"""Operator endpoints: landing positions and digests, parked messages, the Parquet export."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from analytics.api.common import IsOperator, StoreDep
from analytics.export import export_parquet
from shared.auth import Principal
from shared.threads import run_sync

router = APIRouter(prefix="/v1/operator", tags=["operator"])


class Landing(BaseModel):
    positions: dict[str, int]
    parked: list[dict[str, Any]]
    tables: dict[str, dict[str, Any]]


class Export(BaseModel):
    directory: str
    files: list[str]


@router.get(
    "/landing", response_model=Landing, summary="Stream positions landed, parked messages, table digests"
)
async def landing(store: StoreDep, _: Principal = IsOperator) -> Landing:
    def read() -> Landing:
        return Landing(positions=store.positions(), parked=store.parked_messages(), tables=store.digest())

    return await run_sync(read)


@router.post(
    "/export", response_model=Export, summary="Write the partitioned Parquet export (ANALYTICS_EXPORT_DIR)"
)
async def export(request: Request, store: StoreDep, _: Principal = IsOperator) -> Export:
    directory = request.app.state.settings.analytics_export_dir

    def write() -> list[str]:
        with store.reader() as con:
            return export_parquet(con, directory)

    return Export(directory=str(directory), files=await run_sync(write))
