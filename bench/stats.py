"""Latency summaries and the little HTTP set-up every phase shares."""

from __future__ import annotations

import statistics
from typing import Any

import httpx


def percentile(values: list[float], share: float) -> float:
    """Nearest rank below: with 100 samples p99 is the 99th smallest."""
    ordered = sorted(values)
    return ordered[int(share * (len(ordered) - 1))] if ordered else 0.0


def latency_ms(seconds: list[float]) -> dict[str, float]:
    return {
        "p50_ms": 1000 * statistics.median(seconds) if seconds else 0.0,
        "p99_ms": 1000 * percentile(seconds, 0.99),
    }


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def created(response: httpx.Response) -> dict[str, Any]:
    """The body of a 201; anything else stops the run with the service's own words."""
    if response.status_code != 201:
        raise RuntimeError(
            f"{response.request.method} {response.request.url} answered "
            f"{response.status_code}: {response.text[:300]}"
        )
    body: dict[str, Any] = response.json()
    return body


def found_branch(registry: str, headers: dict[str, str], label: str) -> str:
    """A primary committee and one branch under it, over the API; returns the branch id."""
    committee = created(
        httpx.post(
            f"{registry}/v1/organisations",
            headers=headers,
            timeout=30,
            json={"code": "R", "name": f"{label}党委", "kind": "primary_committee"},
        )
    )
    branch = created(
        httpx.post(
            f"{registry}/v1/organisations",
            headers=headers,
            timeout=30,
            json={"code": "B", "name": f"{label}支部", "kind": "branch", "parent_id": committee["id"]},
        )
    )
    return str(branch["id"])
