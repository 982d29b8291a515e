"""The one text rule of every request model, the query/path guard, CSV in and out, bounded metric labels."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import Field, ValidationError

from shared.errors import Invalid
from shared.http import create_service_app
from shared.httpguard import metric_method
from shared.telemetry import HTTP_REQUESTS
from shared.text import StrictModel, control_character, read_csv_rows, spreadsheet_safe


class Inner(StrictModel):
    title: str


class Outer(StrictModel):
    name: str
    tags: list[str] = Field(default_factory=list)
    inner: Inner | None = None
    extra: dict[str, str] = Field(default_factory=dict)


@pytest.mark.parametrize("bad", ["a\x00b", "a\x1bb", "a\x7fb", "a\x85b", "a\rb", "a\ud800b", "\x0c"])
def test_control_characters_are_refused_naming_the_field(bad: str) -> None:
    for data, field in (
        ({"name": bad}, "name"),
        ({"name": "ok", "tags": ["x", bad]}, "tags"),
        ({"name": "ok", "inner": {"title": bad}}, "inner"),
        ({"name": "ok", "extra": {bad: "v"}}, "extra"),
    ):
        with pytest.raises(ValidationError) as caught:
            Outer.model_validate(data)
        assert caught.value.errors()[0]["loc"][0] == field
        assert "control character" in str(caught.value)


def test_ordinary_text_tabs_and_line_ends_pass() -> None:
    model = Outer.model_validate(
        {"name": " 李明\t(党员) ", "tags": ["第一\r\n第二\n"], "inner": {"title": "会议"}}
    )
    assert model.name == "李明\t(党员)" and control_character("a\r\nb\tc") is None


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError):
        Outer.model_validate({"name": "a", "surprise": 1})


@asynccontextmanager
async def no_runtime(_: FastAPI) -> AsyncIterator[None]:
    yield


def client(service: str = "guard") -> TestClient:
    app = create_service_app(
        service=service, title="t", version="0", description="t", lifespan=no_runtime, max_body_bytes=1024
    )

    @app.get("/items/{code}")
    def item(code: str, q: str | None = None) -> dict[str, str | None]:
        return {"code": code, "q": q}

    return TestClient(app)


def test_nul_in_a_path_or_query_is_a_422_problem_naming_it() -> None:
    c = client()
    path = c.get("/items/%00")
    assert path.status_code == 422 and path.headers["content-type"] == "application/problem+json"
    assert path.json()["errors"][0]["field"] == "path"
    query = c.get("/items/ok", params={"q": "a\x00b"})
    assert query.status_code == 422 and query.json()["errors"][0]["field"] == "q"
    assert c.get("/items/中文", params={"q": "李明"}).json() == {"code": "中文", "q": "李明"}


def test_a_405_names_the_allowed_methods() -> None:
    response = client().delete("/items/x")
    assert response.status_code == 405 and response.headers["allow"] == "GET"


def test_random_methods_and_paths_share_one_label() -> None:
    c = client("guard-labels")
    for verb in ("FOO", "BAR", "BAZ"):
        c.request(verb, f"/nowhere/{verb}")
    labels = {
        s.labels["method"]
        for m in HTTP_REQUESTS.collect()
        for s in m.samples
        if s.labels.get("service") == "guard-labels"
    }
    routes = {
        s.labels["route"]
        for m in HTTP_REQUESTS.collect()
        for s in m.samples
        if s.labels.get("service") == "guard-labels"
    }
    assert labels == {"other"} and routes == {"unmatched"}
    assert metric_method("GET") == "GET" and metric_method("get ") == "other"


def test_csv_cells_that_start_a_formula_are_neutralised() -> None:
    for cell in ('=HYPERLINK("x")', "+cmd", "-2+3", "@SUM(A1)", "\t=1", "\r=1"):
        assert spreadsheet_safe(cell) == "'" + cell
    assert spreadsheet_safe("李明") == "李明" and spreadsheet_safe(None) == ""


def test_csv_reading_names_the_line_of_a_bare_cr_or_surplus_values() -> None:
    assert read_csv_rows("\ufeffname,code\r\na,b\n") == [{"name": "a", "code": "b"}]
    with pytest.raises(Invalid, match="line 3: a bare carriage return"):
        read_csv_rows("name,code\na,b\nc\rd,e\n")
    with pytest.raises(Invalid, match="line 2: more values"):
        read_csv_rows("name,code\na,b,c\n")
