"""The data version: which state of the mapped tables a snapshot sees, changed by every write in its own transaction.

Caches of map layers and tiles are keyed on it (:mod:`maps.cache`), so a write is seen by the very next request.

How it is kept (revision ``0018_data_versions``): a statement trigger on every mapped table (INSERT, UPDATE,
DELETE, TRUNCATE, COPY) appends one row to ``data_changes`` in the writer's own transaction. Writers only
insert, so they never wait on each other and cannot deadlock over it. Every ``PRUNE_EVERY``-th row (in READ
COMMITTED writers, one prune at a time by a tried advisory lock) deletes the change rows it sees and adds their
count and sum of ids to the one ``data_version`` row, in one statement.

The version of a snapshot is ``(epoch, pruned + count(rows), pruned_sum + sum(ids))`` over what it sees.

Why it is sound:

1. *The same data, the same version.* The version is a function of which transactions a snapshot sees
   committed: each change row belongs to one transaction. A prune moves rows into the totals in one
   transaction, so a snapshot sees either the rows and the old totals or neither and the new totals: the same
   count and sum either way (a snapshot older than the prune keeps seeing the old row versions, MVCC).
2. *Different data, different versions.* PostgreSQL makes a commit visible under ``ProcArrayLock``, which
   every snapshot also takes: commits become visible in one order and every snapshot sees a prefix of it, so
   of two snapshots one sees every transaction the other sees. If they differ, the later one sees at least
   one more transaction that wrote a mapped table, hence at least one more change row: its count is larger.
   Ids committing out of order do not matter (``max(id)`` would: a later snapshot can see an older id); a
   rolled-back write's rows are never visible, so it changes nothing.
3. *The caller's own uncommitted writes* are the exception: such a snapshot sees rows nobody else sees and
   could meet another snapshot's count and sum. :func:`data_version` answers ``None`` for a transaction that
   has written anything (an xid assigned), and callers cache nothing then.
4. *Restarts and resets.* The rows and totals are ordinary WAL-logged data, so the version survives a
   restart (layers stored in ``map_layers`` are reused; a layer stored there committed after the writes it
   saw, so WAL replay never keeps it without them). Memory caches also key on the server's start time: with
   ``synchronous_commit=off`` a crash can lose a commit and its ids be drawn again. ``geogrid db reset``
   migrates again and draws a new random ``epoch``; ``truncate_all`` leaves both tables alone (truncating the
   mapped tables is itself a change).

Why not ``lookup_changes`` (revision ``0016_lookup``): it answers "has anything changed since my one memory
copy read the data" from ``max(id)`` plus the transactions that copy watched, and its prune deletes rows
without keeping their count, so it yields no value two workers could share as a key (``map_layers``), and it
watches other tables.

Cost: one statement scanning at most about ``PRUNE_EVERY`` live rows plus the totals row; in
``tests/maps/test_data_versions.py`` its median is about half that of the write-counter query it replaces.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from sqlalchemy import Connection, text

QUERY = (
    "SELECT v.epoch::text AS epoch, v.pruned + c.n AS changes, (v.pruned_sum + c.s)::text AS id_sum, "
    "pg_postmaster_start_time()::text AS started, pg_current_xact_id_if_assigned() IS NOT NULL AS dirty "
    "FROM data_version v, (SELECT count(*) AS n, coalesce(sum(id), 0) AS s FROM data_changes) c"
)


class DataVersion(NamedTuple):
    """A state of the mapped tables: equal for snapshots that see the same committed writes, else different."""

    epoch: str
    changes: int
    id_sum: str
    started: str  # the server's start: memory caches also drop what a crash may have lost (asynchronous commit)

    def key(self) -> str:
        """The durable part as text (what ``map_layers`` stores: it survives a restart)."""
        return f"{self.epoch}:{self.changes}:{self.id_sum}"


def data_version(conn: Connection) -> DataVersion | None:
    """The version the connection's snapshot sees; None inside a transaction that has written (its own
    uncommitted changes are visible to it alone) or when the totals row is missing."""
    return from_row(conn.execute(text(QUERY)).mappings().first())


def from_row(row: Mapping[Any, Any] | None) -> DataVersion | None:
    """The version in a row of :data:`QUERY` (read by any driver)."""
    if row is None or row["dirty"]:
        return None
    return DataVersion(epoch=row["epoch"], changes=int(row["changes"]), id_sum=row["id_sum"], started=row["started"])


def prune(conn: Connection) -> int:
    """Fold the change rows this transaction sees into the totals now (the trigger does it every
    ``PRUNE_EVERY``-th write); returns how many went (0 when another prune is running)."""
    return int(conn.execute(text("SELECT prune_data_changes()")).scalar_one())
