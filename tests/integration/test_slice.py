"""The first slice end to end: a member registered over HTTP, a CloudEvent on JetStream, an inbox item at notify."""

from __future__ import annotations

import asyncio
import json
from importlib import resources

import httpx
import jsonschema
import nats
import pytest

from tests.integration.conftest import Running
from tests.integration.helpers import build_tree, eventually, inbox, new_tenant, register

pytestmark = pytest.mark.integration
SCHEMA = json.loads(resources.files("shared").joinpath("schemas/cloudevents-1.0.json").read_text())


async def last_event(nats_url: str, subject: str) -> dict[str, object]:
    nc = await nats.connect(nats_url)
    try:
        msg = await nc.jetstream().get_last_msg("LIANXIN_REGISTRY", subject)
        assert msg.headers is not None
        document: dict[str, object] = json.loads(msg.data)
        document["_msg_id"] = msg.headers["Nats-Msg-Id"]
        return document
    finally:
        await nc.close()


def test_a_registered_member_reaches_the_secretaries_inbox(running: Running) -> None:
    tenant = new_tenant()
    registry, notify = running.url("registry"), running.url("notify")
    committee = running.auth(tenant, "committee")
    _, branch = build_tree(registry, committee)

    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    created = register(
        registry, committee, branch, name="李明", traceparent=f"00-{trace_id}-00f067aa0ba902b7-01"
    )
    assert created.status_code == 201, created.text
    member = created.json()
    assert member["name"] == "李明" and member["standing"] == "active" and member["roll"] == "on_roll"

    fetched = httpx.get(f"{registry}/v1/members/{member['id']}", headers=committee)
    assert fetched.status_code == 200 and fetched.json()["organisation_id"] == branch

    history = httpx.get(f"{registry}/v1/members/{member['id']}/history", headers=committee).json()
    assert [h["type"] for h in history] == ["Registered"]
    assert history[0]["by"] and history[0]["changes"]["profile"]["name"] == "李明"

    subject = f"lianxin.registry.{tenant}.member_registered"
    event = eventually(
        lambda: _try_last(running.platform.nats_url, subject), what="the CloudEvent on JetStream"
    )
    msg_id = event.pop("_msg_id")
    jsonschema.validate(event, SCHEMA, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    assert event["type"] == "cn.lianxin.registry.member_registered.v1"
    assert event["id"] == msg_id == f"{member['id']}:1"
    assert event["tenantid"] == tenant and event["source"] == "/lianxin/registry"
    assert "李明" not in json.dumps(event, ensure_ascii=False)
    # One trace from the HTTP request through the event: the caller's trace id travels in the CloudEvent.
    assert str(event["traceparent"]).split("-")[1] == trace_id

    secretary = running.auth(tenant, "branch_secretary", orgs=[branch])
    items = eventually(lambda: inbox(notify, secretary)["items"], what="the inbox item")
    assert len(items) == 1
    assert items[0]["event_id"] == event["id"] and items[0]["link"] == f"/v1/members/{member['id']}"

    assert httpx.post(f"{notify}/v1/inbox/{items[0]['id']}/read", headers=secretary).status_code == 204
    assert eventually(lambda: inbox(notify, secretary)["unread"] == 0 or None, what="the item read") is True


def _try_last(nats_url: str, subject: str) -> dict[str, object] | None:
    try:
        return asyncio.run(last_event(nats_url, subject))
    except nats.js.errors.NotFoundError:
        return None


def test_another_branchs_secretary_and_another_tenant_see_nothing(running: Running) -> None:
    tenant = new_tenant()
    registry, notify = running.url("registry"), running.url("notify")
    committee = running.auth(tenant, "committee")
    _, branch = build_tree(registry, committee)
    assert register(registry, committee, branch).status_code == 201
    eventually(lambda: inbox(notify, running.auth(tenant, "committee"))["items"], what="the committee's item")
    assert inbox(notify, running.auth(tenant, "branch_secretary", orgs=["another-branch"]))["items"] == []
    assert inbox(notify, running.auth(new_tenant(), "committee"))["items"] == []
