"""组织: the tree."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.api.common import Ctx, render
from console.api.desk.base import desk_ctx, org_list

router = APIRouter(prefix="/desk", include_in_schema=False)


@router.get("/orgs")
async def organisations(request: Request) -> Response:
    ctx = desk_ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    orgs = await org_list(ctx)
    children: dict[str | None, list[dict[str, Any]]] = {}
    for org in orgs:
        children.setdefault(org.get("parent_id"), []).append(org)
    ids = {o["id"] for o in orgs}
    roots = [o for o in orgs if o.get("parent_id") not in ids]
    tree: list[tuple[int, dict[str, Any]]] = []

    def walk(node: dict[str, Any], depth: int) -> None:
        tree.append((depth, node))
        for child in children.get(node["id"], []):
            walk(child, depth + 1)

    for root in roots:
        walk(root, 0)
    return render(ctx, "desk/orgs.html", tree=tree, menu="orgs")
