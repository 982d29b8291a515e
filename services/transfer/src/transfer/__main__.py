"""`python -m transfer` serves transfer with uvicorn on HOST:PORT."""

from shared.serve import serve

serve("transfer.main:create_app", "transfer.settings:TransferSettings")
