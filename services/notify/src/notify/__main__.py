"""`python -m notify` serves notify with uvicorn on HOST:PORT."""

from shared.serve import serve

serve("notify.main:create_app", "notify.settings:NotifySettings")
