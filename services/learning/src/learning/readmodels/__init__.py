"""Learning read models: the schema under row-level security, the projection that fills it (writes), and the typed
reads the routes call (`queries` within a tenant, `history` for a member's record shared across tenants)."""

from learning.readmodels.projection import LearningProjection
from learning.readmodels.schema import MIGRATIONS, REPORT_DUE

__all__ = ["MIGRATIONS", "REPORT_DUE", "LearningProjection"]
