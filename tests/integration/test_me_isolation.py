"""Every `/v1/me...` endpoint of every service, as each service's OpenAPI document lists them (so a new one is tried
too), answers 404 to anyone but the member themself: a token with another tenant's member under the same id, a
made-up member, the branch secretary, the committee, and a secretary's token whose subject is the member's id.
Another real member reads only their own."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.integration.conftest import Running
from tests.integration.helpers import build_tree, new_tenant

pytestmark = pytest.mark.integration
SERVICES = ("registry", "transfer", "learning", "notify")
# A valid body for each command, so that a refusal is the member check and not the body's validation.
BODIES: dict[str, dict[str, Any]] = {
    "/v1/me/mobility": {
        "reason": "外出务工",
        "destination": "深圳市南山区",
        "expected_months": 4,
        "fixed_place": False,
        "contact": "微信 someone",
    },
    "/v1/me/whereabouts": {"place": "深圳市福田区"},
    "/v1/me/return": {},
    "/v1/me/screenings/{campaign_id}/confirmation": {"whereabouts": "深圳市南山区", "contact_ok": True},
}


def _me_routes(running: Running) -> list[tuple[str, str, str]]:
    routes = []
    for service in SERVICES:
        if service not in running.platform.ports:
            continue
        document = httpx.get(f"{running.url(service)}/openapi.json").json()
        for path, operations in document["paths"].items():
            if path == "/v1/me" or path.startswith("/v1/me/"):
                routes += [(service, method.upper(), path) for method in operations]
    return routes


def _as_member(running: Running, tenant: str, member_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {running.token(tenant, 'member', subject=f'member:{member_id}')}"}


def test_every_me_endpoint_of_every_service_is_the_member_themself_only(running: Running) -> None:
    registry = running.url("registry")
    tenant, other_tenant = new_tenant(), new_tenant()
    committee = running.auth(tenant, "committee")
    _, branch = build_tree(registry, committee)
    ids = [
        httpx.post(
            f"{registry}/v1/members",
            headers=committee,
            json={"name": name, "organisation_id": branch, "category": "full"},
        ).json()["id"]
        for name in ("孙丽", "钱军")
    ]
    mine, other = ids
    routes = _me_routes(running)
    paths = {path for _, _, path in routes}
    assert {"/v1/me", "/v1/me/history", "/v1/me/transfers", *BODIES} <= paths, paths
    assert all(method == "GET" or path in BODIES for _, method, path in routes), (
        f"a new /v1/me command needs a body in BODIES: {routes}"
    )

    strangers = {
        "another tenant's member with my id": _as_member(running, other_tenant, mine),
        "a made-up member": _as_member(running, tenant, str(uuid.uuid4())),
        "the branch secretary": running.auth(tenant, "branch_secretary", orgs=[branch]),
        "the committee": committee,
        "a secretary whose subject is my id": {
            "Authorization": "Bearer "
            + running.token(tenant, "branch_secretary", orgs=[branch], subject=f"member:{mine}")
        },
    }
    refused = []
    for who, headers in strangers.items():
        for service, method, path in routes:
            url = f"{running.url(service)}{path}".replace("{campaign_id}", str(uuid.uuid4()))
            response = httpx.request(method, url, headers=headers, json=BODIES.get(path))
            if response.status_code != 404:
                refused.append(f"{who}: {method} {service}{path} -> {response.status_code}")
    assert refused == []

    # The member themself and another real member each read their own, never the other's.
    me, them = _as_member(running, tenant, mine), _as_member(running, tenant, other)
    for service, method, path in routes:
        if method == "GET":
            assert httpx.get(f"{running.url(service)}{path}", headers=me).status_code == 200, path
    assert httpx.get(f"{registry}/v1/me", headers=me).json()["member"]["id"] == mine
    assert httpx.get(f"{registry}/v1/me", headers=them).json()["member"]["id"] == other
    history = httpx.get(f"{registry}/v1/me/history", headers=them).json()
    assert history and all(mine not in str(entry) for entry in history)
    # Nothing a stranger tried changed the member: no declaration, no registration.
    assert httpx.get(f"{registry}/v1/mobility-declarations", headers=committee).json() == []
    record = httpx.get(f"{registry}/v1/me", headers=me).json()
    assert record["declarations"] == [] and record["registration"] is None
