"""A transfer's destination picker: another tenant's open tree, read-only, with ids, names, kinds and parents;
no members, no closed nodes, no party groups, no roles; only for secretaries and committee staff."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.conftest import Running
from tests.integration.helpers import build_tree, national_id, new_tenant

pytestmark = pytest.mark.integration


def test_another_tenants_open_tree_and_nothing_else(running: Running) -> None:
    registry, receiver = running.url("registry"), new_tenant()
    owner = running.auth(receiver, "committee")
    root, branch = build_tree(registry, owner)
    nodes = {}
    for code, name, kind, parent in (
        ("B2", "已撤销党支部", "branch", root),
        ("G1", "第一党小组", "group", branch),
        ("GB", "机关党总支", "general_branch", root),
    ):
        made = httpx.post(
            f"{registry}/v1/organisations",
            headers=owner,
            json={"code": code, "name": name, "kind": kind, "parent_id": parent},
        )
        assert made.status_code == 201, made.text
        nodes[code] = made.json()["id"]
    closed = httpx.patch(
        f"{registry}/v1/organisations/{nodes['B2']}", headers=owner, json={"close_reason": "合并"}
    )
    assert closed.status_code == 200, closed.text
    member = httpx.post(
        f"{registry}/v1/members",
        headers=owner,
        json={
            "name": "机密姓名",
            "organisation_id": branch,
            "category": "full",
            "national_id_number": national_id("19900101"),
            "phone": "13900001111",
        },
    )
    assert member.status_code == 201, member.text
    assert httpx.post(
        f"{registry}/v1/organisations/{branch}/roles",
        headers=owner,
        json={"subject": "user-secret-secretary", "role": "branch_secretary"},
    ).is_success

    sender = new_tenant()
    for roles, orgs in ((("committee",), []), (("branch_secretary",), [str(root)])):
        answer = httpx.get(
            f"{registry}/v1/destinations/{receiver}", headers=running.auth(sender, *roles, orgs=orgs)
        )
        assert answer.status_code == 200, answer.text
        tree = answer.json()
        assert tree["tenant"] == receiver
        assert [(n["id"], n["name"], n["kind"], n["receives"]) for n in tree["items"]] == [
            (branch, "测试第一党支部", "branch", True),
            (nodes["GB"], "机关党总支", "general_branch", False),
            (root, "测试大学党委", "primary_committee", False),
        ], "open nodes in code order, only a 党支部 receives"
        assert {n["id"] for n in tree["items"]} == {root, branch, nodes["GB"]}, "no closed node, no group"
        assert all(set(n) == {"id", "name", "kind", "parent_id", "receives"} for n in tree["items"])
        for secret in (member.json()["id"], "机密姓名", "13900001111", "user-secret-secretary", nodes["B2"]):
            assert secret not in answer.text

    for roles in (("member",), ("auditor",), ("operator",)):
        refused = httpx.get(f"{registry}/v1/destinations/{receiver}", headers=running.auth(sender, *roles))
        assert refused.status_code == 403, (roles, refused.text)
    assert (
        httpx.get(
            f"{registry}/v1/destinations/NOT_A_TENANT", headers=running.auth(sender, "committee")
        ).status_code
        == 422
    )
    empty = httpx.get(f"{registry}/v1/destinations/{new_tenant()}", headers=running.auth(sender, "committee"))
    assert empty.status_code == 200 and empty.json()["items"] == []
