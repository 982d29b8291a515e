"""Runs a service's create_app under uvicorn, on the host and port of its settings."""

from __future__ import annotations

import importlib
import sys

import uvicorn
from pydantic import ValidationError


def _resolve(path: str) -> object:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def serve(app_factory: str, settings_class: str) -> None:
    try:
        settings = _resolve(settings_class)()  # type: ignore[operator]
    except ValidationError as exc:
        # One line per setting, named as the operator sets it, instead of a traceback.
        service = app_factory.partition(".")[0]
        print(f"{service} cannot start; fix these settings:", file=sys.stderr)
        for error in exc.errors():
            name = "_".join(str(p) for p in error["loc"]).upper() or "settings"
            print(f"  {name}: {error['msg'].removeprefix('Value error, ')}", file=sys.stderr)
        raise SystemExit(2) from None
    factory = _resolve(app_factory)
    app = factory(settings)  # type: ignore[operator]
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
