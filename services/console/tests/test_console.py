"""The console without the services: translations, dates, the session cookie, CSRF, Idempotency-Keys, guards."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from console.api.common import Submissions
from console.i18n import TEXT, format_date, format_time, relative_deadline, translate
from console.main import create_app
from console.session import COOKIE, Session, SessionBox
from console.settings import ConsoleSettings

TEMPLATES = Path(__file__).resolve().parents[1] / "src" / "console" / "templates"
CODE = Path(__file__).resolve().parents[1] / "src" / "console"


def test_every_text_a_page_uses_is_translated_both_ways() -> None:
    used: set[str] = set()
    for path in [*TEMPLATES.rglob("*.html"), *CODE.rglob("*.py")]:
        source = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"\bt\('([a-z0-9_]+)'", source)) | set(
            re.findall(r'\.t\("([a-z0-9_]+)"', source)
        )
    assert len(used) > 100, "the scan found the keys"
    prefixes = {k for k in used if k.endswith("_")}  # t('state_' + case.state): a family of keys
    missing = sorted(k for k in used - prefixes if k not in TEXT)
    assert not missing, f"untranslated keys: {missing}"
    assert all(any(key.startswith(p) for key in TEXT) for p in prefixes), prefixes
    families = {
        "state_": [
            "draft",
            "branch_approved",
            "committee_approved",
            "letter_issued",
            "received",
            "checked_in",
            "receipt_returned",
            "completed",
            "returned",
            "refused",
            "expired",
            "voided",
            "cancelled",
        ],
        "step_": [
            "approve_branch",
            "approve_committee",
            "issue_letter",
            "receive",
            "check_in",
            "return_receipt",
            "complete",
        ],
        "declaration_state_": ["declared", "confirmed", "questioned"],
        "reg_state_": ["outflow_registered", "inflow_registered", "returned", "converted_to_transfer"],
        "vstatus_": ["valid", "completed", "voided", "expired"],
        "category_": ["full", "probationary"],
        "standing_": ["active", "suspended"],
        "contact_": ["normal", "at_risk", "lost_contact", "self_lapse_review"],
        "side_": ["sender", "receiver"],
        "dest_": ["same_tenant", "other_tenant", "off_platform"],
    }
    gaps = [p + v for p, values in families.items() for v in values if p + v not in TEXT]
    assert not gaps, f"states without words: {gaps}"
    for key, (zh, en) in TEXT.items():
        assert zh.strip() and en.strip(), key
        assert set(re.findall(r"\{(\w+)\}", zh)) == set(re.findall(r"\{(\w+)\}", en)), key


def test_dates_in_shanghai_and_deadlines_in_words() -> None:
    late_evening_utc = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)  # already 1 December in Beijing
    assert format_date(late_evening_utc, "zh") == "2026年12月1日"
    assert format_date("2026-12-01", "en") == "1 Dec 2026"
    assert format_time("2026-11-30T16:30:00+00:00", "zh") == "2026年12月1日 00:30"
    today = date(2026, 12, 1)
    assert relative_deadline("2026-12-04", today, "zh") == "3天后到期"
    assert relative_deadline(date(2026, 12, 1), today, "zh") == "今天到期"
    assert relative_deadline("2026-11-29", today, "zh") == "已超时2天"
    assert relative_deadline("2026-12-04", today, "en") == "due in 3 days"
    assert (
        translate("en", "hello", name="王芳") == "Hello, 王芳"
        and translate("zh", "no-such-key") == "no-such-key"
    )


def test_the_session_cookie_is_sealed_and_tamper_evident() -> None:
    box = SessionBox("a-secret-for-this-test", hours=1, secure=True)
    session = Session(
        token="header.payload.signature",
        tenant="t1",
        subject="member:abc",
        roles=["member"],
        orgs=[],
        display="李明",
    )
    from starlette.responses import Response

    response = Response()
    box.write(response, session)
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "samesite=lax" in cookie.lower()
    value = cookie.split(";")[0].split("=", 1)[1]
    assert "header.payload" not in value and "李明" not in value, "the token and the name are not readable"

    class FakeRequest:
        def __init__(self, raw: str) -> None:
            self.cookies = {COOKIE: raw}

    read = box.read(FakeRequest(value))  # type: ignore[arg-type]
    assert read is not None and read.token == session.token and read.member_id == "abc" and read.csrf
    assert box.read(FakeRequest(value[:-4] + "AAAA")) is None  # type: ignore[arg-type]
    assert SessionBox("another-secret", hours=1, secure=True).read(FakeRequest(value)) is None  # type: ignore[arg-type]


def test_a_double_submission_runs_once() -> None:
    submissions = Submissions()
    calls: list[int] = []

    async def run() -> str:
        calls.append(1)
        await asyncio.sleep(0.01)
        return "/done"

    async def both() -> list[str]:
        return list(await asyncio.gather(submissions.once("k", run), submissions.once("k", run)))

    assert asyncio.run(both()) == ["/done", "/done"] and calls == [1]


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> TestClient:
    settings = ConsoleSettings(
        lianxin_env="development",
        session_secret="test-only-secret-for-the-console",
        registry_url="http://127.0.0.1:9",
        transfer_url="http://127.0.0.1:9",
        learning_url="http://127.0.0.1:9",
        notify_url="http://127.0.0.1:9",
    )
    return TestClient(create_app(settings), follow_redirects=False)


def test_pages_need_a_session_and_come_back_after_sign_in(client: TestClient) -> None:
    with client:
        for path in ("/m", "/m/mobility", "/desk", "/desk/members"):
            response = client.get(path)
            assert response.status_code == 303
            assert response.headers["location"].startswith(f"/sign-in?next={path}")
        page = client.get("/sign-in")
        assert page.status_code == 200 and "统一身份认证" in page.text, "no demo list without the dev key"
        assert (
            client.post("/sign-in", data={"tenant": "t", "kind": "committee", "id": "x"}).status_code == 403
        )
        assert client.get("/healthz").json() == {"status": "ok"}
        headers = client.get("/sign-in").headers
        assert (
            "script-src 'self'" in headers["content-security-policy"]
            and headers["cache-control"] == "no-store"
        )


def test_a_form_without_the_session_csrf_token_is_refused(client: TestClient) -> None:
    box: SessionBox = client.app.state.sessions  # type: ignore[attr-defined]
    session = Session(
        token="t",
        tenant="t1",
        subject="member:00000000-0000-0000-0000-000000000001",
        roles=["member"],
        orgs=[],
        display="李明",
    )
    from starlette.responses import Response

    response = Response()
    box.write(response, session)
    client.cookies.set(COOKIE, response.headers["set-cookie"].split(";")[0].split("=", 1)[1])
    with client:
        refused = client.post("/m/mobility/declare", data={"destination": "深圳", "csrf": "forged"})
        assert refused.status_code == 403 and "表单已过期" in refused.text
        assert client.get("/desk").status_code == 403, "a member is not a secretary"
        down = client.get("/m")
        assert down.status_code == 502 and "出错了" in down.text, (
            "a service that does not answer: a page, no trace"
        )


def test_production_refuses_a_placeholder_secret_and_the_development_key(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="SESSION_SECRET"):
        ConsoleSettings(lianxin_env="production", secure_cookies=True)
    with pytest.raises(ValueError, match="DEV_SIGNING_KEY_FILE"):
        ConsoleSettings(
            lianxin_env="production",
            secure_cookies=True,
            session_secret="x" * 40,
            dev_signing_key_file=tmp_path / "key.pem",
        )


def test_production_needs_the_oidc_provider_and_shows_no_demo_list() -> None:
    with pytest.raises(ValueError, match="OIDC_ISSUER"):
        ConsoleSettings(lianxin_env="production", secure_cookies=True, session_secret="x" * 40)
    settings = ConsoleSettings(
        lianxin_env="production",
        secure_cookies=True,
        session_secret="x" * 40,
        oidc_issuer="https://id.example.edu.cn",
        public_url="https://console.example.edu.cn",
    )
    assert not settings.dev_sign_in


def test_a_session_whose_access_token_expired_asks_to_sign_in_again() -> None:
    from fastapi import Request
    from starlette.responses import Response

    from console.session import COOKIE, Session, SessionBox

    clock = [1_795_000_000.0]  # 2026-11-18 in real time: the box reads this clock, never the machine's
    box = SessionBox("s" * 40, hours=8, secure=True, clock=lambda: clock[0])

    def read_back(token_expires: float) -> Session | None:
        response = Response()
        box.write(response, Session("t", "ten", "member:1", ["member"], [], "", token_expires=token_expires))
        cookie = response.headers["set-cookie"].split(";")[0].split("=", 1)[1]
        scope = {"type": "http", "headers": [(b"cookie", f"{COOKIE}={cookie}".encode())]}
        return box.read(Request(scope))

    assert read_back(clock[0] + 3600) is not None
    assert read_back(clock[0] + 5) is None, "a token about to expire asks for a new sign-in"

    response = Response()
    box.write(response, Session("t", "ten", "member:1", ["member"], [], ""))
    cookie = response.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    scope = {"type": "http", "headers": [(b"cookie", f"{COOKIE}={cookie}".encode())]}
    clock[0] += 8 * 3600 - 60
    assert box.read(Request(scope)) is not None
    clock[0] += 120
    assert box.read(Request(scope)) is None, "the session ends after its hours"


def test_the_meetings_page_marks_the_host_branch_and_asks_for_the_code_in_person() -> None:
    from console.api.common import Pages

    row = {
        "title": "流入地主题党日",
        "meeting_type": "themed_party_day",
        "starts_at": "2026-11-27T02:00:00+00:00",
        "place": "深圳南山党群服务中心",
        "held": False,
        "before": False,
    }
    html = Pages(TEMPLATES).render(
        "member/meetings.html",
        {
            "t": lambda key, **v: translate("zh", key, **v),
            "time": lambda v: format_time(v, "zh"),
            "meetings": [
                {**row, "id": "m-host", "mode": "hybrid", "relation": "host"},
                {**row, "id": "m-home", "mode": "online", "relation": "home", "title": "本支部党课"},
            ],
            "code": "482913",
            "errors": {},
            "problem": None,
            "form": {},
        },
    )
    host, home = html.split('value="m-home"')
    assert html.count("流入地支部") == 1 and html.index("流入地支部") < html.index("本支部党课")
    assert 'name="code"' in host and 'value="482913"' in host, "the projector's code, filled in"
    assert re.search(r'value="in_person" checked', host), "a code in the address chooses the room"
    assert 'name="code"' not in home, "online: no code"
