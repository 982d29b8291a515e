"""No route of any service sends a dependency to the worker threads: FastAPI runs a plain `def` dependency there, a
hop there and back on every request (tens of milliseconds under load)."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from tests.service_apps import SERVICES, service_app


def calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from calls(sub)


def runs_on_the_event_loop(call: Any) -> bool:
    if inspect.iscoroutinefunction(call):
        return True
    return inspect.iscoroutinefunction(type(call).__call__)  # an instance, e.g. HTTPBearer


def api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """The application's routes and those of every router it includes (FastAPI keeps an included router whole)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from api_routes(route.original_router.routes)


@pytest.mark.parametrize("service", SERVICES)
def test_every_dependency_of_every_route_is_a_coroutine(service: str, tmp_path: Path) -> None:
    routes = list(api_routes(service_app(service, tmp_path).routes))
    assert len(routes) > 5
    threaded = {
        f"{route.path} {getattr(call, '__qualname__', call)}"
        for route in routes
        for call in calls(route.dependant)
        if not runs_on_the_event_loop(call)
    }
    assert threaded == set()
