"""Webhook egress rules: public targets only, unless a host is allow-listed by name."""

from __future__ import annotations

import asyncio

import pytest

from notify.channels import egress
from notify.channels.egress import (
    EgressRefused,
    check_before_send,
    check_url,
    parse_allowed_hosts,
    public_address,
)

REFUSED = [
    "http://127.0.0.1:8101/v1/members",
    "http://localhost/x",
    "http://[::1]/x",
    "http://10.0.0.5/x",
    "http://192.168.1.1/x",
    "http://172.16.0.1/x",
    "http://169.254.169.254/latest/meta-data",
    "http://224.0.0.1/x",
    "http://0.0.0.0/x",
    "http://[::ffff:127.0.0.1]/x",
    "http://[fe80::1]/x",
    "ftp://example.com/x",
    "http://metadata.internal/x",
]


@pytest.mark.parametrize("url", REFUSED)
def test_private_loopback_link_local_and_multicast_targets_are_refused(url: str) -> None:
    with pytest.raises(EgressRefused):
        check_url(url, frozenset())


def test_public_addresses_and_names_pass_the_written_check() -> None:
    check_url("https://8.8.8.8/hook", frozenset())
    check_url("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", frozenset())
    assert public_address("1.1.1.1") and not public_address("100.64.0.1")


def test_an_operator_allows_a_host_by_name() -> None:
    allowed = parse_allowed_hosts(" 127.0.0.1, Robot-Gateway.corp. ")
    assert allowed == {"127.0.0.1", "robot-gateway.corp"}
    check_url("http://127.0.0.1:9000/hook", allowed)
    asyncio.run(check_before_send("http://robot-gateway.corp/hook", allowed))


def test_a_name_resolving_to_a_private_address_is_refused_at_send_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def rebound(host: str) -> list[str]:
        return ["93.184.215.14", "10.1.2.3"] if host == "hooks.example.com" else []

    monkeypatch.setattr(egress, "resolve", rebound)
    check_url("http://hooks.example.com/x", frozenset())  # a name passes when written...
    with pytest.raises(EgressRefused, match="non-public"):  # ...and is refused once it resolves inward
        asyncio.run(check_before_send("http://hooks.example.com/x", frozenset()))
    asyncio.run(check_before_send("http://hooks.example.com/x", frozenset({"hooks.example.com"})))
