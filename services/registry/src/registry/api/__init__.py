"""Registry HTTP API: one router per resource; no business logic here."""

from registry.api.contact import router as contact
from registry.api.development import router as development
from registry.api.members import router as members
from registry.api.mobility import router as mobility
from registry.api.organisations import router as organisations
from registry.api.printed import router as printed
from registry.api.roll import router as roll
from registry.api.screening import router as screening

__all__ = ["contact", "development", "members", "mobility", "organisations", "printed", "roll", "screening"]
