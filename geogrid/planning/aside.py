"""A preview's "before" validation on a second connection, while the preview goes on writing and measuring.

The problems before a change are read from the state the preview starts from, and nothing the preview does
afterwards changes what they are: they can be counted elsewhere at the same time. The second connection
imports the preview transaction's snapshot (``pg_export_snapshot``), so it reads exactly the rows the preview
reads, in a read-only transaction of its own; this only holds while the preview transaction has written
nothing the rules read, so it is used only when that transaction had written nothing at all before the preview
(:func:`untouched`), and the preview's own writes (a plan row) are in tables no rule reads.
"""

from __future__ import annotations

import re
from concurrent.futures import Future, ThreadPoolExecutor

from sqlalchemy import Connection, text

from geogrid.planning.validate import validate
from geogrid.settings import get_settings

_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="geogrid-validate-before")
_SNAPSHOT_ID = re.compile(r"^[0-9A-F]+-[0-9A-F]+-[0-9]+$")


def untouched(conn: Connection) -> bool:
    """Whether the caller's transaction has written nothing yet (no transaction id assigned)."""
    return bool(conn.scalar(text("SELECT pg_current_xact_id_if_assigned() IS NULL")))


def validate_aside(conn: Connection, cids: list[int], grid_ids: list[int]) -> Future[list[dict]]:
    """:func:`~geogrid.planning.validate.validate` of ``cids``/``grid_ids`` as ``conn`` sees the data now, run on
    another connection of the same engine; the caller keeps its transaction open until it has the result."""
    snapshot = conn.scalar(text("SELECT pg_export_snapshot()"))
    if not isinstance(snapshot, str) or not _SNAPSHOT_ID.match(snapshot):
        raise RuntimeError(f"unexpected snapshot id {snapshot!r}")
    engine = conn.engine
    timeout_ms = f"{max(1, int(get_settings().preview_timeout_s * 1000))}ms"

    def run() -> list[dict]:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as other, other.begin():
            other.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
            other.execute(text("SET TRANSACTION READ ONLY"))
            other.execute(text("SELECT set_config('statement_timeout', :ms, true)"), {"ms": timeout_ms})
            return validate(other, cids=cids, grid_ids=grid_ids)

    return _POOL.submit(run)
