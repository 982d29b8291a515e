"""Schemathesis against all four services, bounded (a few examples per operation): no server errors, and every
answer is one the OpenAPI document describes (status code, content type, schema), with every check but
`positive_data_acceptance`: schema-valid data is still refused by domain rules the schema cannot say (an unknown
member, a date in the past, a state that forbids the step), and that refusal is a documented 4xx."""

from __future__ import annotations

import os
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.integration.attack import SERVICES, Tally, plant
from tests.integration.conftest import Running

pytestmark = pytest.mark.integration

MAX_EXAMPLES = int(os.environ.get("LIANXIN_SCHEMATHESIS_EXAMPLES", "4"))


def _titles(exc: BaseException) -> str:
    inner = exc.exceptions if isinstance(exc, BaseExceptionGroup) else [exc]
    return "; ".join(sorted({getattr(e, "title", type(e).__name__) for e in inner}))


def check(operation: Any, url: str, headers: dict[str, str], label: str, tally: Tally) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def probe(case: schemathesis.Case) -> None:
        response = case.call(base_url=url, headers=headers, timeout=30)
        try:
            case.validate_response(response, excluded_checks=[positive_data_acceptance])
        except (Exception, BaseExceptionGroup) as exc:  # every check's failure is recorded, the run goes on
            tally.record(False, f"{label}: {response.status_code} {_titles(exc)}")
        else:
            tally.record(True, label)

    probe()


def test_schemathesis_finds_no_server_error_and_no_undocumented_answer(running: Running) -> None:
    world = plant(running)
    headers = running.auth(
        world.tenant,
        "committee",
        "tenant_admin",
        "branch_secretary",
        "auditor",
        "operator",
        orgs=[world.branch],
    )
    tally = Tally(f"schemathesis ({MAX_EXAMPLES} examples per operation)", ok_word="conformed")
    for service in SERVICES:
        url = running.url(service)
        schema = schemathesis.openapi.from_dict(httpx.get(f"{url}/openapi.json").json())
        for result in schema.get_all_operations():
            check(result.ok(), url, headers, f"{service} {result.ok().label}", tally)
    tally.report()
    assert tally.tried >= 100
    assert not tally.failures, "\n".join(sorted(set(tally.failures))[:60])
