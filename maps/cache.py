"""A small in-process cache of rendered layers, invalidated by any write to the tables they read.

A city's grid layer takes seconds to compute (a million buildings tested against the service areas) but
changes only when data does. The key includes a fingerprint of PostgreSQL's per-table write counters
(``pg_stat_user_tables``), so an import, a reassignment or a recomputed service area makes the next
request recompute. PostgreSQL publishes those counters within about a second of a commit.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from sqlalchemy import Connection, text

TABLES = ("grids", "admin_areas", "buildings", "building_assignments", "residents", "facilities", "service_areas",
          "staff", "staff_assignments")
MAX_ENTRIES = 32

_lock = threading.Lock()
_entries: OrderedDict[Hashable, Any] = OrderedDict()


def fingerprint(conn: Connection) -> tuple:
    """Write counters of every table a map reads: they change whenever any of those tables does."""
    rows = conn.execute(text(
        "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del, n_live_tup "
        "FROM pg_stat_user_tables WHERE relname = ANY(:t) ORDER BY relname"
    ), {"t": list(TABLES)}).all()
    return tuple(tuple(r) for r in rows)


def cached(conn: Connection, key: Hashable, compute: Callable[[], Any]) -> Any:
    """``compute()`` once per key and state of the data; the least recently used entries are dropped."""
    full = (key, fingerprint(conn))
    with _lock:
        if full in _entries:
            _entries.move_to_end(full)
            return _entries[full]
    value = compute()
    with _lock:
        _entries[full] = value
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return value


def clear() -> None:
    with _lock:
        _entries.clear()
