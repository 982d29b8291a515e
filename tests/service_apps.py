"""A service's FastAPI application built from test settings, without starting it (no database, no NATS)."""

from __future__ import annotations

import base64
import importlib
from pathlib import Path

from fastapi import FastAPI

from shared.auth import ensure_dev_keypair

SERVICES = ("registry", "transfer", "learning", "notify", "analytics")


def service_app(service: str, tmp_path: Path) -> FastAPI:
    _, public = ensure_dev_keypair(tmp_path)
    settings_module = importlib.import_module(f"{service}.settings")
    settings_class = getattr(settings_module, f"{service.capitalize()}Settings")
    settings = settings_class(
        database_url="postgresql://x@127.0.0.1/x",
        cipher_key=base64.b64encode(bytes(32)).decode(),
        platform_secret="p" * 32,
        auth_public_key_file=public,
    )
    app: FastAPI = importlib.import_module(f"{service}.main").create_app(settings)
    return app
