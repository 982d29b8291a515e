"""Registry HTTP API: one router per resource; no business logic here."""

from registry.api.categories import router as categories
from registry.api.contact import router as contact
from registry.api.destinations import router as destinations
from registry.api.development import router as development
from registry.api.dues import router as dues
from registry.api.dues_reports import router as dues_reports
from registry.api.me import declarations_router as declarations
from registry.api.me import router as me
from registry.api.members import router as members
from registry.api.mobility import router as mobility
from registry.api.organisations import router as organisations
from registry.api.printed import router as printed
from registry.api.probation import router as probation
from registry.api.roll import router as roll
from registry.api.screening import router as screening
from registry.api.worklists import router as worklists

__all__ = [
    "categories",
    "contact",
    "declarations",
    "destinations",
    "development",
    "dues",
    "dues_reports",
    "me",
    "members",
    "mobility",
    "organisations",
    "printed",
    "probation",
    "roll",
    "screening",
    "worklists",
]
