"""`python -m registry` serves the registry with uvicorn on HOST:PORT."""

from shared.serve import serve

serve("registry.main:create_app", "registry.settings:RegistrySettings")
