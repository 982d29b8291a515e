"""Where webhooks may go: public addresses only, unless an operator allow-lists a host by name.

A tenant administrator types the webhook URL, so without a rule the platform would post (and report on) requests
to its own loopback, the private network or a cloud metadata address. The URL is checked when the channel is
written and every address the host resolves to is checked again before each send (the name may resolve
elsewhere by then). Hosts in WEBHOOK_ALLOWED_HOSTS (exact names, e.g. an intranet robot gateway) are exempt.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Collection
from urllib.parse import urlsplit


class EgressRefused(ValueError):
    """The target is not a public address and its host is not allow-listed."""


def parse_allowed_hosts(value: str) -> frozenset[str]:
    return frozenset(h.strip().lower().rstrip(".") for h in value.split(",") if h.strip())


def public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        not (
            ip.is_private
            or ip.is_loopback
            or ip.is_link_local
            or ip.is_multicast
            or ip.is_reserved
            or ip.is_unspecified
        )
        and ip.is_global
    )


def _host(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EgressRefused("a webhook URL is http(s)://host/...")
    return parts.hostname.lower().rstrip(".")


def check_url(url: str, allowed_hosts: Collection[str]) -> None:
    """What can be told without a DNS lookup: the scheme, a literal address, a local name."""
    host = _host(url)
    if host in allowed_hosts:
        return
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        raise EgressRefused(f"{host} is a local name; an operator may allow it in WEBHOOK_ALLOWED_HOSTS")
    try:
        literal = public_address(host)
    except ValueError:
        return  # a name: checked again on every send, once resolved
    if not literal:
        raise EgressRefused(
            f"{host} is not a public address; an operator may allow it in WEBHOOK_ALLOWED_HOSTS"
        )


async def check_before_send(url: str, allowed_hosts: Collection[str]) -> None:
    """Every address the host resolves to now must be public (unless allow-listed)."""
    check_url(url, allowed_hosts)
    host = _host(url)
    if host in allowed_hosts:
        return
    for address in await resolve(host):
        if not public_address(address):
            raise EgressRefused(f"{host} resolves to a non-public address")


async def resolve(host: str) -> list[str]:
    """The host's addresses now; none when it does not resolve (the request then fails and is retried)."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return []
    return [str(info[4][0]) for info in infos]
