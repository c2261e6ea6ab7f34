"""Reading the state before a change on another connection, while the caller's connection writes the change.

A preview validates the grids twice: before the change (``compare``) and after it, written in a savepoint. The
first reads only committed data, so another pooled connection can run it while the caller's connection writes
and measures the change: on a 1M-building city that takes the "before" validation (10–15 ms) off the preview's
path. It is done only when another connection sees exactly what the caller sees: the caller's transaction has
written nothing yet (no transaction id) and runs at READ COMMITTED (each statement sees the latest commits, on
either connection). Otherwise, or when the pool would make it wait, the work runs on the caller's connection.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

from sqlalchemy import Connection, text
from sqlalchemy.pool import Pool, QueuePool

from geogrid.planning.budget import limit_statements

T = TypeVar("T")

INDEPENDENT_SQL = (
    "SELECT pg_current_xact_id_if_assigned() IS NULL AND current_setting('transaction_isolation') = 'read committed'"
)


def independent(conn: Connection) -> bool:
    """Whether another connection sees what ``conn`` sees: its transaction has written nothing, at READ COMMITTED.
    Asked before the caller writes anything of its own (a plan row, an expired draft)."""
    return bool(conn.scalar(text(INDEPENDENT_SQL)))


class Pending(Generic[T]):
    """The outcome of work started beside the caller: :meth:`result` waits for it (and raises its error)."""

    def __init__(self) -> None:
        self._value: T | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None

    def result(self) -> T:
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]


def _connect_now(pool: Pool) -> bool:
    """Whether the pool hands out a connection without waiting: one is idle, or it may open one more."""
    if isinstance(pool, QueuePool):
        return pool.checkedin() > 0 or pool.overflow() < getattr(pool, "_max_overflow", 0)
    return True  # the other pools open a connection on demand


@contextmanager
def beside(conn: Connection, fn: Callable[[Connection], T], enabled: bool) -> Iterator[Pending[T]]:
    """Run ``fn(connection)`` on another pooled connection in a thread (``enabled``, and the pool has one without
    waiting), under the same statement budget, in a transaction rolled back after it; else on ``conn``, at once.
    The block's end waits for it, so nothing outlives the caller's use of ``conn``."""
    pending: Pending[T] = Pending()
    if not enabled or not _connect_now(conn.engine.pool):
        pending._value = fn(conn)
        yield pending
        return

    def run() -> None:
        try:
            with conn.engine.connect() as other:  # read only: closing it rolls its transaction back
                limit_statements(other)
                pending._value = fn(other)
        except BaseException as exc:  # handed to the caller by result()
            pending._error = exc

    pending._thread = threading.Thread(target=run, name="geogrid-before", daemon=True)
    pending._thread.start()
    try:
        yield pending
    finally:
        pending._thread.join()
