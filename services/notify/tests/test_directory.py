"""The registry directory: a member's name from the registry's roll of names, the member itself only when the roll
does not hold them yet (its projection behind the event that brought the notice)."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID, uuid4

import httpx

from notify.application.directory import RegistryDirectory

REGISTRY = "http://registry.test"


class Tokens:
    def headers(self, tenant: str, scopes: Iterable[str]) -> dict[str, str]:
        return {"Authorization": "Bearer t", "X-Lianxin-Tenant": tenant, "X-Scopes": " ".join(scopes)}


def directory(roll: dict[UUID, str | None], members: dict[UUID, str]) -> tuple[RegistryDirectory, list[str]]:
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        assert request.headers["X-Scopes"] == "registry:names"
        if request.url.path == "/v1/members/-/names":
            ids = [UUID(i) for i in request.url.params.get_list("id")]
            return httpx.Response(
                200, json={"items": [{"id": str(i), "name": roll[i]} for i in ids if i in roll]}
            )
        member_id = UUID(request.url.path.rsplit("/", 1)[1])
        if member_id in members:
            return httpx.Response(200, json={"id": str(member_id), "name": members[member_id]})
        return httpx.Response(404, json={"title": "not found"})

    found = RegistryDirectory(REGISTRY, Tokens())  # type: ignore[arg-type]
    found.client = httpx.Client(transport=httpx.MockTransport(answer))
    return found, asked


def test_a_name_on_the_roll_is_read_from_it_alone() -> None:
    member = uuid4()
    names, asked = directory({member: "欧阳名册"}, {member: "欧阳名册"})
    assert names.member_name("t1", member) == "欧阳名册"
    assert asked == ["/v1/members/-/names"]


def test_a_member_the_roll_does_not_hold_yet_is_asked_for_itself() -> None:
    member = uuid4()
    names, asked = directory({}, {member: "欧阳新人"})
    assert names.member_name("t1", member) == "欧阳新人"
    assert asked == ["/v1/members/-/names", f"/v1/members/{member}"]


def test_an_erased_name_on_the_roll_stays_unnamed_and_a_member_nowhere_has_no_name() -> None:
    erased, unknown = uuid4(), uuid4()
    names, asked = directory({erased: None}, {})
    assert names.member_name("t1", erased) is None
    assert asked == ["/v1/members/-/names"]
    assert names.member_name("t1", unknown) is None
    assert asked[1:] == ["/v1/members/-/names", f"/v1/members/{unknown}"]
