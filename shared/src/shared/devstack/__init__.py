"""Real PostgreSQL and NATS servers from wheels, on ports of their own, for development and tests."""

from shared.devstack.nats import EmbeddedNats
from shared.devstack.ports import PortInUseError, ensure_port_free, free_port
from shared.devstack.postgres import EmbeddedPostgres

__all__ = ["EmbeddedNats", "EmbeddedPostgres", "PortInUseError", "ensure_port_free", "free_port"]
