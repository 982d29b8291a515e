"""Learning read models: the schema under row-level security, and the projection that fills it."""

from learning.readmodels.projection import LearningProjection
from learning.readmodels.schema import MIGRATIONS, REPORT_DUE, history_transaction

__all__ = ["MIGRATIONS", "REPORT_DUE", "LearningProjection", "history_transaction"]
