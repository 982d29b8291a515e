"""Runs a service's create_app under uvicorn, on the host and port of its settings."""

from __future__ import annotations

import importlib

import uvicorn


def _resolve(path: str) -> object:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def serve(app_factory: str, settings_class: str) -> None:
    settings = _resolve(settings_class)()  # type: ignore[operator]
    factory = _resolve(app_factory)
    app = factory(settings)  # type: ignore[operator]
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, access_log=False,
                timeout_graceful_shutdown=10)
