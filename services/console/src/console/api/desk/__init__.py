"""The secretary's pages (desk first, 1280 px), one module per area of the left menu: work lists, the roll and a
member's story, mobile members, transfers, contact cases, meetings, study, notifications, organisations."""

from __future__ import annotations

from fastapi import APIRouter

from console.api.desk import (
    batches,
    contact,
    learning,
    meetings,
    members,
    mobility,
    notify,
    orgs,
    statistics,
    transfers,
    work,
)

router = APIRouter()
for area in (
    work,
    members,
    mobility,
    transfers,
    batches,
    contact,
    meetings,
    learning,
    notify,
    orgs,
    statistics,
):
    router.include_router(area.router)
