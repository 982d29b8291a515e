"""The registry over HTTP and NATS: profiles masked and sealed, decisions recorded, the participant protocol."""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.integration.conftest import Infra, Running, start_platform
from tests.integration.helpers import build_tree, eventually, national_id, new_tenant
from tests.integration.jetstream import messages, publish

pytestmark = pytest.mark.integration
ID_NUMBER = "11010519491231002X"
PHONE = "13812345678"
sequence = itertools.count(1)


@pytest.fixture(scope="module")
def registry_only(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """The registry alone on its own NATS: these tests play the transfer service by publishing its requests."""
    running = start_platform(infra, tmp_path_factory.mktemp("registry"), services=("registry",))
    try:
        yield running
    finally:
        running.stop()


def enrol_member(
    running: Running, tenant: str, **profile: object
) -> tuple[dict[str, str], str, dict[str, object]]:
    headers = running.auth(tenant, "committee")
    _, branch = build_tree(running.url("registry"), headers)
    body = {
        "name": "李明",
        "organisation_id": branch,
        "category": "probationary",
        "gender": "male",
        "ethnicity": "汉族",
        "national_id_number": national_id(),
        "phone": PHONE,
        **profile,
    }
    response = httpx.post(f"{running.url('registry')}/v1/members", headers=headers, json=body)
    assert response.status_code == 201, response.text
    return headers, branch, response.json()


def test_personal_data_is_masked_sealed_and_unmasked_reads_are_recorded(registry_only: Running) -> None:
    running, tenant = registry_only, new_tenant()
    headers, branch, member = enrol_member(running, tenant, national_id_number=ID_NUMBER)
    assert member["national_id_number"] == "**************002X" and member["phone"] == "138****5678"

    secretary = running.auth(tenant, "branch_secretary", orgs=[branch])
    refused = httpx.get(
        f"{running.url('registry')}/v1/members/{member['id']}",
        headers=secretary,
        params={"unmasked": "true", "purpose": "查看"},
    )
    assert refused.status_code == 403
    full = httpx.get(
        f"{running.url('registry')}/v1/members/{member['id']}",
        headers=headers,
        params={"unmasked": "true", "purpose": "开具介绍信"},
    )
    assert full.status_code == 200 and full.json()["national_id_number"] == ID_NUMBER
    history = httpx.get(
        f"{running.url('registry')}/v1/members/{member['id']}/history", headers=secretary
    ).json()
    assert (
        history[-1]["type"] == "PersonalDataDisclosed" and history[-1]["changes"]["purpose"] == "开具介绍信"
    )
    assert all(ID_NUMBER not in json.dumps(h, ensure_ascii=False) for h in history)

    roll = eventually(
        lambda: httpx.get(
            f"{running.url('registry')}/v1/members", headers=secretary, params={"organisation_id": branch}
        ).json()["items"],
        what="the roll",
    )
    assert roll[0]["name"] == "李明" and roll[0]["national_id_number"] == "**************002X"

    # Nowhere in plaintext: not the event store, not the read models, not the logs.
    for table in ("registry_events", "members", "organisations"):
        dump = running.sql("registry", f"SELECT string_agg(t::text, ' ') FROM {table} t")[0][0] or ""
        assert ID_NUMBER not in dump and PHONE not in dump and "李明" not in dump, table
    log = running.platform.services["registry"].log_path.read_text()
    assert ID_NUMBER not in log and PHONE not in log


def test_an_invalid_national_id_is_a_clear_422(registry_only: Running) -> None:
    running, tenant = registry_only, new_tenant()
    headers = running.auth(tenant, "committee")
    _, branch = build_tree(running.url("registry"), headers)
    response = httpx.post(
        f"{running.url('registry')}/v1/members",
        headers=headers,
        json={
            "name": "王芳",
            "organisation_id": branch,
            "category": "full",
            "national_id_number": "110105194912310021",
        },
    )
    assert response.status_code == 422 and "check digit" in response.json()["detail"]
    assert response.json()["field"] == "national_id_number"


def test_the_same_person_is_not_registered_on_two_rolls(registry_only: Running) -> None:
    running = registry_only
    number = national_id("19900101", "320102")
    enrol_member(running, new_tenant(), national_id_number=number)
    headers = running.auth(other := new_tenant(), "committee")
    _, branch = build_tree(running.url("registry"), headers)
    response = httpx.post(
        f"{running.url('registry')}/v1/members",
        headers=headers,
        json={"name": "李明", "organisation_id": branch, "category": "full", "national_id_number": number},
    )
    assert response.status_code == 409 and response.json()["type"].endswith("person-already-on-a-roll")
    assert other not in response.text


def test_a_decision_is_recorded_with_who_and_on_what_basis(registry_only: Running) -> None:
    running, tenant = registry_only, new_tenant()
    headers, _, member = enrol_member(running, tenant, national_id_number=national_id("19850202", "440301"))
    response = httpx.post(
        f"{running.url('registry')}/v1/members/{member['id']}/decisions",
        headers=headers,
        json={
            "kind": "regularisation",
            "decided_on": "2026-11-20",
            "decided_by": "支部党员大会",
            "basis": "2026年第4次支部党员大会决议",
        },
    )
    assert response.status_code == 200 and response.json()["category"] == "full"
    again = httpx.post(
        f"{running.url('registry')}/v1/members/{member['id']}/decisions",
        headers=headers,
        json={
            "kind": "regularisation",
            "decided_on": "2026-11-21",
            "decided_by": "支部党员大会",
            "basis": "重复",
        },
    )
    assert again.status_code == 422


# The transfer requests below are as the transfer relay published them at this instant (the registry only
# records the time; nothing here depends on it).
SENT_AT = "2026-11-23T10:00:00+08:00"


def transfer_request(tenant: str, kind: str, case: str, member_id: str, **data: object) -> bytes:
    body = {
        "case_id": case,
        "command_id": f"{case}:{kind}",
        "member_id": member_id,
        "sending_tenant": tenant,
        **data,
    }
    event = {
        "specversion": "1.0",
        "id": f"{case}:{next(sequence)}",
        "source": "/lianxin/transfer",
        "type": f"cn.lianxin.transfer.{kind}.v1",
        "subject": case,
        "time": SENT_AT,
        "tenantid": tenant,
        "sequence": str(next(sequence)),
        "correlationid": case,
        "data": body,
    }
    return json.dumps(event).encode()


def replies(running: Running, tenant: str, kind: str) -> list[dict[str, object]]:
    found = messages(running.platform.nats_url, "LIANXIN_REGISTRY", f"lianxin.registry.{tenant}.{kind}")
    return [json.loads(m.data)["data"] for m in found]


def test_holds_over_nats_refuse_a_second_transfer_and_lift_on_compensation(registry_only: Running) -> None:
    running, tenant = registry_only, new_tenant()
    _, _, member = enrol_member(running, tenant, national_id_number=national_id("19880315", "510104"))
    case1, case2 = f"case-{uuid.uuid4().hex[:6]}", f"case-{uuid.uuid4().hex[:6]}"
    url = running.platform.nats_url
    publish(
        url,
        f"lianxin.transfer.{tenant}.hold_requested",
        transfer_request(tenant, "hold_requested", case1, member["id"]),
    )
    placed = eventually(lambda: replies(running, tenant, "hold_placed"), what="hold_placed")
    assert placed[0]["command_id"] == f"{case1}:hold_requested"
    shown = httpx.get(
        f"{running.url('registry')}/v1/members/{member['id']}", headers=running.auth(tenant, "committee")
    )
    assert shown.json()["transfer_pending"] == case1

    publish(
        url,
        f"lianxin.transfer.{tenant}.hold_requested",
        transfer_request(tenant, "hold_requested", case2, member["id"]),
    )
    refused = eventually(lambda: replies(running, tenant, "hold_refused"), what="hold_refused")
    assert refused[0]["reason_code"] == "transfer_pending" and refused[0]["case_id"] == case2

    publish(
        url,
        f"lianxin.transfer.{tenant}.hold_release_requested",
        transfer_request(tenant, "hold_release_requested", case1, member["id"]),
    )
    eventually(lambda: replies(running, tenant, "hold_lifted"), what="hold_lifted")
    shown = httpx.get(
        f"{running.url('registry')}/v1/members/{member['id']}", headers=running.auth(tenant, "committee")
    )
    assert shown.json()["transfer_pending"] is None and shown.json()["roll"] == "on_roll"


def test_names_by_id_for_a_page_of_members_in_the_callers_scope_and_tenant(registry_only: Running) -> None:
    running, tenant = registry_only, new_tenant()
    registry = running.url("registry")
    headers, branch, member = enrol_member(running, tenant, name="张三")
    other_branch = httpx.post(
        f"{registry}/v1/organisations",
        headers=headers,
        json={
            "code": "B2",
            "name": "测试第二党支部",
            "kind": "branch",
            "parent_id": member_root(running, headers),
        },
    ).json()["id"]
    neighbour = httpx.post(
        f"{registry}/v1/members",
        headers=headers,
        json={
            "name": "王五",
            "organisation_id": other_branch,
            "category": "full",
            "national_id_number": national_id(),
        },
    ).json()
    unknown = str(uuid.uuid4())
    ids = [member["id"], neighbour["id"], unknown]

    def names(who: dict[str, str], asked: list[str]) -> httpx.Response:
        return httpx.get(f"{registry}/v1/members/-/names", headers=who, params={"id": asked})

    # The roll is a read model: the registrations reach it a moment after their 201s.
    eventually(lambda: len(names(headers, ids).json()["items"]) == 2 or None, what="both members on the roll")
    assert sorted((n["id"], n["name"]) for n in names(headers, ids).json()["items"]) == sorted(
        [(member["id"], "张三"), (neighbour["id"], "王五")]
    )
    secretary = running.auth(tenant, "branch_secretary", orgs=[branch])
    assert names(secretary, ids).json() == {"items": [{"id": member["id"], "name": "张三"}]}
    outsider = running.auth(new_tenant(), "committee")
    assert names(outsider, ids).json() == {"items": []}
    assert names(running.auth(tenant, "member"), ids).status_code == 403

    too_many = names(headers, [str(uuid.uuid4()) for _ in range(201)])
    assert too_many.status_code == 422 and "id" in too_many.text
    assert names(headers, []).status_code == 422
    assert names(headers, ["not-an-id"]).status_code == 422


def member_root(running: Running, headers: dict[str, str]) -> str:
    """The id of the tenant's committee (build_tree's ROOT)."""
    page = httpx.get(f"{running.url('registry')}/v1/organisations", headers=headers).json()
    return next(o["id"] for o in page["items"] if o["code"] == "ROOT")


async def test_registrations_sent_together_are_each_answered_as_alone(registry_only: Running) -> None:
    """Concurrent POSTs go to the registry's group commit together: each still gets its own answer (201, its own
    404, 422 or 409), and the roll holds exactly the members answered with 201, each once."""
    running, tenant = registry_only, new_tenant()
    headers = running.auth(tenant, "committee")
    _, branch = build_tree(running.url("registry"), headers)
    person = national_id("19850505", "320102")
    plain = {"name": "赵六", "organisation_id": branch, "category": "full"}
    bodies = [
        *([plain] * 5),
        {**plain, "organisation_id": str(uuid.uuid4())},  # 404
        {**plain, "national_id_number": "110105194912310021"},  # 422
        {**plain, "national_id_number": person},
        {**plain, "national_id_number": person},  # the same person: 409 for one of the two
    ]
    async with httpx.AsyncClient(base_url=running.url("registry"), headers=headers, timeout=30) as client:
        keyed = {"Idempotency-Key": f"together-{uuid.uuid4()}"}
        answers = await asyncio.gather(
            *(client.post("/v1/members", json=body) for body in bodies),
            client.post("/v1/members", json=plain, headers=keyed),
        )
        replayed = await client.post("/v1/members", json=plain, headers=keyed)
    statuses = [a.status_code for a in answers]
    assert statuses[:5] == [201] * 5 and statuses[5:7] == [404, 422] and statuses[9] == 201
    assert sorted(statuses[7:9]) == [201, 409]
    assert replayed.status_code == 201 and replayed.json() == answers[9].json()
    created = {a.json()["id"] for a in answers if a.status_code == 201}

    def roll() -> list[str] | None:
        items = httpx.get(f"{running.url('registry')}/v1/members", headers=headers).json()["items"]
        return [m["id"] for m in items] if len(items) >= len(created) else None

    assert sorted(eventually(roll, what="the roll")) == sorted(created)
