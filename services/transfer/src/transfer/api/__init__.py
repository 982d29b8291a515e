"""Transfer HTTP API."""

from transfer.api.cases import router as cases
from transfer.api.letters import router as letters

__all__ = ["cases", "letters"]
