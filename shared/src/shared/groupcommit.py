"""Group commit: commands of one kind that arrive while a batch of them runs go together in the next batch.

A batch is one hop to the worker threads and one transaction (shared.unitofwork): one connection checkout, one
table lock, one NOTIFY and one commit for all of its commands, each in a savepoint of its own, so a command that
fails (a clash, a refusal) rolls back alone and the others commit. Each caller gets its own command's result or
exception only after the batch has committed: an answer never runs ahead of its commit. If the commit fails, or
the connection stays lost, every command of the batch gets that error and none of them is stored. A lost
connection runs the whole batch again on a new one, as `in_one_transaction` runs a command again; the commands
must be safe to run again (ids from the request, as a registration's are).

One command alone runs exactly as it would without the batcher, so a single client pays nothing but a task.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from shared.eventstore import ServiceApplication
from shared.threads import run_sync
from shared.unitofwork import UnitInterrupted, unit_datastore

T = TypeVar("T")
BATCH_LIMIT = 16  # commands in one transaction at most: the event table's lock is held from its first insert
Outcome = tuple[bool, Any]  # (True, result) or (False, exception)


def run_batch(app: ServiceApplication, commands: list[Callable[[], Any]]) -> list[Outcome]:
    """In a worker thread: the commands in one transaction, each in a savepoint; their outcomes in order."""
    datastore = unit_datastore(app)
    if datastore is None or len(commands) == 1:
        return [_outcome(command) for command in commands]
    savepoint = datastore.savepoint

    def run() -> list[Outcome]:
        outcomes: list[Outcome] = []
        for command in commands:
            try:
                with savepoint():
                    outcomes.append((True, command()))
            except UnitInterrupted:
                raise  # the connection is gone, and the batch with it: in_one_transaction runs it again
            except Exception as exc:
                outcomes.append((False, exc))
        return outcomes

    return app.in_one_transaction(run)


def _outcome(command: Callable[[], Any]) -> Outcome:
    try:
        return True, command()
    except Exception as exc:
        return False, exc


class GroupCommit:
    """Submit commands with `run`; at most one batch runs at a time, the next one gathers meanwhile."""

    def __init__(self, app: ServiceApplication, *, limit: int = BATCH_LIMIT) -> None:
        self.app = app
        self.limit = limit
        self._waiting: list[tuple[Callable[[], Any], asyncio.Future[Any]]] = []
        self._drain: asyncio.Task[None] | None = None

    async def run(self, command: Callable[[], T]) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append((command, future))
        if self._drain is None:
            self._drain = asyncio.create_task(self._drain_all())
        return await future

    async def _drain_all(self) -> None:
        batch: list[tuple[Callable[[], Any], asyncio.Future[Any]]] = []
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[: self.limit], self._waiting[self.limit :]
                try:
                    outcomes = await run_sync(run_batch, self.app, [command for command, _ in batch])
                except Exception as exc:  # the commit failed, or the connection stayed lost: none is stored
                    outcomes = [(False, exc)] * len(batch)
                for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
                    if future.done():
                        continue  # its caller went away; the command ran all the same, as a thread's would
                    if ok:
                        future.set_result(value)
                    else:
                        future.set_exception(value)
                batch = []
        finally:
            # Cancelled (shutdown): whatever has no answer yet gets none.
            for _, future in batch + self._waiting:
                future.cancel()
            self._waiting = []
            self._drain = None
