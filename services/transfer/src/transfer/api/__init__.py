"""Transfer HTTP API."""

from transfer.api.batches import router as batches
from transfer.api.cases import router as cases
from transfer.api.letters import router as letters
from transfer.api.me import router as me
from transfer.api.worklists import router as worklists

__all__ = ["batches", "cases", "letters", "me", "worklists"]
