"""Input abuse, generated from the OpenAPI documents: control characters in every string field of every request
model and in every path and query parameter (422 naming the field, never a 500, never stored), CSV formulas in
the roll export, a bare CR in a CSV import, oversized and deeply nested bodies. Afterwards every service is
still ready: no projection met an event it could not apply."""

from __future__ import annotations

import csv
import io
import json

import httpx
import pytest

from tests.integration.attack import PUBLIC, Tally, example, operations, plant, replaced, send, string_paths
from tests.integration.conftest import Running
from tests.integration.helpers import eventually, national_id

pytestmark = pytest.mark.integration

ABUSE = {
    "NUL": "a\x00b",
    "ESC": "a\x1b[31mb",
    "DEL": "a\x7fb",
    "C1 NEL": "a\x85b",
    "bare CR": "a\rb",
    "lone surrogate": "a\ud800b",
}
ALL_ROLES = ("committee", "tenant_admin", "branch_secretary", "auditor", "operator", "member")


def _named(response: httpx.Response, field: str, public: bool = False) -> bool:
    if public and response.status_code == 429:
        return True  # the public endpoints' rate limit answered first: refused all the same
    if response.status_code != 422:
        return False
    body = response.json()
    return "control character" in response.text and any(
        str(e.get("field", "")).split(".")[0] == field for e in body.get("errors", [])
    )


def test_control_characters_are_refused_in_every_string_field_and_parameter(running: Running) -> None:
    world = plant(running)
    # Every role at once, as the planted member: role checks pass, so what answers is the input validation.
    headers = {
        "Authorization": "Bearer "
        + running.token(
            world.tenant,
            *ALL_ROLES,
            subject=f"member:{world.member}",
            orgs=[world.branch, world.other_branch],
        )
    }
    tally = Tally("control characters")
    for op in operations(running):
        schema = op.json_schema()
        if schema is not None:
            body = example(op.document, schema, world.ids)
            for path in string_paths(body):
                for label, text in ABUSE.items():
                    response = send(running, op, headers, world.ids, body=replaced(body, path, text))
                    tally.record(
                        _named(response, str(path[0]), PUBLIC.search(op.path) is not None),
                        f"{op.name} body {'.'.join(map(str, path))} {label}: {response.status_code}",
                    )
        for parameter in op.parameters("query"):
            response = send(running, op, headers, world.ids, params={parameter["name"]: "a\x00b"})
            tally.record(
                _named(response, parameter["name"]), f"{op.name} ?{parameter['name']}: {response.status_code}"
            )
        for name in op.path_params:
            url_path = op.path.replace("{" + name + "}", "a%00b")
            for other in op.path_params:
                url_path = url_path.replace("{" + other + "}", world.ids.get(other, "x"))
            response = send(running, op, headers, world.ids, url_path=url_path)
            refused = response.status_code == 422 or (
                PUBLIC.search(op.path) is not None and response.status_code == 429
            )
            tally.record(refused, f"{op.name} path {name}: {response.status_code}")
    tally.report()
    assert tally.tried >= 300
    assert not tally.failures, "\n".join(tally.failures)
    public = httpx.get(f"{running.url('transfer')}/v1/letters/verify/%00")
    assert public.status_code == 422 and public.headers["content-type"] == "application/problem+json"
    for service in ("registry", "transfer", "learning", "notify"):
        ready = httpx.get(f"{running.url(service)}/readyz")
        assert ready.status_code == 200, ready.text


def test_csv_formulas_bare_cr_oversized_and_nested_bodies(running: Running) -> None:
    world = plant(running)
    registry = running.url("registry")
    committee = running.auth(world.tenant, "committee", "tenant_admin")
    tally = Tally("CSV and body abuse")
    formulas = ['=HYPERLINK("http://evil","x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\t=1+1"]
    upload = io.StringIO()
    writer = csv.writer(upload)
    writer.writerow(["name", "organisation_code", "category", "national_id_number"])
    writer.writerows([f, "B1", "正式", national_id()] for f in formulas)
    imported = httpx.post(
        f"{registry}/v1/members/import",
        headers={**committee, "Content-Type": "text/csv"},
        content=upload.getvalue().replace("\r\n", "\n"),
    )
    surplus = httpx.post(
        f"{registry}/v1/members/import",
        headers={**committee, "Content-Type": "text/csv"},
        content=f"name,organisation_code,category,national_id_number\na,b,B1,正式,{national_id()}\n",
    )
    tally.record(
        surplus.status_code == 422 and "line 2" in surplus.text, f"surplus values: {surplus.status_code}"
    )
    assert imported.status_code == 200, imported.text

    def exported() -> list[list[str]] | None:
        response = httpx.get(f"{registry}/v1/members/export.csv", headers=committee)
        rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
        return rows if len(rows) >= 1 + 2 + len(formulas) else None

    rows = eventually(exported, what="the imported rows in the export")
    names = [row[1] for row in rows[1:]]
    for formula in formulas:
        cell = formula.replace("\t", "")
        tally.record("'" + cell in names, f"export of {cell!r}")
    cells = [cell for row in rows[1:] for cell in row]
    tally.record(
        not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], "no cell starts a formula"
    )

    bare_cr = httpx.post(
        f"{registry}/v1/members/import",
        headers={**committee, "Content-Type": "text/csv"},
        content=f"name,organisation_code,category,national_id_number\na\rb,B1,正式,{national_id()}\n",
    )
    tally.record(bare_cr.status_code == 422 and "line 2" in bare_cr.text, f"bare CR: {bare_cr.status_code}")
    for service in ("registry", "transfer", "learning", "notify"):
        url = {
            "registry": "/v1/members",
            "transfer": "/v1/transfers",
            "learning": "/v1/meetings",
            "notify": "/v1/preferences/me",
        }[service]
        method = "PUT" if service == "notify" else "POST"
        big = httpx.request(
            method,
            f"{running.url(service)}{url}",
            headers={**committee, "Content-Type": "application/json"},
            content=b'{"name": "' + b"x" * 2_000_000 + b'"}',
            timeout=30,
        )
        tally.record(big.status_code == 413, f"{service} oversized: {big.status_code}")
        nested = "[" * 100_000 + "]" * 100_000
        deep = httpx.request(
            method,
            f"{running.url(service)}{url}",
            headers={**committee, "Content-Type": "application/json"},
            content=nested.encode(),
            timeout=30,
        )
        tally.record(400 <= deep.status_code < 500, f"{service} nested: {deep.status_code}")
        not_json = httpx.request(
            method,
            f"{running.url(service)}{url}",
            headers={**committee, "Content-Type": "application/json"},
            content=b"\xff\xfe{",
            timeout=30,
        )
        tally.record(400 <= not_json.status_code < 500, f"{service} invalid UTF-8: {not_json.status_code}")
    tally.report()
    assert not tally.failures, tally.failures
    assert json.loads(httpx.get(f"{registry}/readyz").text)["status"] == "ready"
