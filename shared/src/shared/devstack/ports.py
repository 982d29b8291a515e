"""Free-port lookup and a clear refusal when a port another server needs is taken."""

from __future__ import annotations

import errno
import random
import socket


class PortInUseError(RuntimeError):
    """A server of the dev stack cannot listen because something else already does."""

    def __init__(self, what: str, host: str, port: int, env_var: str | None = None) -> None:
        hint = f"; set {env_var} to another port" if env_var else "; choose another port"
        super().__init__(
            f"{what}: port {port} on {host} is already in use (another server is listening there){hint}"
        )
        self.what = what
        self.host = host
        self.port = port
        self.env_var = env_var


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _ephemeral_floor() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range", encoding="ascii") as ranges:
            return int(ranges.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


# Ports free_port has returned in this process. A caller often picks a port and binds it much later (a console
# port handed to an OpenID provider's redirect list before the platform starts), so a later call must not hand
# out the same one: seen once as "address already in use" when two services got one port.
_HANDED_OUT: set[int] = set()


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now, below the kernel's ephemeral range.

    A port the kernel hands out for `bind(0)` comes from the same range as the local ports of outgoing
    connections, so a client connecting elsewhere could take it before our server binds. Below that range only
    another listener can.
    """
    floor = _ephemeral_floor()
    low = max(10_000, floor - 12_000)
    for _ in range(200):
        port = random.randrange(low, floor)
        if port in _HANDED_OUT:  # chosen earlier in this process, perhaps not bound yet: not twice
            continue
        with socket.socket(_family(host), socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            _HANDED_OUT.add(port)
            return port
    with socket.socket(_family(host), socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        fallback: int = sock.getsockname()[1]
        return fallback


def ensure_port_free(host: str, port: int, what: str, env_var: str | None = None) -> None:
    """Raise PortInUseError if a server already listens on host:port."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as sock:
        # Both PostgreSQL and NATS set SO_REUSEADDR, so a port left in TIME_WAIT by our own previous run is
        # free for them; only a live listener makes this bind fail, which is exactly what we want to report.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                raise PortInUseError(what, host, port, env_var) from exc
            raise
