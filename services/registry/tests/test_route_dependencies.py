"""No registry route sends a dependency to the worker threads: FastAPI runs a plain `def` dependency there, a hop
there and back on every request (tens of milliseconds under load)."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from registry import api


def calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from calls(sub)


def runs_on_the_event_loop(call: Any) -> bool:
    if inspect.iscoroutinefunction(call):
        return True
    return inspect.iscoroutinefunction(type(call).__call__)  # an instance, e.g. HTTPBearer


def test_every_dependency_of_every_registry_route_is_a_coroutine() -> None:
    routes = [
        route
        for router in vars(api).values()
        if hasattr(router, "routes")
        for route in router.routes
        if isinstance(route, APIRoute)
    ]
    assert len(routes) > 50
    threaded = {
        f"{route.path} {getattr(call, '__qualname__', call)}"
        for route in routes
        for call in calls(route.dependant)
        if not runs_on_the_event_loop(call)
    }
    assert threaded == set()
