"""Bad input and foreign tokens at the real services: clear 4xx, nothing stored, no existence leaked."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import Infra, Running, start_platform
from tests.integration.helpers import build_tree, new_tenant, register

pytestmark = pytest.mark.integration


def stored_events(running: Running) -> int:
    return int(running.sql("registry", "SELECT count(*) FROM registry_events")[0][0])


@pytest.fixture
def tenant_with_branch(running: Running) -> tuple[str, dict[str, str], str]:
    tenant = new_tenant()
    headers = running.auth(tenant, "committee")
    _, branch = build_tree(running.url("registry"), headers)
    return tenant, headers, branch


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"organisation_id": "00000000-0000-0000-0000-000000000000", "category": "full"}, "name"),
        ({"name": "王芳", "organisation_id": "not-a-uuid", "category": "full"}, "organisation_id"),
        (
            {"name": "王芳", "organisation_id": "00000000-0000-0000-0000-000000000000", "category": "chief"},
            "category",
        ),
        ({"name": 42, "organisation_id": "00000000-0000-0000-0000-000000000000", "category": "full"}, "name"),
    ],
)
def test_a_missing_or_wrong_field_is_a_422_naming_it_and_nothing_is_stored(
    running: Running, tenant_with_branch: tuple[str, dict[str, str], str], body: dict[str, object], field: str
) -> None:
    _, headers, _ = tenant_with_branch
    before = stored_events(running)
    response = httpx.post(f"{running.url('registry')}/v1/members", headers=headers, json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]]
    assert stored_events(running) == before


def test_malformed_json_is_a_422_and_nothing_is_stored(
    running: Running, tenant_with_branch: tuple[str, dict[str, str], str]
) -> None:
    _, headers, _ = tenant_with_branch
    before = stored_events(running)
    response = httpx.post(
        f"{running.url('registry')}/v1/members",
        content=b'{"name": "x",',
        headers={**headers, "content-type": "application/json"},
    )
    assert response.status_code == 422 and "not valid JSON" in response.json()["detail"]
    assert stored_events(running) == before


def test_an_oversize_body_is_a_413_and_nothing_is_stored(
    running: Running, tenant_with_branch: tuple[str, dict[str, str], str]
) -> None:
    _, headers, branch = tenant_with_branch
    before = stored_events(running)
    response = httpx.post(
        f"{running.url('registry')}/v1/members",
        headers=headers,
        json={"name": "x" * 2_000_000, "organisation_id": branch, "category": "full"},
    )
    assert response.status_code == 413
    assert stored_events(running) == before


def test_an_unknown_organisation_is_a_404_naming_the_field(
    running: Running, tenant_with_branch: tuple[str, dict[str, str], str]
) -> None:
    _, headers, _ = tenant_with_branch
    response = register(running.url("registry"), headers, "7a1f3f5e-8d1c-4b61-9e9a-0a4f8b8c1d2e")
    assert response.status_code == 404 and response.json()["field"] == "organisation_id"


def test_another_tenants_token_gets_404_exactly_like_a_missing_member(
    running: Running, tenant_with_branch: tuple[str, dict[str, str], str]
) -> None:
    _, headers, branch = tenant_with_branch
    member = register(running.url("registry"), headers, branch).json()
    outsider = running.auth(new_tenant(), "committee")
    for path in (f"/v1/members/{member['id']}", f"/v1/members/{member['id']}/history"):
        theirs = httpx.get(f"{running.url('registry')}{path}", headers=outsider)
        missing = httpx.get(
            f"{running.url('registry')}{path.replace(member['id'], '7a1f3f5e-8d1c-4b61-9e9a-0a4f8b8c1d2e')}",
            headers=outsider,
        )
        assert theirs.status_code == missing.status_code == 404
        assert theirs.json()["title"] == missing.json()["title"]
    # Registering into another tenant's branch is refused the same way.
    assert register(running.url("registry"), outsider, branch).status_code == 404
    listing = httpx.get(f"{running.url('registry')}/v1/organisations", headers=outsider).json()
    assert listing["items"] == []


@pytest.mark.parametrize("kind", ["expired", "forged", "missing", "garbage"])
def test_an_expired_forged_or_missing_token_is_a_401(
    running: Running, kind: str, tenant_with_branch: tuple[str, dict[str, str], str]
) -> None:
    tenant, headers, branch = tenant_with_branch
    member = register(running.url("registry"), headers, branch).json()
    token = (
        running.token(tenant, "committee", ttl_seconds=-30)
        if kind == "expired"
        else running.token(tenant, "committee")
    )
    if kind == "forged":
        head, payload, signature = token.split(".")
        token = f"{head}.{payload}.{signature[::-1]}"
    auth = (
        {}
        if kind == "missing"
        else {"Authorization": "Bearer not.a.jwt" if kind == "garbage" else f"Bearer {token}"}
    )
    for service, path in (("registry", f"/v1/members/{member['id']}"), ("notify", "/v1/inbox")):
        response = httpx.get(f"{running.url(service)}{path}", headers=auth)
        assert response.status_code == 401, (service, response.text)
        assert response.headers["www-authenticate"] == "Bearer"


def test_a_member_role_cannot_register_members(
    running: Running, tenant_with_branch: tuple[str, dict[str, str], str]
) -> None:
    tenant, _, branch = tenant_with_branch
    response = register(running.url("registry"), running.auth(tenant, "member"), branch)
    assert response.status_code == 403


def test_a_branch_secretary_registers_only_in_their_own_branch(
    running: Running, tenant_with_branch: tuple[str, dict[str, str], str]
) -> None:
    tenant, _, branch = tenant_with_branch
    assert (
        register(
            running.url("registry"), running.auth(tenant, "branch_secretary", orgs=[branch]), branch
        ).status_code
        == 201
    )
    assert (
        register(
            running.url("registry"), running.auth(tenant, "branch_secretary", orgs=["elsewhere"]), branch
        ).status_code
        == 403
    )


def test_the_same_idempotency_key_creates_one_member(
    running: Running, tenant_with_branch: tuple[str, dict[str, str], str]
) -> None:
    _, headers, branch = tenant_with_branch
    first = register(running.url("registry"), headers, branch, **{"Idempotency-Key": "enrol-42"})
    again = register(running.url("registry"), headers, branch, **{"Idempotency-Key": "enrol-42"})
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert again.headers.get("idempotent-replayed") == "true"
    other = register(
        running.url("registry"), headers, branch, name="另一人", **{"Idempotency-Key": "enrol-42"}
    )
    assert other.status_code == 422 and other.json()["field"] == "Idempotency-Key"


def test_every_service_serves_openapi_health_and_readiness(running: Running) -> None:
    for service in running.platform.names:
        assert httpx.get(f"{running.url(service)}/healthz").json()["status"] == "ok"
        ready = httpx.get(f"{running.url(service)}/readyz").json()
        # Analytics has no PostgreSQL, no event log and publishes nothing: its DuckDB store and NATS instead.
        checks = (
            {"store", "nats"}
            if service == "analytics"
            else {"database", "nats", "relay", "audit", "projections"}
        )
        assert ready["status"] == "ready" and set(ready["checks"]) == checks
        assert (
            httpx.get(f"{running.url(service)}/openapi.json").json()["info"]["title"] == f"Lianxin {service}"
        )


def test_a_tenant_over_its_request_rate_gets_429_and_others_do_not(infra: Infra, tmp_path: Path) -> None:
    limited = start_platform(
        infra, tmp_path / "limited", services=("registry",), extra_env={"TENANT_REQUESTS_PER_MINUTE": "30"}
    )
    try:
        registry = limited.url("registry")
        busy, quiet = limited.auth(new_tenant(), "committee"), limited.auth(new_tenant(), "committee")
        statuses = [httpx.get(f"{registry}/v1/organisations", headers=busy).status_code for _ in range(8)]
        assert statuses[:5] == [200] * 5 and statuses[-1] == 429
        refused = httpx.get(f"{registry}/v1/organisations", headers=busy)
        assert refused.json()["type"].endswith("/rate-limited")
        assert httpx.get(f"{registry}/v1/organisations", headers=quiet).status_code == 200
    finally:
        limited.stop()


def test_a_key_left_pending_by_a_request_that_died_is_taken_over_by_its_retry(
    running: Running, tenant_with_branch: tuple[str, dict[str, str], str]
) -> None:
    from registry.api.members import MemberIn
    from shared.idempotency import request_hash

    tenant, headers, branch = tenant_with_branch
    payload = {"name": "重试者", "organisation_id": branch, "category": "full"}
    digest = request_hash("POST /v1/members", MemberIn(**payload).model_dump(mode="json"))
    running.sql(
        "registry",
        "INSERT INTO idempotency_keys (tenant_id, key, request_hash, created_at) "
        "VALUES (%s, 'died-midway', %s, now() - interval '5 minutes')",
        tenant,
        digest,
    )
    first = register(
        running.url("registry"), headers, branch, name="重试者", **{"Idempotency-Key": "died-midway"}
    )
    assert first.status_code == 201, first.text
    again = register(
        running.url("registry"), headers, branch, name="重试者", **{"Idempotency-Key": "died-midway"}
    )
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
