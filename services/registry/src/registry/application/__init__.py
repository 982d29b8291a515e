"""The registry's eventsourcing Application: one method per use case, one module per area.

Each area's class derives from `RegistryBase` and from the areas whose use cases it calls (development from
members, dues from contact, ...), so every use case is typed against what it reaches; an area is listed here
before the areas it derives from."""

from __future__ import annotations

from registry.application.categories import CategoryUseCases
from registry.application.contact import ContactUseCases
from registry.application.declarations import DeclarationUseCases
from registry.application.development import DevelopmentUseCases
from registry.application.dues import DuesUseCases
from registry.application.members import MemberUseCases
from registry.application.mobility import MobilityUseCases
from registry.application.organisations import OrganisationUseCases
from registry.application.roll_import import ImportUseCases
from registry.application.screening import ScreeningUseCases
from registry.application.transfers import TransferParticipation


class RegistryApplication(
    ScreeningUseCases,
    DevelopmentUseCases,
    DeclarationUseCases,
    MobilityUseCases,
    ImportUseCases,
    TransferParticipation,
    MemberUseCases,
    DuesUseCases,
    ContactUseCases,
    CategoryUseCases,
    OrganisationUseCases,
):
    """Organisations, members and their history; the registry's side of the transfer saga."""

    name = "registry"  # eventsourcing names each subclass after itself: the stored tables are registry_*


__all__ = ["RegistryApplication"]
