"""`python -m console` serves the console with uvicorn on HOST:PORT."""

from shared.serve import serve

serve("console.main:create_app", "console.settings:ConsoleSettings")
