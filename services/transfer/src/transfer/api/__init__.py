"""Transfer HTTP API."""

from transfer.api.batches import router as batches
from transfer.api.case_letters import router as case_letters
from transfer.api.cases import router as cases
from transfer.api.letters import router as letters
from transfer.api.me import router as me
from transfer.api.worklists import router as worklists

__all__ = ["batches", "case_letters", "cases", "letters", "me", "worklists"]
