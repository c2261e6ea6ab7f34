"""A preview's "before" figures and problems on a second connection, while the preview writes the change.

The figures and problems before a change are read from the state the preview starts from, and nothing the
preview does afterwards changes what they are: they can be read elsewhere at the same time. The second connection
imports the preview transaction's snapshot (``pg_export_snapshot``), so it reads exactly the rows the preview
reads, in a read-only transaction of its own; this only holds while the preview transaction has written
nothing the rules read, so it is used only when that transaction had written nothing at all before the preview
(:func:`untouched`), and the preview's own writes (a plan row) are in tables no rule reads.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.pool import Pool, QueuePool

from geogrid.settings import get_settings

_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="geogrid-validate-before")
_SNAPSHOT_ID = re.compile(r"^[0-9A-F]+-[0-9A-F]+-[0-9]+$")


def untouched(conn: Connection) -> bool:
    """Whether the caller's transaction has written nothing yet (no transaction id assigned) and the pool can give
    a second connection now to read the before side on. Without one the preview does it itself: a burst of
    previews must never each hold a connection while waiting for a second."""
    return _spare(conn.engine.pool) and bool(conn.scalar(text("SELECT pg_current_xact_id_if_assigned() IS NULL")))


def _spare(pool: Pool) -> bool:
    """An idle connection in the pool, or room to open one (a QueuePool below its size plus overflow)."""
    if not isinstance(pool, QueuePool):
        return True  # pools that keep no connections open one per checkout
    limit = pool._max_overflow  # noqa: SLF001 -- the pool's limit; SQLAlchemy has no public reader for it
    return pool.checkedin() > 0 or limit < 0 or pool.overflow() < limit


def on_snapshot(conn: Connection, steps: list[Callable[[Connection], Any]]) -> list[Future[Any]]:
    """Run ``steps`` one after the other on another connection of the same engine, reading the data as ``conn``
    sees it now; one future per step, each set as soon as its step is done. The caller keeps its transaction
    open until it has the results (the snapshot lives as long as it does)."""
    snapshot = conn.scalar(text("SELECT pg_export_snapshot()"))
    if not isinstance(snapshot, str) or not _SNAPSHOT_ID.match(snapshot):
        raise RuntimeError(f"unexpected snapshot id {snapshot!r}")
    engine = conn.engine
    timeout_ms = f"{max(1, int(get_settings().preview_timeout_s * 1000))}ms"
    futures: list[Future[Any]] = [Future() for _ in steps]
    spare = engine.connect()  # taken here, in the caller's thread: the worker never waits for the pool

    def run() -> None:
        try:
            with spare.execution_options(isolation_level="REPEATABLE READ") as other, other.begin():
                other.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
                other.execute(text("SET TRANSACTION READ ONLY"))
                other.execute(text("SELECT set_config('statement_timeout', :ms, true)"), {"ms": timeout_ms})
                for step, future in zip(steps, futures, strict=True):
                    future.set_result(step(other))
        except BaseException as exc:  # every step not done yet fails with it, in the caller's thread
            for future in futures:
                if not future.done():
                    future.set_exception(exc)

    _POOL.submit(run)
    return futures
