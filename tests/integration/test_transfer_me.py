"""A member follows their own transfer under /v1/me/transfers; nobody else reads it there."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.integration.conftest import Running
from tests.integration.test_transfer import World, platform  # noqa: F401  (the module's platform fixture)

pytestmark = pytest.mark.integration


def _as(running: Running, tenant: str, member_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {running.token(tenant, 'member', subject=f'member:{member_id}')}"}


def test_a_member_sees_each_step_of_their_transfer(platform: Running) -> None:  # noqa: F811
    world = World(platform)
    me = _as(platform, world.sender, world.member["id"])
    assert httpx.get(f"{world.t}/v1/me/transfers", headers=me).json() == {"items": []}
    case = world.issue()

    mine = httpx.get(f"{world.t}/v1/me/transfers", headers=me)
    assert mine.status_code == 200, mine.text
    [item] = mine.json()["items"]
    assert item["case"]["id"] == case["id"] and item["case"]["state"] == "letter_issued"
    assert (
        item["verification_code"] == case["letter"]["code"]
        and item["expires_on"] == case["letter"]["expires_on"]
    )
    done = {s["action"]: s["done_at"] for s in item["steps"]}
    assert done["approve_branch"] and done["approve_committee"] and done["issue_letter"]
    assert done["receive"] is None and done["complete"] is None
    assert httpx.get(f"{world.t}{item['letter_html']}", headers=me).status_code == 200

    assert world.post(case, "acceptance", world.rc).status_code == 200
    [after] = httpx.get(f"{world.t}/v1/me/transfers", headers=me).json()["items"]
    assert next(s for s in after["steps"] if s["action"] == "receive")["done_at"]

    strangers = [
        _as(platform, world.receiver, world.member["id"]),
        _as(platform, world.sender, str(uuid.uuid4())),
        world.s,
        world.rc,
    ]
    for headers in strangers:  # another tenant's member with this id, a made-up member, two secretaries
        response = httpx.get(f"{world.t}/v1/me/transfers", headers=headers)
        assert response.status_code == 404, response.text
