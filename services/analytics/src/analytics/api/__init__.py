from analytics.api.operator import router as operator
from analytics.api.page import router as page
from analytics.api.statistics import router as statistics

__all__ = ["operator", "page", "statistics"]
