"""`python -m analytics` serves analytics with uvicorn on HOST:PORT."""

from shared.serve import serve

serve("analytics.main:create_app", "analytics.settings:AnalyticsSettings")
