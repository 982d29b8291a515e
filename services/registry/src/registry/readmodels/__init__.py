"""Registry read models: the schema under row-level security, the projection that fills it, the queries routes call."""

from registry.readmodels.projection import RegistryProjection
from registry.readmodels.schema import MIGRATIONS

__all__ = ["MIGRATIONS", "RegistryProjection"]
