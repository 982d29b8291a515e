"""One transaction for a whole command: the reads before a save, the subject key it creates, and the save.

eventsourcing runs every recorder call on a pooled connection of its own, in autocommit: a command that loads an
organisation, looks for a dues account, creates the member's subject key and saves paid four commits for one
change. Inside `UnitOfWorkDatastore.unit()` every call the recorders and the key store make on this thread runs on
one connection in one transaction, committed when the block ends (rolled back if it raises). The save's insert
joins it (no savepoint); its table lock is taken at the insert as before and now held until that commit, so
commit order still equals notification-id order. Work that must only happen once the transaction has committed
(remembering a new key in a cache) is handed to `after_commit`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, cast

import psycopg
from eventsourcing import persistence
from eventsourcing.postgres import PostgresDatastore
from psycopg import Connection
from psycopg.rows import DictRow

# psycopg's errors as the library maps them in `PostgresDatastore.get_connection`, most specific first.
_MAPPED: tuple[tuple[type[Exception], type[Exception]], ...] = (
    (psycopg.InterfaceError, persistence.InterfaceError),
    (psycopg.OperationalError, persistence.OperationalError),
    (psycopg.DataError, persistence.DataError),
    (psycopg.IntegrityError, persistence.IntegrityError),
    (psycopg.InternalError, persistence.InternalError),
    (psycopg.ProgrammingError, persistence.ProgrammingError),
    (psycopg.NotSupportedError, persistence.NotSupportedError),
    (psycopg.DatabaseError, persistence.DatabaseError),
    (psycopg.Error, persistence.PersistenceError),
)


class UnitInterrupted(persistence.PersistenceError):
    """The unit's connection failed mid-command: its transaction is gone, so the whole command runs again on a new
    one (`ServiceApplication.in_one_transaction`) instead of the recorder retrying a statement on a dead one."""


class _InUnit:
    """The unit's connection as the recorders see it: their own `transaction()` blocks join the unit's transaction
    instead of opening a savepoint. The library catches a failed insert inside its block and raises it after the
    block has ended, so a savepoint would be released, not rolled back, and the IntegrityError would come out as
    "current transaction is aborted"; joined, the error comes out as it is and the whole unit rolls back."""

    def __init__(self, conn: Connection[DictRow]) -> None:
        self._conn = conn

    def transaction(self, *_: Any, **__: Any) -> contextlib.nullcontext[None]:
        return contextlib.nullcontext()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


class _Lazy:
    """A savepoint asked for and not opened until the unit's connection is used inside it (`lazy_savepoint`)."""

    def __init__(self) -> None:
        self.stack = contextlib.ExitStack()
        self.opened = False


class _Unit(threading.local):
    conn: Connection[DictRow] | None = None
    after_commit: list[Callable[[], None]]
    lazy: list[_Lazy]

    def __init__(self) -> None:
        self.after_commit = []
        self.lazy = []


class UnitOfWorkDatastore(PostgresDatastore):
    """The library's datastore; `get_connection` hands out the thread's unit connection while a unit is open.

    Installed by `install` on a datastore the library built (it adds no state of its own until first used)."""

    _unit: _Unit

    @classmethod
    def install(cls, datastore: PostgresDatastore) -> UnitOfWorkDatastore:
        if not isinstance(datastore, cls):
            datastore.__class__ = cls
        assert isinstance(datastore, cls)
        return datastore

    def _state(self) -> _Unit:
        unit: _Unit | None = self.__dict__.get("_unit")
        if unit is None:
            unit = self.__dict__.setdefault("_unit", _Unit())
        return unit

    @property
    def in_unit(self) -> bool:
        return self._state().conn is not None

    @contextmanager
    def get_connection(self) -> Iterator[Connection[DictRow]]:
        conn = self._state().conn
        if conn is None:
            with super().get_connection() as pooled:
                yield pooled
            return
        if conn.broken or conn.closed:
            raise UnitInterrupted("the unit's connection is lost")
        self._open_lazy()
        try:
            yield cast(Connection[DictRow], _InUnit(conn))
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            raise UnitInterrupted(str(exc)) from exc
        except psycopg.Error as exc:
            for raised, mapped in _MAPPED:
                if isinstance(exc, raised):
                    raise mapped(str(exc)) from exc
            raise

    @contextmanager
    def unit(self) -> Iterator[None]:
        """One transaction for everything this thread's recorders do inside the block (nested blocks join it)."""
        state = self._state()
        if state.conn is not None:
            yield
            return
        with super().get_connection() as conn:
            state.after_commit = []
            try:
                with conn.transaction():
                    state.conn = conn
                    try:
                        yield
                    finally:
                        state.conn = None
            except BaseException:
                state.after_commit = []
                raise
            done, state.after_commit = state.after_commit, []
        for callback in done:
            callback()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Inside a unit, a savepoint: a command rerun after a version clash (`ServiceApplication.retrying`), or one
        event of a consumer's batch, rolls back only its own part, and the unit's transaction stays usable. What
        that part handed to `after_commit` goes with it (a key it created exists nowhere). Outside one, nothing."""
        state = self._state()
        conn = state.conn
        if conn is None:
            yield
            return
        self._open_lazy()  # an enclosing lazy savepoint opens first: psycopg's savepoints nest in order
        registered = len(state.after_commit)
        try:
            with conn.transaction():
                yield
        except BaseException as exc:
            del state.after_commit[registered:]
            if isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError)):
                raise UnitInterrupted(
                    str(exc)
                ) from exc  # the savepoint's own statement met a lost connection
            raise

    @contextmanager
    def lazy_savepoint(self) -> Iterator[None]:
        """As `savepoint`, but the SAVEPOINT is sent only when the block first uses the unit's connection: a block
        that does no database work (a consumer's reaction whose reads were made for its whole run, its save held
        for the run's insert) costs no round trip; one that does rolls back alone, as with `savepoint`."""
        state = self._state()
        if state.conn is None:
            yield
            return
        registered = len(state.after_commit)
        lazy = _Lazy()
        state.lazy.append(lazy)
        try:
            yield
        except BaseException as exc:
            state.lazy.remove(lazy)
            del state.after_commit[registered:]
            if lazy.opened:
                try:
                    lazy.stack.__exit__(type(exc), exc, exc.__traceback__)  # ROLLBACK TO SAVEPOINT
                except (psycopg.OperationalError, psycopg.InterfaceError) as lost:
                    raise UnitInterrupted(str(lost)) from lost
            raise
        state.lazy.remove(lazy)
        if lazy.opened:
            try:
                lazy.stack.close()  # RELEASE SAVEPOINT
            except (psycopg.OperationalError, psycopg.InterfaceError) as lost:
                raise UnitInterrupted(str(lost)) from lost

    def _open_lazy(self) -> None:
        state = self._state()
        conn = state.conn
        for lazy in state.lazy:
            if not lazy.opened and conn is not None:
                try:
                    lazy.stack.enter_context(conn.transaction())
                except (psycopg.OperationalError, psycopg.InterfaceError) as lost:
                    raise UnitInterrupted(str(lost)) from lost
                lazy.opened = True

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once the open unit has committed (never if it rolls back); at once outside a unit."""
        state = self._state()
        if state.conn is None:
            callback()
        else:
            state.after_commit.append(callback)


def unit_datastore(app: Any) -> UnitOfWorkDatastore | None:
    datastore = getattr(getattr(app, "recorder", None), "datastore", None)
    return datastore if isinstance(datastore, UnitOfWorkDatastore) else None
