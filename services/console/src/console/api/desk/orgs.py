"""组织: the tree; a node's page to rename, move or close it, and its roles (assign or revoke a secretary: the
registry gives the successor the node's pending work at once and takes access away from the one revoked)."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.api.common import Ctx, render
from console.api.desk.base import act_on, desk_ctx, failed, org_list
from console.clients.api import ApiError

router = APIRouter(prefix="/desk", include_in_schema=False)
ROLES = ("branch_secretary", "committee", "auditor", "tenant_admin")


def tree_of(orgs: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """Depth-first, each node after its parent, with its depth for the indentation."""
    children: dict[str | None, list[dict[str, Any]]] = {}
    for org in orgs:
        children.setdefault(org.get("parent_id"), []).append(org)
    ids = {o["id"] for o in orgs}
    tree: list[tuple[int, dict[str, Any]]] = []

    def walk(node: dict[str, Any], depth: int) -> None:
        tree.append((depth, node))
        for child in children.get(node["id"], []):
            walk(child, depth + 1)

    for root in [o for o in orgs if o.get("parent_id") not in ids]:
        walk(root, 0)
    return tree


@router.get("/orgs")
async def organisations(request: Request) -> Response:
    ctx = desk_ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    return render(ctx, "desk/orgs.html", tree=tree_of(await org_list(ctx)), menu="orgs")


@router.get("/orgs/{org_id}")
async def organisation(request: Request, org_id: str) -> Response:
    return await organisation_view(request, org_id)


async def organisation_view(request: Request, org_id: str, status: int = 200, **values: Any) -> Response:
    ctx = desk_ctx(request)
    if not isinstance(ctx, Ctx):
        return ctx
    try:
        node, roles, orgs = await asyncio.gather(
            ctx.api.get("registry", f"/v1/organisations/{org_id}"),
            ctx.api.get_or([], "registry", f"/v1/organisations/{org_id}/roles"),
            org_list(ctx),
        )
    except ApiError as exc:
        return failed(ctx, exc)
    below = {org_id}
    for _depth, o in tree_of(orgs):  # a node cannot move under itself or its own descendants
        if o.get("parent_id") in below:
            below.add(o["id"])
    return render(
        ctx,
        "desk/org.html",
        status=status,
        node=node,
        roles=roles,
        parents=[o for o in orgs if o["id"] not in below and not o.get("closed")],
        parent_name=next((o["name"] for o in orgs if o["id"] == node.get("parent_id")), ""),
        role_names=ROLES,
        manager=bool({"committee", "tenant_admin"} & set(ctx.session.roles)),
        menu="orgs",
        **values,
    )


@router.post("/orgs/{org_id}/rename")
async def rename(request: Request, org_id: str) -> Response:
    async def run(ctx: Ctx, form: dict[str, str], key: str) -> None:
        await ctx.api.patch(
            "registry", f"/v1/organisations/{org_id}", {"name": form.get("name", "")}, key=key
        )

    return await act_on(request, organisation_view, org_id, "rename", run, f"/desk/orgs/{org_id}")


@router.post("/orgs/{org_id}/move")
async def move(request: Request, org_id: str) -> Response:
    async def run(ctx: Ctx, form: dict[str, str], key: str) -> None:
        body = {"parent_id": form.get("parent_id") or None}
        await ctx.api.patch("registry", f"/v1/organisations/{org_id}", body, key=key)

    return await act_on(request, organisation_view, org_id, "move", run, f"/desk/orgs/{org_id}")


@router.post("/orgs/{org_id}/close")
async def close(request: Request, org_id: str) -> Response:
    async def run(ctx: Ctx, form: dict[str, str], key: str) -> None:
        body = {"close_reason": form.get("close_reason", "")}
        if not body["close_reason"]:
            raise ApiError(422, "Invalid", ctx.t("required"), {"close_reason": ctx.t("required")})
        await ctx.api.patch("registry", f"/v1/organisations/{org_id}", body, key=key)

    return await act_on(request, organisation_view, org_id, "close", run, f"/desk/orgs/{org_id}")


@router.post("/orgs/{org_id}/roles")
async def assign(request: Request, org_id: str) -> Response:
    async def run(ctx: Ctx, form: dict[str, str], key: str) -> None:
        body = {"subject": form.get("subject", ""), "role": form.get("role", "")}
        await ctx.api.post("registry", f"/v1/organisations/{org_id}/roles", body, key=key)

    return await act_on(request, organisation_view, org_id, "assign", run, f"/desk/orgs/{org_id}")


@router.post("/orgs/{org_id}/roles/revoke")
async def revoke(request: Request, org_id: str) -> Response:
    async def run(ctx: Ctx, form: dict[str, str], key: str) -> None:
        subject, role = quote(form.get("subject", ""), safe=""), quote(form.get("role", ""), safe="")
        await ctx.api.delete("registry", f"/v1/organisations/{org_id}/roles/{subject}/{role}", key=key)

    return await act_on(request, organisation_view, org_id, "revoke", run, f"/desk/orgs/{org_id}")
