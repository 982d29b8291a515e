"""The letter's facts are read from the registry all at once, and a failure reads as it did one read after the
other: the member's first, then the branch's, then the dues'."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import pytest

from shared.errors import NotFound
from transfer.application.registry_client import RegistryUnavailable, letter_facts

MEMBER = {"name": "张三", "category": "full", "birth_date": "1990-01-02", "gender": "male"}
BRANCH = {"name": "第一支部", "kind": "branch", "parent_id": str(uuid4())}
COMMITTEE = {"name": "机关党委", "kind": "primary_committee", "parent_id": None}


class Registry:
    """Answers after all the reads have been asked for, so reads one after the other would never be answered."""

    def __init__(self, reads: int, *, member: Exception | None = None, dues: Exception | None = None) -> None:
        self.asked: list[str] = []
        self.all_asked = asyncio.Event()
        self.reads = reads
        self.failures = {"member": member, "dues": dues}

    async def _answer(self, what: str, body: Any) -> Any:
        self.asked.append(what)
        if len(self.asked) >= self.reads:
            self.all_asked.set()
        await asyncio.wait_for(self.all_asked.wait(), timeout=5)
        failure = self.failures.get(what)
        if failure is not None:
            raise failure
        return body

    async def member(self, tenant: str, member_id: UUID, *, unmasked: bool = False) -> dict[str, Any]:
        assert unmasked
        return dict(await self._answer("member", MEMBER))

    async def organisation(self, tenant: str, organisation_id: UUID) -> dict[str, Any]:
        return dict(await self._answer("organisation", BRANCH))

    async def issuing_committee(self, tenant: str, branch: dict[str, Any]) -> dict[str, Any]:
        return dict(await self._answer("issuer", COMMITTEE))

    async def dues_paid_through(self, tenant: str, member_id: UUID) -> str | None:
        return str(await self._answer("dues", "2026-10"))


async def facts(registry: Registry) -> dict[str, Any]:
    return await letter_facts(
        registry,  # type: ignore[arg-type]
        "t1",
        uuid4(),
        uuid4(),
        date(2026, 12, 2),
        dues_paid_through=None,
        issuer_address="北京",
        issuer_phone="010",
    )


async def test_the_member_the_branch_and_the_dues_are_asked_for_together() -> None:
    registry = Registry(reads=3)  # member, branch and dues at once; the issuer follows the branch
    fields = await facts(registry)
    assert set(registry.asked[:3]) == {"member", "organisation", "dues"}
    assert registry.asked[3] == "issuer"
    assert fields["name"] == "张三"
    assert fields["from_org"] == "第一支部"
    assert fields["issuer_name"] == "机关党委"
    assert fields["dues_paid_through"] == "2026-10"


async def test_the_members_failure_is_the_one_reported_when_the_dues_fail_too() -> None:
    registry = Registry(reads=3, member=NotFound("no such member"), dues=RegistryUnavailable("down"))
    with pytest.raises(NotFound, match="no such member"):
        await facts(registry)
