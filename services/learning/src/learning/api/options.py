"""The tenant's options: time zone, allowed hours, point rules, rankings, cadences, the probation quota."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from learning.api.common import Admins, Anyone, Learning, run
from shared.meta import event_meta

options = APIRouter(prefix="/v1/options", tags=["options"])


@options.get("", summary="The options in force: time zone, allowed hours, point rules, rankings, cadences")
async def get_options(user: Anyone, learning: Learning) -> dict[str, Any]:
    return (await run(learning.options, user.tenant)).as_dict()


@options.patch("", summary="Change some options (tenant admin or committee); unknown names are refused")
async def change_options(
    user: Admins, learning: Learning, changes: Annotated[dict[str, Any], Body(examples=[{"rankings": True}])]
) -> dict[str, Any]:
    changed = await run(lambda: learning.change_options(user.tenant, changes, dict(event_meta(user.subject))))
    return changed.as_dict()
