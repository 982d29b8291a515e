"""组织关系转接 and 党员 pages against fake services: the list a page at a time with a link to the older cases, named by
asking the registry for exactly the members shown; a batch's cases found across pages of the list; the member
picker's search, and the roll's search by name, over the whole roll page after page."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.responses import Response

from console.api.desk import base, transfers
from console.main import create_app
from console.session import COOKIE, Session, SessionBox
from console.settings import ConsoleSettings

NAMES = {
    f"00000000-0000-0000-0000-00000000000{n}": name for n, name in enumerate(["甲", "乙", "丙", "丁", "戊"])
}
MEMBERS = list(NAMES)
CASES = [
    {
        "id": f"00000000-0000-0000-0000-0000000000c{n}",
        "state": state,
        "side": "sender",
        "member_id": MEMBERS[n],
        "receiving_org_name": "某公司党支部",
        "letter_no": None,
        "expires_on": None,
        "receipt_due_on": None,
        "waiting_for": None,
        "updated_at": "2026-12-01T02:00:00+00:00",
    }
    for n, state in enumerate(["draft", "letter_issued", "completed"])
]
BATCH = "00000000-0000-0000-0000-0000000000b1"
ROW = {
    "organisation_id": None,
    "category": "full",
    "national_id_number": "1101**********0011",
    "phone": "138****0000",
    "transfer_pending": False,
}


def _client(seen: list[str]) -> TestClient:
    def registry(request: httpx.Request) -> httpx.Response:
        seen.append(f"registry {request.url.path}")
        if request.url.path == "/v1/members/-/names":
            asked = request.url.params.get_list("id")
            seen.append(f"names {','.join(sorted(asked))}")
            return httpx.Response(200, json={"items": [{"id": i, "name": NAMES[i]} for i in asked]})
        if request.url.path == "/v1/members":
            cursor, limit = request.url.params.get("cursor"), int(request.url.params["limit"])
            seen.append(f"roll {cursor}")
            start = MEMBERS.index(cursor) if cursor else 0
            items = [{"id": m, "name": NAMES[m], **ROW} for m in MEMBERS[start : start + limit]]
            after = MEMBERS[start + limit] if start + limit < len(MEMBERS) else None
            return httpx.Response(200, json={"items": items, "next_cursor": after})
        if request.url.path == "/v1/organisations":
            return httpx.Response(200, json={"items": []})
        return httpx.Response(404, json={"title": "Not found"})

    def transfer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/transfers":
            seen.append(f"list {request.url.params.get('before')}")
            before = request.url.params.get("before")
            start = next(n + 1 for n, c in enumerate(CASES) if c["id"] == before) if before else 0
            return httpx.Response(200, json=CASES[start : start + int(request.url.params["limit"])])
        if request.url.path == f"/v1/transfer-batches/{BATCH}":
            cases = {MEMBERS[0]: CASES[0]["id"], MEMBERS[2]: CASES[2]["id"]}
            batch = {"id": BATCH, "title": "2027届毕业生", "accepted": 2, "rejected": [], "undecided": 0}
            return httpx.Response(200, json={**batch, "cut_off": None, "cases": cases, "progress": {}})
        return httpx.Response(404, json={"title": "Not found"})

    settings = ConsoleSettings(lianxin_env="development", session_secret="test-only-secret-for-the-console")
    client = TestClient(create_app(settings), follow_redirects=False)
    client.__enter__()
    services = client.app.state.services  # type: ignore[attr-defined]
    services.clients["registry"] = httpx.AsyncClient(
        base_url="http://registry", transport=httpx.MockTransport(registry)
    )
    services.clients["transfer"] = httpx.AsyncClient(
        base_url="http://transfer", transport=httpx.MockTransport(transfer)
    )
    box: SessionBox = client.app.state.sessions  # type: ignore[attr-defined]
    response = Response()
    session = Session("t", "demo-university", "committee@x", ["committee"], [], "组织员")
    box.write(response, session)
    client.headers["x-test-csrf"] = session.csrf
    client.cookies.set(COOKIE, response.headers["set-cookie"].split(";")[0].split("=", 1)[1])
    return client


def test_the_transfer_list_shows_a_page_and_links_to_the_older_cases(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base, "TRANSFER_PAGE", 2)
    seen: list[str] = []
    client = _client(seen)
    try:
        first = client.get("/desk/transfers")
        assert first.status_code == 200
        assert "甲" in first.text and "乙" in first.text and "丙" not in first.text
        assert f'href="/desk/transfers?before={CASES[1]["id"]}"' in first.text
        assert f"names {MEMBERS[0]},{MEMBERS[1]}" in seen, "the names of exactly the cases shown"
        assert "registry /v1/members" not in seen, "the roll is not read before a search"

        older = client.get(f"/desk/transfers?before={CASES[1]['id']}")
        assert "丙" in older.text and "甲" not in older.text
        assert "?before=" not in older.text, "the last page links to nothing older"
        assert client.get("/desk/transfers?before=not-an-id").status_code == 200, (
            "a bad cursor shows the first page"
        )
    finally:
        client.__exit__(None, None, None)


def test_a_batch_finds_its_cases_across_pages_of_the_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base, "TRANSFER_PAGE", 2)
    seen: list[str] = []
    client = _client(seen)
    try:
        page = client.get(f"/desk/transfer-batches/{BATCH}")
        assert page.status_code == 200
        assert [c for c in seen if c.startswith("list")] == ["list None", f"list {CASES[1]['id']}"]
        assert "甲" in page.text and "丙" in page.text
        assert f"names {MEMBERS[0]},{MEMBERS[2]}" in seen, "the names of the batch's members, not the roll"
    finally:
        client.__exit__(None, None, None)


def test_the_member_picker_reads_the_whole_roll_page_after_page(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base, "ROLL_PAGE", 2)
    asked: list[Any] = []

    async def get(service: str, path: str, **params: Any) -> dict[str, Any]:
        asked.append(params["cursor"])
        start = MEMBERS.index(params["cursor"]) if params["cursor"] else 0
        items = [{"id": m, "name": NAMES[m]} for m in MEMBERS[start : start + params["limit"]]]
        after = MEMBERS[start + params["limit"]] if start + params["limit"] < len(MEMBERS) else None
        return {"items": items, "next_cursor": after}

    ctx: Any = SimpleNamespace(api=SimpleNamespace(get=get))
    roll = asyncio.run(base.whole_roll(ctx))
    assert [m["id"] for m in roll] == MEMBERS
    assert asked == [None, MEMBERS[2], MEMBERS[4]]
    assert [m["name"] for m in transfers.picked_members(roll, {"search": "戊"})] == ["戊"], (
        "a member on the last page of the roll is found"
    )


def test_a_name_is_searched_over_the_whole_roll(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base, "ROLL_PAGE", 2)
    seen: list[str] = []
    client = _client(seen)
    try:
        found = client.post("/desk/members", data={"search": "戊", "csrf": client.headers["x-test-csrf"]})
        assert found.status_code == 200
        assert "戊" in found.text and "甲" not in found.text, "the member on the roll's last page is found"
        assert [c for c in seen if c.startswith("roll")] == [
            "roll None",
            f"roll {MEMBERS[2]}",
            f"roll {MEMBERS[4]}",
        ]
    finally:
        client.__exit__(None, None, None)


def test_a_transfer_between_two_branches_of_the_tenant_shows_each_branch_its_own_side() -> None:
    out_branch, in_branch = "00000000-0000-0000-0000-0000000000a1", "00000000-0000-0000-0000-0000000000a2"
    within = {
        "sending_tenant": "demo-university",
        "sending_org_id": out_branch,
        "receiving_tenant": "demo-university",
        "receiving_org_id": in_branch,
    }
    outward = {**within, "receiving_tenant": "demo-district"}

    def sides(case: dict[str, Any], roles: list[str], orgs: list[str]) -> set[str]:
        return transfers.case_sides(case, Session("t", "demo-university", "x", roles, orgs, "x"))

    assert sides(within, ["committee"], []) == {"sender", "receiver"}
    assert sides(within, ["branch_secretary"], [in_branch]) == {"receiver"}
    assert sides(within, ["branch_secretary"], [out_branch]) == {"sender"}
    assert sides(outward, ["committee"], []) == {"sender"}
    # An auditor acts for neither branch and reads the case from the tenant's side.
    assert sides(within, ["auditor"], []) == {"sender"}
    incoming = {**outward, "sending_tenant": "demo-district", "receiving_tenant": "demo-university"}
    assert sides(incoming, ["auditor"], []) == {"receiver"}


def test_every_step_a_transfer_records_has_a_name_in_both_languages() -> None:
    """The case page names each history row by its step (the saga table's recorded names, the requests to the
    registry and its answers, the reminders) or, without one, by its event's type."""
    from console.i18n import TEXT
    from transfer.contracts import REPLY_OUTCOMES
    from transfer.domain import saga

    recorded = {s.recorded for s in (*saga.STEPS, *saga.SIDE_STEPS) if s.recorded}
    steps = recorded | set(REPLY_OUTCOMES.values()) | {"hold", "enrol", "release", "lift"}
    steps |= {"letter_expiry_reminder", "receipt_overdue", "Requested", "LetterIssued", "LetterVoided"}
    missing = sorted(step for step in steps if f"h_{step}" not in TEXT)
    assert missing == []
    assert all(TEXT[f"h_{step}"][0] and TEXT[f"h_{step}"][1] for step in steps)
