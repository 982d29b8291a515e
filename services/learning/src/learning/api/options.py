"""The tenant's options: time zone, allowed hours, point rules, rankings, cadences, the probation quota."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from pydantic import BaseModel, Field

from learning.api.common import Admins, Anyone, Learning
from shared.meta import event_meta
from shared.threads import run_sync


class OptionsOut(BaseModel):
    timezone: str
    allowed_from: str = Field(description="local time of day, like 06:00")
    allowed_until: str
    notice_days: int
    first_correct_rule: bool
    rankings: bool
    point_rules: dict[str, dict[str, Any]]
    cadence: dict[str, dict[str, int | str]]
    probation_quota: dict[str, int]


options = APIRouter(prefix="/v1/options", tags=["options"])


@options.get(
    "",
    response_model=OptionsOut,
    summary="The options in force: time zone, allowed hours, point rules, rankings, cadences",
)
async def get_options(user: Anyone, learning: Learning) -> dict[str, Any]:
    return (await run_sync(learning.options, user.tenant)).as_dict()


@options.patch(
    "",
    response_model=OptionsOut,
    summary="Change some options (tenant admin or committee); unknown names are refused",
)
async def change_options(
    user: Admins, learning: Learning, changes: Annotated[dict[str, Any], Body(examples=[{"rankings": True}])]
) -> dict[str, Any]:
    changed = await run_sync(learning.change_options, user.tenant, changes, dict(event_meta(user.subject)))
    return changed.as_dict()
