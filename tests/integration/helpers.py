"""Small client helpers for the black-box tests: their own view of the API, not the services' models."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import httpx

T = TypeVar("T")


def new_tenant() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


def service_now(service_url: str) -> datetime:
    """The service's own time (the test clock every platform under test runs on), never the machine's date."""
    response = httpx.get(f"{service_url}/_test/clock")
    assert response.status_code == 200, response.text
    return datetime.fromisoformat(response.json()["now"])


def eventually(
    probe: Callable[[], T | None], *, timeout: float = 20, interval: float = 0.2, what: str = "condition"
) -> T:
    """Poll until `probe` returns something truthy; the deadline bounds a test, it measures nothing."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def build_tree(registry: str, headers: dict[str, str]) -> tuple[str, str]:
    """A committee and one branch; returns their ids."""
    root = httpx.post(
        f"{registry}/v1/organisations",
        headers=headers,
        json={"code": "ROOT", "name": "测试大学党委", "kind": "primary_committee"},
    )
    assert root.status_code == 201, root.text
    branch = httpx.post(
        f"{registry}/v1/organisations",
        headers=headers,
        json={"code": "B1", "name": "测试第一党支部", "kind": "branch", "parent_id": root.json()["id"]},
    )
    assert branch.status_code == 201, branch.text
    return root.json()["id"], branch.json()["id"]


def register(
    registry: str, headers: dict[str, str], branch_id: str, name: str = "测试党员", **extra_headers: str
) -> httpx.Response:
    return httpx.post(
        f"{registry}/v1/members",
        headers={**headers, **extra_headers},
        json={"name": name, "organisation_id": branch_id, "category": "full"},
    )


def inbox(notify: str, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = httpx.get(f"{notify}/v1/inbox", headers=headers, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def national_id(birth: str | None = None, region: str = "110105", sequence: int | None = None) -> str:
    """A well-formed national ID number (GB 11643 check digit), random birth date and sequence unless given.
    Several people born on one given day need their own `sequence`: random ones collide (7 of them: 2 %)."""
    import random

    birth = birth or f"{random.randint(1960, 2004)}{random.randint(1, 12):02d}{random.randint(1, 28):02d}"
    body = f"{region}{birth}{random.randint(0, 999) if sequence is None else sequence:03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
