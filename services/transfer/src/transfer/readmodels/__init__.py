"""Transfer read models: the projection writes them (projection.py), the routes read them (queries.py)."""

from transfer.readmodels.projection import MIGRATIONS, TransferProjection

__all__ = ["MIGRATIONS", "TransferProjection"]
