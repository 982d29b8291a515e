"""The HTTP surface on the landed quarter: the tenant from the token, JSON and CSV, problems naming the param."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from analytics.api import operator, page, statistics
from analytics.settings import AnalyticsSettings
from analytics.store import AnalyticsStore
from shared.auth import TokenVerifier, ensure_dev_keypair, issue_dev_token
from shared.clock import SettableClock
from shared.http import create_service_app

A, STRANGER = "tenant-aa", "tenant-cc"
Auth = Callable[..., dict[str, str]]


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    return ensure_dev_keypair(tmp_path / "keys")


@pytest.fixture
def client(store: AnalyticsStore, landed_quarter: Any, tmp_path: Path, keys: tuple[Path, Path]) -> TestClient:
    public = keys[1]
    settings = AnalyticsSettings(
        cipher_key="k" * 44,
        platform_secret="p" * 32,
        auth_public_key_file=public,
        analytics_export_dir=tmp_path / "export",
    )
    app: FastAPI = create_service_app(
        service="analytics", title="t", version="0", description="", lifespan=None, max_body_bytes=10_000
    )
    for router in (statistics, operator, page):
        app.include_router(router)
    app.state.store, app.state.settings = store, settings
    app.state.verifier = TokenVerifier(settings)
    app.state.clock = SettableClock(datetime(2026, 3, 31, 20, tzinfo=UTC))  # 1 April in Beijing
    return TestClient(app)


@pytest.fixture
def auth(keys: tuple[Path, Path]) -> Callable[..., dict[str, str]]:
    def headers(tenant: str, role: str = "committee") -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_dev_token(keys[0], tenant=tenant, roles=[role])}"}

    return headers


def test_json_by_default_with_the_tenant_from_the_token(client: TestClient, auth: Auth) -> None:
    response = client.get(
        "/v1/statistics/members", params={"from": "2026-01-01", "to": "2026-03-31"}, headers=auth(A)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["tenant"], body["from"], body["to"]) == (A, "2026-01-01", "2026-03-31")
    assert body["rows"][0]["total"] == 6


def test_the_default_period_is_this_year_to_today_in_beijing(client: TestClient, auth: Auth) -> None:
    body = client.get("/v1/statistics/transfers", headers=auth(A)).json()
    assert (body["from"], body["to"]) == ("2026-01-01", "2026-04-01")
    assert body["rows"][0]["completed"] == 6


def test_csv_with_accept_text_csv(client: TestClient, auth: Auth) -> None:
    response = client.get(
        "/v1/statistics/contact",
        params={"from": "2026-01-01", "to": "2026-03-31"},
        headers={**auth(A), "Accept": "text/csv"},
    )
    assert response.headers["content-type"].startswith("text/csv")
    rows = {r["cause"]: r for r in csv.DictReader(io.StringIO(response.text))}
    assert rows["abroad"]["at_risk"] == "2" and rows["other"]["closed"] == "1"


def test_problems_name_what_is_wrong(client: TestClient, auth: Auth) -> None:
    headers = auth(A)
    unknown = client.get("/v1/statistics/shoe-sizes", headers=headers)
    assert unknown.status_code == 404 and unknown.headers["content-type"] == "application/problem+json"
    for params, field in (
        ({"group_by": "colour"}, "group_by"),
        ({"from": "soon"}, "from"),
        ({"to": "2026-13-01"}, "to"),
        ({"from": "2026-03-01", "to": "2026-01-01"}, "to"),
    ):
        bad = client.get("/v1/statistics/transfers", params=params, headers=headers)
        assert bad.status_code == 422, (params, bad.text)
        assert bad.json()["errors"][0]["field"] == field
    assert client.get("/v1/statistics/members").status_code == 401
    assert client.get("/v1/statistics/members", headers=auth(A, "member")).status_code == 403


def test_another_tenant_sees_none_of_it(client: TestClient, auth: Auth) -> None:
    body = client.get(
        "/v1/statistics/transfers", params={"from": "2026-01-01", "to": "2026-03-31"}, headers=auth(STRANGER)
    ).json()
    assert body["rows"][0]["requested"] == 0 and body["details"]["step_durations"] == []


def test_operators_see_positions_and_export_parquet(client: TestClient, tmp_path: Path, auth: Auth) -> None:
    assert client.get("/v1/operator/landing", headers=auth(A)).status_code == 403
    landing = client.get("/v1/operator/landing", headers=auth("ops", "operator")).json()
    assert landing["positions"]["LIANXIN_TRANSFER"] > 0 and landing["parked"] == []
    exported = client.post("/v1/operator/export", headers=auth("ops", "operator")).json()
    assert any(f.startswith(f"transfer_steps/tenant={A}/month=2026-02/") for f in exported["files"])
    assert (tmp_path / "export" / "events").is_dir()


def test_the_charts_page_is_served_locally(client: TestClient, auth: Auth) -> None:
    html = client.get("/charts").text
    assert "/v1/statistics/" in html and "createElementNS" in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", ""), "no external script or style"


def test_a_standby_instance_answers_503_naming_why(client: TestClient, auth: Auth) -> None:
    client.app.state.store = None  # type: ignore[attr-defined]
    client.app.state.standby = "standby: another instance holds the analytics file"  # type: ignore[attr-defined]
    response = client.get("/v1/statistics/members", headers=auth(A))
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "standby" in response.json()["detail"]
