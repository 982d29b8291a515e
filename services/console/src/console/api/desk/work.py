"""工作台: one work list across the services, split 待办 / 未办结 / 即将办理 / 超时."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.api.common import Ctx, render, today
from console.api.desk.base import WORKLISTS, desk_ctx, names_of, transfer_pages
from console.charts import ageing, bars
from console.i18n import local_date

router = APIRouter(prefix="/desk", include_in_schema=False)


async def _transfer_list(ctx: Ctx, worklist: str) -> list[dict[str, Any]]:
    """Every case of one of transfer's work lists, all its pages."""
    return [
        case async for page in transfer_pages(ctx, f"/v1/transfers/-/worklists/{worklist}") for case in page
    ]


@router.get("")
async def work(request: Request) -> Response:
    ctx = desk_ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    calls = [ctx.api.get_or([], "registry", f"/v1/worklists/{w}") for w in WORKLISTS]
    calls += [_transfer_list(ctx, w) for w in WORKLISTS]
    results = await asyncio.gather(
        *calls, ctx.api.get_or([], "registry", "/v1/mobility-declarations", state="declared")
    )
    declarations: list[dict[str, Any]] = results[-1]
    active = request.query_params.get("list", "todo")
    active = active if active in WORKLISTS else "todo"
    # Names are shown for the active list's rows only (the others are counted): the registry is asked for the
    # names of exactly the members on those rows, and only when there is one.
    shown = [item["subject_id"] for item in results[WORKLISTS.index(active)]]
    shown += [case["member_id"] for case in results[len(WORKLISTS) + WORKLISTS.index(active)]]
    names = await names_of(ctx, shown)
    lists: dict[str, list[dict[str, Any]]] = {w: [] for w in WORKLISTS}
    for i, w in enumerate(WORKLISTS):
        for item in results[i]:
            href = {
                "inflow_to_register": "/desk/mobile",
                "outflow_awaiting_host": "/desk/mobile",
                "certificate_review": "/desk/mobile",
                "deferral_ends": "/desk/mobile",
            }.get(item["kind"], f"/desk/members/{item['subject_id']}")
            lists[w].append(
                {
                    "what": item["title"],
                    "whom": names.get(item["subject_id"], ""),
                    "since": item.get("due"),
                    "href": href,
                    "source": ctx.t("menu_members"),
                }
            )
        for case in results[len(WORKLISTS) + i]:
            due = case.get("expires_on") if case["state"] == "letter_issued" else case.get("receipt_due_on")
            lists[w].append(
                {
                    "what": f"{ctx.t('transfer')}：{ctx.t('state_' + case['state'])}",
                    "whom": names.get(case["member_id"], case.get("receiving_org_name", "")),
                    "since": due or case["updated_at"],
                    "href": f"/desk/transfers/{case['id']}",
                    "source": ctx.t("menu_transfers"),
                }
            )
    for d in declarations:
        lists["todo"].insert(
            0,
            {
                "what": ctx.t("declarations"),
                "whom": d.get("name") or "",
                "since": d["declared_at"],
                "href": "/desk/mobile",
                "source": ctx.t("menu_mobile"),
            },
        )
    day = today(request)
    waiting = [
        max(0, (day - since).days)
        for w in ("todo", "pending")
        for row in lists[w]
        if (since := local_date(row["since"])) is not None
    ]
    ages = [(ctx.t(key), n) for key, n in ageing(waiting)]
    return render(
        ctx,
        "desk/work.html",
        lists=lists,
        active=active,
        ages=ages,
        ages_chart=bars([(label, float(n)) for label, n in ages]),
        menu="work",
    )
