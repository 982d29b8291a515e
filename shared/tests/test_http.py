"""The shared HTTP shell: problem+json naming the field, 413 over the cap, health without a runtime."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from unittest.mock import patch

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from shared.errors import Conflict, Invalid, NotFound, ServiceError, Unavailable
from shared.http import create_service_app, status_of


class Thing(BaseModel):
    name: str
    count: int


@asynccontextmanager
async def no_runtime(_: FastAPI) -> AsyncIterator[None]:
    yield


def client() -> TestClient:
    app = create_service_app(
        service="t", title="t", version="0", description="t", lifespan=no_runtime, max_body_bytes=64
    )

    @app.post("/things")
    def create(thing: Thing) -> Thing:
        if thing.name == "taken":
            raise Conflict("that name is taken", field="name")
        return thing

    return TestClient(app)


def test_a_wrong_type_is_a_422_problem_naming_the_field() -> None:
    response = client().post("/things", json={"name": "a", "count": "many"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "count"
    assert "count" in response.json()["detail"]


def test_a_missing_field_is_named() -> None:
    response = client().post("/things", json={"name": "a"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "count"


def test_malformed_json_is_a_422_problem() -> None:
    response = client().post("/things", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"] == "the request body is not valid JSON"


def test_an_oversize_body_is_a_413_problem() -> None:
    response = client().post("/things", json={"name": "x" * 100, "count": 1})
    assert response.status_code == 413
    assert response.json()["type"].endswith("payload-too-large")


def test_an_oversize_body_without_a_declared_length_is_a_413() -> None:
    def chunks() -> object:
        yield b'{"name": "' + b"x" * 50
        yield b"x" * 50 + b'", "count": 1}'

    response = client().post("/things", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_a_domain_error_keeps_its_status_type_and_field() -> None:
    response = client().post("/things", json={"name": "taken", "count": 1})
    assert response.status_code == 409
    assert response.json()["field"] == "name" and response.json()["type"].endswith("/conflict")


def test_readiness_without_checks_is_not_ready() -> None:
    with client() as c:
        assert c.get("/healthz").status_code == 200
        assert c.get("/readyz").status_code == 503
        assert "lianxin_http_requests_total" in c.get("/metrics").text


class ShelfMissing(NotFound):
    type = "shelf-not-found"


class PrinterAway(Unavailable):
    type = "printer-unavailable"


def test_a_service_error_takes_the_status_of_the_kind_it_derives_from() -> None:
    assert status_of(ShelfMissing("no shelf")) == 404
    assert status_of(PrinterAway("off")) == 503
    assert status_of(Invalid("bad")) == 422
    assert status_of(ServiceError("plain")) == 400


def test_domain_errors_load_no_web_framework() -> None:
    probe = "import sys, shared.errors; print(any(m.split('.')[0] in ('fastapi', 'starlette') for m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "False"


def test_each_request_is_one_span_and_counted_under_its_route_template_with_its_status_in_the_callers_trace() -> (
    None
):
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exported = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exported))
    app = create_service_app(
        service="observed", title="t", version="0", description="t", lifespan=no_runtime, max_body_bytes=64
    )

    @app.get("/shelves/{shelf}")
    async def shelf(shelf: str) -> dict[str, str]:
        if shelf == "gone":
            raise ShelfMissing("no such shelf")
        return {"shelf": shelf}

    caller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    with patch.object(trace, "get_tracer_provider", lambda: provider), TestClient(app) as c:
        assert c.get("/shelves/a1", headers={"traceparent": caller}).status_code == 200
        assert c.get("/shelves/gone").status_code == 404
        metrics = c.get("/metrics").text
    assert (
        'lianxin_http_requests_total{method="GET",route="/shelves/{shelf}",service="observed",status="200"} 1.0'
        in metrics
    )
    assert (
        'lianxin_http_requests_total{method="GET",route="/shelves/{shelf}",service="observed",status="404"} 1.0'
        in metrics
    )
    assert (
        'lianxin_http_request_seconds_count{method="GET",route="/shelves/{shelf}",service="observed"} 2.0'
        in metrics
    )
    # One span per request, ours: FastAPI's own telemetry would add a server span and one per operation.
    spans = exported.get_finished_spans()
    assert [s.name for s in spans] == ["GET /shelves/{shelf}", "GET /shelves/{shelf}", "GET /metrics"]
    spans = spans[:2]
    assert [s.attributes["http.response.status_code"] for s in spans] == [200, 404]
    assert format(spans[0].context.trace_id, "032x") == "0af7651916cd43dd8448eb211c80319c"
    assert spans[0].parent is not None and format(spans[0].parent.span_id, "016x") == "b7ad6b7169203331"


def test_the_tracer_is_made_once_per_provider() -> None:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    from shared.telemetry import tracer

    first, second = TracerProvider(), TracerProvider()
    with patch.object(trace, "get_tracer_provider", lambda: first):
        kept = tracer()
        assert tracer() is kept
    with patch.object(trace, "get_tracer_provider", lambda: second):
        assert tracer() is not kept
        assert tracer() is tracer()
