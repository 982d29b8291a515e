"""Free-port lookup and a clear refusal when a port another server needs is taken."""

from __future__ import annotations

import errno
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


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now; another process may still take it before we do."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


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
