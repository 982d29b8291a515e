"""Where a transfer goes: within the tenant, to another tenant on the platform, or off it; what each names."""

from __future__ import annotations

import enum
from uuid import UUID

from transfer.domain.errors import InvalidDestination


class DestinationKind(enum.Enum):
    SameTenant = "same_tenant"
    OtherTenant = "other_tenant"
    OffPlatform = "off_platform"


def check_destination(
    destination: DestinationKind,
    *,
    sending_tenant: str,
    receiving_tenant: str | None,
    receiving_org_id: UUID | None,
) -> None:
    """Off the platform no tenant or organisation id is named; on it both are, and the kind says which tenant."""
    if destination is DestinationKind.OffPlatform:
        if receiving_tenant or receiving_org_id:
            raise InvalidDestination(
                "an off-platform destination names no tenant or organisation id", field="receiving_org_id"
            )
        return
    if not receiving_tenant or not receiving_org_id:
        raise InvalidDestination("name the receiving tenant and organisation", field="receiving_org_id")
    if (receiving_tenant == sending_tenant) != (destination is DestinationKind.SameTenant):
        raise InvalidDestination(
            "the destination kind does not match the receiving tenant", field="destination"
        )
