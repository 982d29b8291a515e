"""Production sign-in in a real browser against a real OpenID provider (deploy/oidc: the certified oidc-provider
package on Node.js): a member on a phone signs in with the authorization code flow and PKCE and sees their page;
the console refuses a tampered state, a callback without this browser's verifier and a code that was already
spent; logout ends the provider's session too (RP-initiated logout)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from lianxin.oidc import Account, OidcProvider, provider_installed
from shared.devstack import free_port
from tests.integration.conftest import Infra, Running, start_platform
from tests.integration.console_browser import PHONE, Person, run_folder
from tests.integration.helpers import build_tree, national_id, new_tenant

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not provider_installed(), reason="run `make oidc-install` (npm ci in deploy/oidc)"),
]
SERVICES = ("registry", "transfer", "learning", "notify")


@pytest.fixture(scope="module")
def oidc_platform(
    infra: Infra, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Running, OidcProvider]]:
    console_port = free_port()
    provider = OidcProvider(
        tmp_path_factory.mktemp("oidc"),
        free_port(),
        redirect_uris=[f"http://127.0.0.1:{console_port}/callback"],
    )
    provider.start()
    console_env = {
        "OIDC_ISSUER": provider.issuer,
        "OIDC_CLIENT_ID": "lianxin-console",
        "PUBLIC_URL": f"http://127.0.0.1:{console_port}",
    }
    try:
        running = start_platform(
            infra,
            tmp_path_factory.mktemp("oidc-platform"),
            services=SERVICES,
            console=True,
            console_port=console_port,
            service_extra_env={**{s: provider.service_env(s) for s in SERVICES}, "console": console_env},
        )
        try:
            yield running, provider
        finally:
            running.stop()
    finally:
        provider.stop()


def _member(running: Running, provider: OidcProvider, name: str) -> tuple[str, str]:
    """A tenant with a member registered by its committee (a token from the provider); the member can log in."""
    registry = running.url("registry")
    tenant = new_tenant()
    committee = {
        "Authorization": "Bearer " + provider.token_for(f"c-{uuid.uuid4().hex[:6]}", tenant, "committee")
    }
    _, branch = build_tree(registry, committee)
    created = httpx.post(
        f"{registry}/v1/members",
        headers=committee,
        json={
            "name": name,
            "organisation_id": branch,
            "category": "full",
            "national_id_number": national_id(),
            "phone": "13900005555",
            "gender": "female",
        },
    )
    assert created.status_code == 201, created.text
    sub = f"member:{created.json()['id']}"
    provider.add_account(Account(sub, tenant, ["member"]))
    return tenant, sub


def _provider_login(http: httpx.Client, start: httpx.Response, sub: str, callback: str) -> httpx.URL:
    """Follow the console's redirect through the provider's development login; the URL it sends back."""
    response = start
    while response.is_redirect:
        location = str(response.url.join(response.headers["location"]))
        if location.startswith(callback):
            return httpx.URL(location)
        response = http.get(location)
        if "/interaction/" in str(response.url) and response.status_code == 200:
            prompt = "login" if 'value="login"' in response.text else "consent"
            response = http.post(str(response.url), data={"prompt": prompt, "login": sub, "password": "-"})
    raise AssertionError(f"the provider did not send the browser back: {response.status_code}")


def test_a_member_signs_in_through_the_provider_with_pkce_and_sees_their_page(
    oidc_platform: tuple[Running, OidcProvider], browser: Any
) -> None:
    running, provider = oidc_platform
    _, sub = _member(running, provider, "王芳")
    folder = run_folder("member-oidc-sign-in")
    context = browser.new_context(
        viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai", bypass_csp=True
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    member = Person(page, running.url("console"), "member", folder)
    member.go("/sign-in")
    member.shot("sign-in")
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url))
    with page.expect_navigation():
        page.get_by_role("link", name="通过统一身份认证登录").click()
    assert page.url.startswith(provider.issuer), "off to the provider"
    authorize = next(u for u in sent if u.startswith(provider.issuer + "/auth"))
    params = httpx.URL(authorize).params
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert params["state"] and params["nonce"] and "code_verifier" not in params
    page.screenshot(path=str(folder / "member-provider-login.png"), full_page=True)
    page.locator("input[name=login]").fill(sub)
    page.locator("input[name=password]").fill("-")
    with page.expect_navigation(url=f"{running.url('console')}/m"):
        page.locator("button[type=submit]").first.click()
    assert page.get_by_role("heading", name="您好，王芳").is_visible()
    member.shot("home")
    member.go("/m/me")
    assert page.get_by_text("王芳").first.is_visible()
    member.shot("me")
    # The session is an encrypted HttpOnly cookie; no token or code stayed in any URL of the console.
    cookies = {c["name"]: c for c in context.cookies()}
    assert cookies["lx_session"]["httpOnly"] and cookies["lx_session"]["sameSite"] == "Lax"
    assert "lx_oidc" not in cookies, "the pending sign-in is spent"
    console_urls = [u for u in sent if u.startswith(running.url("console"))]
    assert not any("access_token" in u or "id_token" in u for u in console_urls)
    assert all(
        "code=" not in u for u in console_urls if not u.startswith(running.url("console") + "/callback")
    )

    # Logout ends the provider's session too: the next sign-in asks for the login again.
    with page.expect_navigation():
        page.get_by_role("button", name="退出").first.click()
    assert page.url.startswith(provider.issuer), "RP-initiated logout at the provider"
    with page.expect_navigation(url=f"{running.url('console')}/sign-in"):
        page.get_by_role("button", name="Yes, sign me out").click()
    member.go("/m")
    assert page.url.startswith(provider.issuer) and page.locator("input[name=login]").is_visible(), (
        "signed out here and at the provider: the protected page sends the browser to log in again"
    )
    context.close()
    assert member.violations == []


def test_a_tampered_state_a_missing_verifier_and_a_spent_code_are_refused(
    oidc_platform: tuple[Running, OidcProvider],
) -> None:
    running, provider = oidc_platform
    _, sub = _member(running, provider, "赵强")
    console = running.url("console")
    callback = f"{console}/callback"

    def login(http: httpx.Client) -> httpx.URL:
        return _provider_login(http, http.get(f"{console}/sign-in/oidc"), sub, callback)

    with httpx.Client(timeout=20, follow_redirects=False) as http:
        # A state that is not this browser's: refused, even with the provider's genuine code.
        back = login(http)
        tampered = http.get(
            callback, params={"code": back.params["code"], "state": back.params["state"] + "x"}
        )
        assert tampered.status_code == 403 and "lx_session" not in tampered.cookies
        # The flow's secrets were spent with the refusal: the right state now finds no verifier either.
        again = http.get(callback, params=dict(back.params))
        assert again.status_code == 403 and "lx_session" not in http.cookies

    with httpx.Client(timeout=20, follow_redirects=False) as http:
        # A callback in a browser that never started the flow has no verifier: refused.
        back = login(http)
        http.cookies.delete("lx_oidc")
        assert http.get(callback, params=dict(back.params)).status_code == 403
        # The provider itself refuses the code without the verifier.
        bare = httpx.post(
            f"{provider.issuer}/token",
            data={
                "grant_type": "authorization_code",
                "code": back.params["code"],
                "client_id": "lianxin-console",
                "redirect_uri": callback,
            },
        )
        assert bare.status_code == 400 and bare.json()["error"] == "invalid_grant"

    with httpx.Client(timeout=20, follow_redirects=False) as http:
        # The genuine round trip signs in; replaying its code is refused.
        back = login(http)
        pending = http.cookies.get("lx_oidc")
        signed = http.get(callback, params=dict(back.params))
        assert signed.status_code == 303 and signed.headers["location"] == "/m"
        assert http.get(f"{console}/m").status_code == 200
        replay = httpx.get(callback, params=dict(back.params), cookies={"lx_oidc": pending or ""})
        assert replay.status_code == 403
