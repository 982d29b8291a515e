"""Group commit: requests of one kind that arrive while a batch of them is being handled go together in the next.

At most one batch runs at a time, in a worker thread: `handle(requests)` answers each request with its result or
its own exception, in order, and decides how a batch is stored (the registry's `register_members`: every
registration's reads first, then one save of all of them). A request that comes alone is a batch of one, handled
at once; under load the hops to the worker threads, the transactions, the table locks and the commits are one per
batch instead of one per request. Each caller is answered only once its batch is done, so an answer never runs
ahead of its commit.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from shared.threads import run_sync

R = TypeVar("R")
T = TypeVar("T")
BATCH_LIMIT = 32  # requests in one batch at most: one insert of all their events


class GroupCommit(Generic[R, T]):
    """`submit` a request and await its answer; the batch after the running one gathers meanwhile."""

    def __init__(
        self, handle: Callable[[Sequence[R]], Sequence[T | Exception]], *, limit: int = BATCH_LIMIT
    ) -> None:
        self.handle = handle
        self.limit = limit
        self._waiting: list[tuple[R, asyncio.Future[T]]] = []
        self._drain: asyncio.Task[None] | None = None

    async def submit(self, request: R) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append((request, future))
        if self._drain is None:
            # Batches serve many requests: the drain runs in a context of its own, not the first request's trace.
            self._drain = asyncio.create_task(self._drain_all(), context=contextvars.Context())
        return await future

    async def _drain_all(self) -> None:
        batch: list[tuple[R, asyncio.Future[T]]] = []
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[: self.limit], self._waiting[self.limit :]
                answers: Sequence[T | Exception]
                try:
                    answers = await run_sync(self.handle, [request for request, _ in batch])
                except Exception as error:  # `handle` answers each request; this is a bug in it, told to all
                    answers = [error] * len(batch)
                for (_, future), answer in zip(batch, answers, strict=True):
                    if future.done():
                        continue  # its caller went away; the request was handled all the same
                    if isinstance(answer, Exception):
                        future.set_exception(answer)
                    else:
                        future.set_result(answer)
                batch = []
        finally:
            for _, future in batch + self._waiting:  # cancelled (shutdown): whatever has no answer gets none
                future.cancel()
            self._waiting = []
            self._drain = None
