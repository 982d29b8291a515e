"""The one hand-off from async edges (routes, consumers, deadlines) to the synchronous event store."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import anyio.to_thread

T = TypeVar("T")


async def run_sync(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run `function(*args, **kwargs)` in the worker threads, whose limiter the runtime caps at the pool size."""
    return await anyio.to_thread.run_sync(functools.partial(function, *args, **kwargs))
