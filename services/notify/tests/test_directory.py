"""The registry directory: a member's name from the registry's roll of names, the member itself only when the roll
does not hold them yet (its projection behind the event that brought the notice)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from uuid import UUID, uuid4

import httpx

from notify.application import NotifyApplication
from notify.application.directory import RegistryDirectory
from notify.consumers import apply_run
from shared.consumer import Applied
from shared.envelope import CloudEvent

REGISTRY = "http://registry.test"


def registered(sequence: int, *, tenant: str) -> CloudEvent:
    member = uuid4()
    return CloudEvent(
        id=f"{member}:1",
        source="/lianxin/registry",
        type="cn.lianxin.registry.member_registered.v1",
        subject=str(member),
        time=datetime(2026, 11, 23, 1, 59, tzinfo=UTC),
        tenantid=tenant,
        sequence=str(sequence),
        correlationid="c",
        data={
            "member_id": str(member),
            "organisation_id": str(uuid4()),
            "category": "full",
            "registered_on": "2026-11-22",
        },
    )


class Tokens:
    def headers(self, tenant: str, scopes: Iterable[str]) -> dict[str, str]:
        return {"Authorization": "Bearer t", "X-Lianxin-Tenant": tenant, "X-Scopes": " ".join(scopes)}


def directory(
    roll: dict[UUID, str | None], members: dict[UUID, str], *, status: int = 200, tenant: str = "t1"
) -> tuple[RegistryDirectory, list[str]]:
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        assert request.headers["X-Scopes"] == "registry:names"
        if request.url.path == "/v1/members/-/names":
            ids = [UUID(i) for i in request.url.params.get_list("id")]
            assert 1 <= len(ids) <= 200 and request.headers["X-Lianxin-Tenant"] == tenant
            if status != 200:
                return httpx.Response(status, json={"title": "unavailable"})
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


def test_a_runs_names_are_read_together_two_hundred_at_most_and_the_unlisted_left_out() -> None:
    listed = [uuid4() for _ in range(250)]
    erased, behind = uuid4(), uuid4()
    roll: dict[UUID, str | None] = {m: f"名{n}" for n, m in enumerate(listed)}
    roll[erased] = None
    names, asked = directory(roll, {behind: "欧阳新人"})
    found = names.member_names("t1", [*listed, erased, behind, listed[0]])
    assert asked == ["/v1/members/-/names"] * 2  # 252 different members: 200, then 52
    assert found == {**{m: f"名{n}" for n, m in enumerate(listed)}, erased: None}  # `behind` for member_name


def test_a_failed_read_of_a_runs_names_gives_none_of_them() -> None:
    member = uuid4()
    names, asked = directory({member: "欧阳名册"}, {}, status=503)
    assert names.member_names("t1", [member]) == {}
    assert asked == ["/v1/members/-/names"]


def test_a_run_of_registrations_asks_the_registry_once() -> None:
    events = [registered(n, tenant="tenant-one") for n in range(1, 31)]
    roll: dict[UUID, str | None] = {UUID(str(e.data["member_id"])): f"名{n}" for n, e in enumerate(events)}
    names, asked = directory(roll, {}, tenant="tenant-one")
    app = NotifyApplication({"PERSISTENCE_MODULE": "eventsourcing.popo"}, directory=names)
    assert apply_run(app, events) == Applied(30)
    assert asked == ["/v1/members/-/names"]
