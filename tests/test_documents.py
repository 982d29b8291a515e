"""The documents users read stay true: AsyncAPI generated from the contracts, OpenAPI from each service."""

from __future__ import annotations

from pathlib import Path

import pytest

from lianxin.asyncapi import render
from tests.service_apps import service_app

ROOT = Path(__file__).resolve().parents[1]


def test_the_committed_asyncapi_document_matches_the_contracts() -> None:
    committed = (ROOT / "docs" / "asyncapi.yaml").read_text(encoding="utf-8")
    assert committed == render(), "run: .venv/bin/python -m lianxin.asyncapi > docs/asyncapi.yaml"


@pytest.mark.parametrize(
    ("service", "paths"),
    [
        (
            "registry",
            {
                "/v1/organisations",
                "/v1/members",
                "/v1/members/{member_id}",
                "/v1/members/{member_id}/history",
                "/v1/organisations/{organisation_id}/roll.pdf",
                "/v1/organisations/{organisation_id}/dues-record.pdf",
                "/v1/mobile-registrations/{registration_id}/certificate.pdf",
                "/v1/mobile-registrations/{registration_id}/information-form.pdf",
            },
        ),
        ("notify", {"/v1/inbox", "/v1/inbox/{item_id}/read"}),
        ("transfer", {"/v1/letters/verify/{code}", "/v1/transfers/{case_id}/letter.pdf"}),
        ("learning", {"/v1/meetings/{meeting_id}/appraisal-form.pdf"}),
        (
            "analytics",
            {
                "/v1/statistics",
                "/v1/statistics/{name}",
                "/v1/operator/landing",
                "/v1/operator/export",
                "/charts",
            },
        ),
    ],
)
def test_each_service_documents_its_api_and_operations(service: str, paths: set[str], tmp_path: Path) -> None:
    app = service_app(service, tmp_path)
    documented = set(app.openapi()["paths"])
    assert paths | {"/healthz", "/readyz", "/metrics"} <= documented
