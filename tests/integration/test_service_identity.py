"""Service identity against a real OpenID provider (deploy/oidc: oidc-provider on Node.js): transfer and notify get
client-credentials tokens with only the scopes each read needs, the registry accepts the `service` role only
from known clients and only within those scopes, and people log in with authorization code + PKCE."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from lianxin.oidc import OidcProvider, provider_installed
from shared.auth import TokenVerifier
from shared.devstack import free_port
from shared.errors import Unauthorized
from shared.oauth import (
    SCOPE_LETTER_FACTS,
    SCOPE_NAMES,
    SCOPE_PHONES,
    ClientCredentials,
    ServiceIdentityError,
)
from tests.integration.conftest import Infra, Running, start_platform
from tests.integration.helpers import build_tree, eventually, inbox, national_id, new_tenant, service_now

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not provider_installed(), reason="run `make oidc-install` (npm ci in deploy/oidc)"),
]
APPROVAL = {
    "dues_paid_through": "2026-11",
    "issuer_address": "北京市海淀区学院路1号",
    "issuer_phone": "010-62000000",
}


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    oidc = OidcProvider(tmp_path_factory.mktemp("oidc"), free_port())
    oidc.start()
    try:
        yield oidc
    finally:
        oidc.stop()


@pytest.fixture(scope="module")
def platform(
    infra: Infra, provider: OidcProvider, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Running]:
    running = start_platform(
        infra,
        tmp_path_factory.mktemp("identity"),
        services=("registry", "transfer", "notify"),
        service_extra_env={s: provider.service_env(s) for s in ("registry", "transfer", "notify")},
    )
    try:
        yield running
    finally:
        running.stop()


def bearer(token: str, tenant: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **({"X-Lianxin-Tenant": tenant} if tenant else {})}


def person(
    provider: OidcProvider, tenant: str, *roles: str, orgs: list[str] | None = None, sub: str | None = None
) -> dict[str, str]:
    return bearer(provider.token_for(sub or f"u-{uuid.uuid4().hex[:8]}", tenant, *roles, orgs=orgs))


def test_tokens_come_from_the_discovered_endpoint_and_are_cached_per_scope_until_shortly_before_expiry(
    provider: OidcProvider,
) -> None:
    now = [1000.0]
    tokens = ClientCredentials(provider.issuer, *provider.client("notify"), monotonic=lambda: now[0])
    first = tokens.token([SCOPE_NAMES])
    assert tokens.token([SCOPE_NAMES]) == first and tokens.requests == 1, "cached"
    assert tokens.token([SCOPE_NAMES, SCOPE_PHONES]) != first and tokens.requests == 2, (
        "another scope, another token"
    )
    now[0] += 300 - 31  # the provider's lifetime is 300 s: renewed 30 s before the end
    assert tokens.token([SCOPE_NAMES]) != first and tokens.requests == 3

    settings = type(
        "S",
        (),
        {
            "auth_issuer": provider.issuer,
            "auth_audience": "lianxin",
            "algorithms": ["RS256"],
            "auth_jwks_url": provider.jwks_url,
            "auth_public_key_file": None,
            "service_clients": frozenset({"lianxin-transfer", "lianxin-notify"}),
        },
    )()
    principal = TokenVerifier(settings).verify(tokens.token([SCOPE_NAMES]), "t-one")  # type: ignore[arg-type]
    assert (principal.client, principal.tenant, principal.roles) == ("lianxin-notify", "t-one", {"service"})
    assert principal.scopes == {SCOPE_NAMES}
    # The registry's list of known clients decides: the same token from a client not on it is refused.
    settings.service_clients = frozenset({"lianxin-transfer"})  # type: ignore[attr-defined]
    with pytest.raises(Unauthorized, match="known clients"):
        TokenVerifier(settings).verify(tokens.token([SCOPE_NAMES]), "t-one")  # type: ignore[arg-type]
    # A client asks only for its own scopes: the provider grants notify none of transfer's.
    granted = httpx.post(
        f"{provider.issuer}/token",
        auth=provider.client("notify"),
        data={"grant_type": "client_credentials", "scope": SCOPE_LETTER_FACTS},
    ).json()
    assert SCOPE_LETTER_FACTS not in granted.get("scope", "")


def test_a_wrong_secret_is_refused_by_the_provider(provider: OidcProvider) -> None:
    with pytest.raises(ServiceIdentityError, match="refused client lianxin-transfer"):
        ClientCredentials(provider.issuer, "lianxin-transfer", "not-the-secret").token([SCOPE_LETTER_FACTS])


def test_the_registry_gives_each_service_only_what_its_scopes_cover(
    platform: Running, provider: OidcProvider
) -> None:
    registry, tenant, other = platform.url("registry"), new_tenant(), new_tenant()
    committee = person(provider, tenant, "committee")
    root, branch = build_tree(registry, committee)
    member = httpx.post(
        f"{registry}/v1/members",
        headers=committee,
        json={
            "name": "王芳",
            "organisation_id": branch,
            "category": "full",
            "phone": "13800138000",
            "national_id_number": national_id(),
        },
    ).json()["id"]
    url = f"{registry}/v1/members/{member}"
    notify = ClientCredentials(provider.issuer, *provider.client("notify"))
    transfer = ClientCredentials(provider.issuer, *provider.client("transfer"))

    names = httpx.get(url, headers=bearer(notify.token([SCOPE_NAMES]), tenant)).json()
    assert names["name"] == "王芳" and names["phone"] is None and names["national_id_number"] is None
    phone = httpx.get(
        url,
        params={"unmasked": "true", "purpose": "短信"},
        headers=bearer(notify.token([SCOPE_NAMES, SCOPE_PHONES]), tenant),
    ).json()
    assert phone["phone"] == "13800138000" and phone["national_id_number"] is None
    refused = httpx.get(
        url, params={"unmasked": "true", "purpose": "x"}, headers=bearer(notify.token([SCOPE_NAMES]), tenant)
    )
    assert refused.status_code == 403, "names alone never unmask"
    # The roll of names (the read model notify reads a notice's name from): names, and nothing for other scopes.
    roll_of_names = f"{registry}/v1/members/-/names"
    eventually(
        lambda: (
            httpx.get(
                roll_of_names, params={"id": member}, headers=bearer(notify.token([SCOPE_NAMES]), tenant)
            ).json()
            == {"items": [{"id": member, "name": "王芳"}]}
            or None
        ),
        what="the member on the roll of names, for notify",
    )
    assert (
        httpx.get(
            roll_of_names, params={"id": member}, headers=bearer(transfer.token([SCOPE_LETTER_FACTS]), tenant)
        ).status_code
        == 403
    )
    assert (
        httpx.get(
            f"{registry}/v1/organisations/{root}", headers=bearer(notify.token([SCOPE_NAMES]), tenant)
        ).status_code
        == 403
    )

    facts = httpx.get(
        url,
        params={"unmasked": "true", "purpose": "开具组织关系介绍信"},
        headers=bearer(transfer.token([SCOPE_LETTER_FACTS]), tenant),
    ).json()
    assert "*" not in facts["national_id_number"]
    letter_token = bearer(transfer.token([SCOPE_LETTER_FACTS]), tenant)
    assert httpx.get(f"{registry}/v1/organisations/{root}", headers=letter_token).status_code == 200
    # The letter's 党费已交到 comes from the dues ledger: transfer's scope reads it, notify's names do not.
    assert httpx.get(f"{url}/dues", headers=letter_token).status_code == 200
    assert httpx.get(f"{url}/dues", headers=bearer(notify.token([SCOPE_NAMES]), tenant)).status_code == 403
    # Outside its scopes: the roll, role holders, writes.
    assert httpx.get(f"{registry}/v1/members", headers=letter_token).status_code == 403
    assert httpx.get(f"{registry}/v1/organisations/{root}/roles", headers=letter_token).status_code == 403
    assert (
        httpx.post(
            f"{registry}/v1/members",
            headers=letter_token,
            json={"name": "x", "organisation_id": branch, "category": "full"},
        ).status_code
        == 403
    )
    # Acting for another tenant finds nothing of this one; no tenant named is no service.
    assert httpx.get(url, headers=bearer(transfer.token([SCOPE_LETTER_FACTS]), other)).status_code == 404
    assert httpx.get(url, headers=bearer(transfer.token([SCOPE_LETTER_FACTS]))).status_code == 401
    # A person's token names its tenant: a header cannot move it to another tenant.
    assert (
        httpx.get(
            url, headers={**person(provider, other, "committee"), "X-Lianxin-Tenant": tenant}
        ).status_code
        == 404
    )


def test_a_transfer_prints_its_letter_and_notify_names_the_member_with_provider_tokens(
    platform: Running, provider: OidcProvider
) -> None:
    registry, transfer, notify = platform.url("registry"), platform.url("transfer"), platform.url("notify")
    sender, receiver = new_tenant(), new_tenant()
    s, rc = person(provider, sender, "committee"), person(provider, receiver, "committee")
    _, s_branch = build_tree(registry, s)
    _, r_branch = build_tree(registry, rc)
    member = httpx.post(
        f"{registry}/v1/members",
        headers=s,
        json={
            "name": "李明",
            "organisation_id": s_branch,
            "category": "full",
            "gender": "male",
            "birth_date": "2003-05-12",
            "national_id_number": national_id("20030512"),
        },
    ).json()["id"]
    opened = httpx.post(
        f"{transfer}/v1/transfers",
        headers=s,
        json={
            "member_id": member,
            "destination": "other_tenant",
            "receiving_tenant": receiver,
            "receiving_org_id": r_branch,
            "reason": "毕业就业",
            "graduate": True,
        },
    )
    assert opened.status_code == 201, opened.text  # 503 registry-unavailable before service identity
    case = opened.json()
    assert httpx.post(f"{transfer}/v1/transfers/{case['id']}/branch-approval", headers=s).status_code == 200
    approved = httpx.post(
        f"{transfer}/v1/transfers/{case['id']}/committee-approval", headers=s, json=APPROVAL
    )
    assert approved.status_code == 200, approved.text
    issued = eventually(
        lambda: (
            (c := httpx.get(f"{transfer}/v1/transfers/{case['id']}", headers=s).json())["state"]
            == "letter_issued"
            and c
        ),
        timeout=30,
        what="the letter",
    )
    assert issued["letter"]["name"] == "李明" and "*" not in issued["letter"]["national_id_number"]

    secretary = person(provider, sender, "branch_secretary", orgs=[s_branch])
    (item,) = eventually(
        lambda: [
            i
            for i in inbox(notify, secretary)["items"]
            if i["event_type"] == "cn.lianxin.transfer.letter_issued.v1"
        ],
        timeout=30,
        what="the letter in the secretary's inbox",
    )
    assert "李明同志" in item["body"], "notify read the name with its own client"
    assert service_now(notify) - service_now(registry) < timedelta(minutes=1)


def test_the_console_logs_in_with_authorization_code_and_pkce(provider: OidcProvider, tmp_path: Path) -> None:
    tenant = new_tenant()
    token = provider.token_for("console-user", tenant, "branch_secretary", orgs=["org-1"])
    settings = type(
        "S",
        (),
        {
            "auth_issuer": provider.issuer,
            "auth_audience": "lianxin",
            "algorithms": ["RS256"],
            "auth_jwks_url": provider.jwks_url,
            "auth_public_key_file": None,
            "service_clients": frozenset(),
        },
    )()
    principal = TokenVerifier(settings).verify(token, "another-tenant")  # type: ignore[arg-type]
    assert (principal.subject, principal.tenant) == ("console-user", tenant)
    assert principal.roles == {"branch_secretary"} and principal.orgs == {"org-1"}
    # Without the verifier the code is useless: a code exchange without PKCE is refused.
    refused = httpx.post(
        f"{provider.issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": "x",
            "client_id": "lianxin-console",
            "redirect_uri": provider.redirect_uris[0],
        },
    )
    assert refused.status_code == 400
