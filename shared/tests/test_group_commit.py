"""shared.groupcommit: requests that arrive while a batch is handled go together in the next; each caller gets
its own answer or its own error, and only once its batch is done."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest

from shared.groupcommit import GroupCommit


class Handler:
    """Answers each request with its double, or a ValueError for a negative one; the first batch waits on `gate`."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.gate = threading.Event()
        self.started = threading.Event()

    def __call__(self, requests: Sequence[int]) -> list[int | Exception]:
        self.batches.append(list(requests))
        self.started.set()
        self.gate.wait(timeout=10)
        return [ValueError(r) if r < 0 else 2 * r for r in requests]


async def test_requests_that_arrive_while_a_batch_runs_go_together_in_the_next() -> None:
    handler = Handler()
    batcher = GroupCommit(handler)
    first = asyncio.ensure_future(batcher.submit(1))
    await asyncio.to_thread(handler.started.wait, 10)  # the first, alone, is being handled
    later = [asyncio.ensure_future(batcher.submit(n)) for n in (2, 3, 4)]
    await asyncio.sleep(0.05)
    assert not first.done()  # answered only once its batch is done
    handler.gate.set()
    assert await first == 2 and await asyncio.gather(*later) == [4, 6, 8]
    assert handler.batches == [[1], [2, 3, 4]]


async def test_each_caller_gets_its_own_error_and_the_others_their_answers() -> None:
    handler = Handler()
    handler.gate.set()
    batcher = GroupCommit(handler)
    answers = await asyncio.gather(*(batcher.submit(n) for n in (5, -1, 7)), return_exceptions=True)
    assert answers[0] == 10 and answers[2] == 14
    assert isinstance(answers[1], ValueError)
    assert handler.batches == [[5, -1, 7]]  # submitted together before the drain ran: one batch


async def test_a_batch_takes_at_most_the_limit() -> None:
    handler = Handler()
    handler.gate.set()
    batcher = GroupCommit(handler, limit=2)
    assert await asyncio.gather(*(batcher.submit(n) for n in range(5))) == [0, 2, 4, 6, 8]
    assert handler.batches == [[0, 1], [2, 3], [4]]


async def test_a_handler_that_fails_as_a_whole_tells_every_request_of_its_batch() -> None:
    def broken(requests: Sequence[int]) -> list[int | Exception]:
        raise RuntimeError("the handler failed")

    batcher = GroupCommit(broken)
    answers = await asyncio.gather(*(batcher.submit(n) for n in (1, 2)), return_exceptions=True)
    assert all(isinstance(a, RuntimeError) for a in answers)
    with pytest.raises(RuntimeError):
        await batcher.submit(3)  # the batcher is still there for the next request
