"""`python -m learning` serves learning with uvicorn on HOST:PORT."""

from shared.serve import serve

serve("learning.main:create_app", "learning.settings:LearningSettings")
