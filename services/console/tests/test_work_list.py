"""工作台 against fake services: every list counted, the active list's rows named by asking the registry for the
names of exactly the members on those rows (never the roll), and only when the active list has a row to name."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.responses import Response

from console.api.desk import base
from console.main import create_app
from console.session import COOKIE, Session, SessionBox
from console.settings import ConsoleSettings

AT_RISK = "00000000-0000-0000-0000-0000000000a1"
LEAVING = "00000000-0000-0000-0000-0000000000a2"
CASE = "00000000-0000-0000-0000-0000000000c1"
# A member far down the roll (past any first page of it): named all the same, when on a row shown.
FAR = "ffffffff-0000-0000-0000-0000000000f9"


def _services(seen: list[str], more_todo: int = 0) -> dict[str, httpx.MockTransport]:
    registry_lists: dict[str, list[dict[str, Any]]] = {
        "todo": [{"kind": "contact_at_risk", "subject_id": AT_RISK, "title": "失联预警：请联系并记录"}],
        "pending": [],
        "upcoming": [],
        "overdue": [{"kind": "contact_at_risk", "subject_id": FAR, "title": "失联预警：请联系并记录"}],
    }
    case = {
        "id": CASE,
        "state": "letter_issued",
        "side": "sender",
        "member_id": LEAVING,
        "receiving_org_name": "深圳某公司党支部",
        "letter_no": "L-1",
        "expires_on": "2026-12-20",
        "receipt_due_on": None,
        "waiting_for": None,
        "updated_at": "2026-12-01T02:00:00+00:00",
    }
    older = [
        {**case, "id": f"00000000-0000-0000-0000-{n:012d}", "updated_at": "2026-01-01T00:00:00+00:00"}
        for n in range(more_todo)
    ]
    transfer_lists: dict[str, list[dict[str, Any]]] = {
        "todo": [case, *older],
        "pending": [case],
        "upcoming": [],
        "overdue": [],
    }

    def registry(request: httpx.Request) -> httpx.Response:
        seen.append(f"registry {request.url.path}")
        path = request.url.path
        if path.startswith("/v1/worklists/"):
            return httpx.Response(200, json=registry_lists[path.rsplit("/", 1)[1]])
        if path == "/v1/mobility-declarations":
            return httpx.Response(200, json=[])
        if path == "/v1/members/-/names":
            asked = request.url.params.get_list("id")
            seen.append(f"names {','.join(sorted(asked))}")
            known = {AT_RISK: "王小红", LEAVING: "李向东", FAR: "赵远方"}
            return httpx.Response(
                200, json={"items": [{"id": i, "name": known[i]} for i in asked if i in known]}
            )
        return httpx.Response(404, json={"title": "Not found"})

    def transfer(request: httpx.Request) -> httpx.Response:
        """A page of the list as transfer cuts it: `limit` cases after the one named by `before`."""
        seen.append(f"transfer {request.url.path} {request.url.params.get('before')}")
        cases = transfer_lists[request.url.path.rsplit("/", 1)[1]]
        before = request.url.params.get("before")
        start = next(n + 1 for n, c in enumerate(cases) if c["id"] == before) if before else 0
        return httpx.Response(200, json=cases[start : start + int(request.url.params["limit"])])

    return {"registry": httpx.MockTransport(registry), "transfer": httpx.MockTransport(transfer)}


def _signed_in_committee(client: TestClient) -> None:
    box: SessionBox = client.app.state.sessions  # type: ignore[attr-defined]
    response = Response()
    box.write(response, Session("t", "demo-university", "committee@x", ["committee"], [], "组织员"))
    client.cookies.set(COOKIE, response.headers["set-cookie"].split(";")[0].split("=", 1)[1])


def _counts(html: str) -> dict[str, int]:
    return {
        w: int(n) for w, n in re.findall(r'class="worktab wl-(\w+)">[^<]*<span class="count">(\d+)', html)
    }


def test_the_work_list_counts_every_list_and_names_only_the_rows_it_shows() -> None:
    settings = ConsoleSettings(lianxin_env="development", session_secret="test-only-secret-for-the-console")
    client = TestClient(create_app(settings), follow_redirects=False)
    seen: list[str] = []
    with client:
        services = client.app.state.services  # type: ignore[attr-defined]
        for name, transport in _services(seen).items():
            services.clients[name] = httpx.AsyncClient(base_url=f"http://{name}", transport=transport)
        _signed_in_committee(client)

        todo = client.get("/desk")
        assert todo.status_code == 200
        assert _counts(todo.text) == {"todo": 2, "pending": 1, "upcoming": 0, "overdue": 1}
        assert "王小红" in todo.text and "李向东" in todo.text, (
            "the active list's rows carry the members' names"
        )
        assert f"names {AT_RISK},{LEAVING}" in seen, "the names of exactly the rows shown"
        assert "registry /v1/members" not in seen, "the roll is never read for names"
        assert "赵远方" not in todo.text

        seen.clear()
        upcoming = client.get("/desk?list=upcoming")
        assert upcoming.status_code == 200
        assert _counts(upcoming.text) == {"todo": 2, "pending": 1, "upcoming": 0, "overdue": 1}
        assert not [c for c in seen if "names" in c], "nothing to name: the registry is not asked"
        assert len([c for c in seen if "/worklists/" in c]) == 8, "every list is still counted"

        seen.clear()
        overdue = client.get("/desk?list=overdue")
        assert "赵远方" in overdue.text and f"names {FAR}" in seen, "a member far down the roll is named"

        seen.clear()
        pending = client.get("/desk?list=pending")
        assert "李向东" in pending.text and f"names {LEAVING}" in seen, "a transfer row is named too"
        assert "<section" not in pending.text.split("</title>")[0], "the page title is text, not the chart"


def test_transfer_lists_are_read_page_after_page_while_a_page_is_full(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(base, "TRANSFER_PAGE", 2)
    settings = ConsoleSettings(lianxin_env="development", session_secret="test-only-secret-for-the-console")
    client = TestClient(create_app(settings), follow_redirects=False)
    seen: list[str] = []
    with client:
        services = client.app.state.services  # type: ignore[attr-defined]
        for name, transport in _services(seen, more_todo=3).items():
            services.clients[name] = httpx.AsyncClient(base_url=f"http://{name}", transport=transport)
        _signed_in_committee(client)

        todo = client.get("/desk")
        assert todo.status_code == 200
        assert _counts(todo.text) == {"todo": 5, "pending": 1, "upcoming": 0, "overdue": 1}, (
            "the registry's row and the transfer's four cases over two pages"
        )
        pages = [c for c in seen if c.startswith("transfer /v1/transfers/-/worklists/todo")]
        assert pages == [
            "transfer /v1/transfers/-/worklists/todo None",
            "transfer /v1/transfers/-/worklists/todo 00000000-0000-0000-0000-000000000000",
            "transfer /v1/transfers/-/worklists/todo 00000000-0000-0000-0000-000000000002",
        ]
