"""What the attack suite shares: the operations of the four OpenAPI documents, request bodies built from their
schemas, a small world with planted personal data, and the tally every attack prints (tried / refused / leaked).

The suite is generated from the documents, so a new endpoint is attacked the day it is added.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.integration.conftest import Running
from tests.integration.helpers import eventually, national_id, new_tenant

SERVICES = ("registry", "transfer", "learning", "notify")
# Public by design (a letter is checked by whoever holds it; SMS providers call back with the tenant's callback
# token, not a bearer token) or operations endpoints: no bearer token, no tenant data.
PUBLIC = re.compile(
    r"^/(healthz|readyz|metrics)$|^/v1/letters/verify|^/v1/tenants/\{tenant\}/letter-keys$"
    r"|^/v1/mobile/callbacks/"
)
PATTERN_EXAMPLES = {
    r"^([01]\d|2[0-3]):[0-5]\d$": "22:00",
    r"^\d{4}-\d{2}$": "2026-11",
}


@dataclass(frozen=True)
class Operation:
    service: str
    method: str
    path: str
    spec: dict[str, Any]
    document: dict[str, Any] = field(repr=False, compare=False, hash=False)

    @property
    def name(self) -> str:
        return f"{self.service} {self.method} {self.path}"

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"\{(\w+)\}", self.path)

    def parameters(self, where: str) -> list[dict[str, Any]]:
        return [p for p in self.spec.get("parameters", []) if p.get("in") == where]

    def json_schema(self) -> dict[str, Any] | None:
        content = self.spec.get("requestBody", {}).get("content", {})
        schema = content.get("application/json", {}).get("schema")
        return resolve(self.document, schema) if schema else None

    @property
    def takes_csv(self) -> bool:
        return "text/csv" in self.spec.get("requestBody", {}).get("content", {})


def operations(running: Running) -> list[Operation]:
    found = []
    for service in SERVICES:
        document = httpx.get(f"{running.url(service)}/openapi.json").json()
        for path, methods in document["paths"].items():
            for method, spec in methods.items():
                if method.lower() in ("get", "post", "put", "patch", "delete"):
                    found.append(Operation(service, method.upper(), path, spec, document))
    return found


def resolve(document: dict[str, Any], schema: Any) -> Any:
    if isinstance(schema, dict) and "$ref" in schema:
        target: Any = document
        for part in schema["$ref"].lstrip("#/").split("/"):
            target = target[part]
        return resolve(document, target)
    return schema


def example(document: dict[str, Any], schema: Any, ids: dict[str, str], name: str = "") -> Any:
    """A value the schema accepts, with ids from the world where a field is named like one (all fields, optional
    ones included, so every string reaches the validator)."""
    schema = resolve(document, schema) or {}
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if schema.get("examples"):
        return schema["examples"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [resolve(document, s) for s in schema[key]]
            non_null = [s for s in options if s.get("type") != "null"]
            return example(document, (non_null or options)[0], ids, name)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {k: example(document, v, ids, k) for k, v in schema.get("properties", {}).items()}
    if kind == "array":
        return [
            example(document, schema.get("items", {}), ids, name)
            for _ in range(max(1, schema.get("minItems", 1)))
        ]
    if kind == "integer":
        return int(schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1))
    if kind == "number":
        return float(schema.get("minimum", 1))
    if kind == "boolean":
        return False
    fmt = schema.get("format")
    if name in ids:
        return ids[name]
    if fmt == "uuid":
        return str(uuid.uuid4())
    if fmt == "date":
        return "2026-11-20"
    if fmt == "date-time":
        return "2026-11-20T10:00:00+08:00"
    if fmt in ("uri", "url") or "url" in name:
        return "https://hooks.example.com/lianxin"
    if schema.get("pattern") in PATTERN_EXAMPLES:
        return PATTERN_EXAMPLES[schema["pattern"]]
    return "x" * max(1, int(schema.get("minLength", 1)))


def string_paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Where the strings are in a body: ('name',), ('items', 0, 'title'), ..."""
    if isinstance(value, str):
        yield prefix
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from string_paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from string_paths(item, (*prefix, index))


def replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = json.loads(json.dumps(value))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return copy


def fill_path(op: Operation, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), str(uuid.uuid4())), op.path)


def send(
    running: Running,
    op: Operation,
    headers: dict[str, str],
    ids: dict[str, str],
    *,
    body: Any = None,
    url_path: str | None = None,
    params: dict[str, str] | None = None,
) -> httpx.Response:
    url = f"{running.url(op.service)}{url_path or fill_path(op, ids)}"
    if op.takes_csv:
        return httpx.request(
            op.method,
            url,
            headers={**headers, "Content-Type": "text/csv"},
            params=params,
            content="member_id,name,organisation_code,category\n",
            timeout=30,
        )
    if body is None and op.json_schema() is not None:
        body = example(op.document, op.json_schema(), ids)
    content = None if body is None else json.dumps(body).encode()  # ASCII escapes: lone surrogates survive
    return httpx.request(
        op.method,
        url,
        params=params,
        content=content,
        timeout=30,
        headers={**headers, **({"Content-Type": "application/json"} if content else {})},
    )


@dataclass
class Tally:
    """What an attack tried, what was refused, what leaked; printed at the end of each attack."""

    attack: str
    ok_word: str = "refused"  # what a passing call counts as
    tried: int = 0
    refused: int = 0
    allowed: int = 0  # calls the caller may make by design: only checked for leaks and server errors
    leaked: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def record(self, refused: bool, what: str, leaked: list[str] | None = None) -> None:
        self.tried += 1
        self.refused += int(refused)
        if leaked:
            self.leaked.append(f"{what}: {leaked}")
        if not refused:
            self.failures.append(what)

    def allow(self, what: str, leaked: list[str] | None = None) -> None:
        self.allowed += 1
        if leaked:
            self.leaked.append(f"{what}: {leaked}")

    def report(self) -> str:
        line = (
            f"[attack] {self.attack}: tried {self.tried} / {self.ok_word} {self.refused} / leaked {len(self.leaked)}"
            + (f" (and {self.allowed} calls allowed by design, checked for leaks)" if self.allowed else "")
        )
        print(line)
        return line


@dataclass
class World:
    """One tenant with two branches; a planted member in branch 1 whose name, ID number and phone must not leak."""

    tenant: str
    root: str
    branch: str
    other_branch: str
    member: str
    other_member: str
    name: str
    id_number: str
    phone: str
    ids: dict[str, str]

    @property
    def planted(self) -> list[str]:
        return [self.name, self.id_number, self.phone]


def plant(running: Running) -> World:
    registry = running.url("registry")
    tenant = new_tenant()
    committee = running.auth(tenant, "committee", "tenant_admin")
    root = httpx.post(
        f"{registry}/v1/organisations",
        headers=committee,
        json={"code": "ROOT", "name": "攻防测试党委", "kind": "primary_committee"},
    ).json()["id"]
    branch, other = (
        httpx.post(
            f"{registry}/v1/organisations",
            headers=committee,
            json={"code": code, "name": f"攻防测试{code}支部", "kind": "branch", "parent_id": root},
        ).json()["id"]
        for code in ("B1", "B2")
    )
    marker = uuid.uuid4().hex[:6]
    name = f"种植姓名{marker}"
    id_number = national_id()
    phone = f"139{int(marker, 16) % 10**8:08d}"
    member = httpx.post(
        f"{registry}/v1/members",
        headers={**committee, "Idempotency-Key": f"plant-{marker}"},
        json={
            "name": name,
            "organisation_id": branch,
            "category": "full",
            "national_id_number": id_number,
            "phone": phone,
            "birth_date": f"{id_number[6:10]}-{id_number[10:12]}-{id_number[12:14]}",
        },
    )
    assert member.status_code == 201, member.text
    other_member = httpx.post(
        f"{registry}/v1/members",
        headers=committee,
        json={"name": f"另一党员{marker}", "organisation_id": other, "category": "full"},
    ).json()["id"]
    registration = httpx.post(
        f"{registry}/v1/mobile-registrations",
        headers=committee,
        json={
            "member_id": member.json()["id"],
            "reason": "务工",
            "destination": "外地",
            "expected_months": 3,
            "fixed_place": False,
            "contact": phone,
        },
    )
    assert registration.status_code == 201, registration.text
    ids = {
        "organisation_id": branch,
        "member_id": member.json()["id"],
        "registration_id": registration.json()["id"],
        "certificate_id": registration.json()["certificate_id"],
        "tenant": tenant,
        "name": "ops",
        "subject": "someone",
        "role": "branch_secretary",
        "worklist": "todo",
        "rule": "transfer-requested",
        "host_org_id": branch,
        "receiving_org_id": other,
        "organisation_ids": branch,
    }
    ids.update(_learning_ids(running, tenant, branch, member.json()["id"]))
    ids.update(_transfer_ids(running, tenant, member.json()["id"], other))
    ids["item_id"] = _inbox_item(running, tenant, branch)
    return World(tenant, root, branch, other, member.json()["id"], other_member, name, id_number, phone, ids)


def _learning_ids(running: Running, tenant: str, branch: str, member: str) -> dict[str, str]:
    learning = running.url("learning")
    committee = running.auth(tenant, "committee", "tenant_admin")
    found: dict[str, str] = {}
    document = httpx.get(f"{learning}/openapi.json").json()
    for key, path in (
        ("meeting_id", "/v1/meetings"),
        ("course_id", "/v1/courses"),
        ("bank_id", "/v1/question-banks"),
    ):
        schema = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        body = example(document, schema, {"organisation_id": branch, "member_id": member})
        response = httpx.post(f"{learning}{path}", headers=committee, json=body)
        if response.status_code in (200, 201):
            found[key] = response.json()["id"]
    return found


def _transfer_ids(running: Running, tenant: str, member: str, other_branch: str) -> dict[str, str]:
    response = httpx.post(
        f"{running.url('transfer')}/v1/transfers",
        headers=running.auth(tenant, "committee", "tenant_admin"),
        json={
            "member_id": member,
            "destination": "same_tenant",
            "receiving_tenant": tenant,
            "receiving_org_id": other_branch,
            "reason": "工作调动",
        },
    )
    return {"case_id": response.json()["id"]} if response.status_code in (200, 201) else {}


def _inbox_item(running: Running, tenant: str, branch: str) -> str:
    """The branch-1 secretary's inbox item about the planted member's registration."""
    notify = running.url("notify")
    secretary = running.auth(tenant, "branch_secretary", orgs=[branch])

    def probe() -> str | None:
        items = httpx.get(f"{notify}/v1/inbox", headers=secretary).json().get("items", [])
        return str(items[0]["id"]) if items else None

    try:
        return eventually(probe, timeout=20, what="an inbox item for the branch secretary")
    except AssertionError:
        return str(uuid.uuid4())


def leaks(response: httpx.Response, planted: list[str], sent: str = "") -> list[str]:
    return [p for p in planted if p in response.text and p not in sent]
