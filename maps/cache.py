"""Rendered layers cached in process and in PostGIS, invalidated by any write to the tables they read.

A city's grid layer takes seconds to compute (a million buildings tested against the service areas) but
changes only when data does. The key includes the data version (:mod:`geogrid.db.versions`): a write to any of
``TABLES`` changes it in the writer's own transaction, so the first request whose snapshot sees a write also
sees a new version and recomputes; nothing waits for statistics to be published. The version is read before
the layer is computed, so a layer is never stored under a version newer than its data. A transaction with
writes of its own gets no version and caches nothing.

:func:`cached` keeps any value in this process; :func:`cached_bytes` also keeps prepared bytes in the
``map_layers`` table (revision ``0004_map_layers``), one row per key, so other API workers and a restarted
one reuse them. A per-key lock makes a request wait for a build already running (the start-up warmer's)
instead of starting a second one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from sqlalchemy import Connection, text

from geogrid.db.versions import DataVersion, data_version

# The tables maps read: each has the data version's triggers (revision 0018_data_versions; a test checks it).
TABLES = (
    "grids",
    "admin_areas",
    "buildings",
    "building_assignments",
    "residents",
    "facilities",
    "service_areas",
    "staff",
    "staff_assignments",
    "party_orgs",
    "base_features",
    "compounds",
)
MAX_ENTRIES = 32
Prepared = tuple[bytes, bytes | None]  # body, and its gzip when worth sending compressed

_lock = threading.Lock()
_entries: OrderedDict[Hashable, Any] = OrderedDict()
_building: dict[Hashable, threading.Lock] = {}


def fingerprint(conn: Connection) -> DataVersion | None:
    """The state of the data this connection's snapshot sees (None: nothing may be cached, see above)."""
    return data_version(conn)


def _remember(full: Hashable, value: Any) -> None:
    with _lock:
        _entries[full] = value
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)


def _recall(full: Hashable) -> tuple[bool, Any]:
    with _lock:
        if full in _entries:
            _entries.move_to_end(full)
            return True, _entries[full]
    return False, None


def _key_lock(full: Hashable) -> threading.Lock:
    with _lock:
        if len(_building) > 8 * MAX_ENTRIES:  # locks of past states: drop those nobody holds
            for k in [k for k, lk in _building.items() if not lk.locked()]:
                del _building[k]
        return _building.setdefault(full, threading.Lock())


def cached(conn: Connection, key: Hashable, compute: Callable[[], Any]) -> Any:
    """``compute()`` once per key and state of the data; the least recently used entries are dropped."""
    version = fingerprint(conn)
    if version is None:
        return compute()
    full = (key, version)
    with _key_lock(full):
        hit, value = _recall(full)
        if not hit:
            value = compute()
            _remember(full, value)
    return value


def _load(conn: Connection, key: str, fp: str) -> Prepared | None:
    row = conn.execute(
        text("SELECT body, body_gzip FROM map_layers WHERE key = :k AND fingerprint = :f"), {"k": key, "f": fp}
    ).first()
    return None if row is None else (bytes(row.body), None if row.body_gzip is None else bytes(row.body_gzip))


def _store(conn: Connection, key: str, fp: str, value: Prepared) -> None:
    """Upsert in its own transaction: the reader's connection stays read-only."""
    with conn.engine.begin() as w:
        w.execute(
            text(
                "INSERT INTO map_layers (key, fingerprint, body, body_gzip) VALUES (:k, :f, :b, :g) "
                "ON CONFLICT (key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, body = EXCLUDED.body, "
                "body_gzip = EXCLUDED.body_gzip, built_at = now()"
            ),
            {"k": key, "f": fp, "b": value[0], "g": value[1]},
        )


def cached_bytes(
    conn: Connection,
    key: Hashable,
    compute: Callable[[], Prepared],
    *,
    persist: bool = True,
) -> Prepared:
    """Prepared bytes from this process, else from ``map_layers``, else ``compute()``d and stored in both
    (in this process only unless ``persist``)."""
    version = fingerprint(conn)
    if version is None:
        return compute()
    full = (key, version)
    with _key_lock(full):
        hit, value = _recall(full)
        if hit:
            return value
        db_key, db_fp = repr(key), version.key()
        value = _load(conn, db_key, db_fp) if persist else None
        if value is None:
            value = compute()
            if persist:
                _store(conn, db_key, db_fp, value)
        _remember(full, value)
    return value


def is_prepared(conn: Connection, key: Hashable) -> bool:
    """True when ``map_layers`` holds this key for the current state of the data."""
    version = fingerprint(conn)
    return version is not None and bool(
        conn.scalar(
            text("SELECT EXISTS (SELECT 1 FROM map_layers WHERE key = :k AND fingerprint = :f)"),
            {"k": repr(key), "f": version.key()},
        )
    )


def clear(conn: Connection | None = None) -> None:
    """Forget every layer kept in this process; with ``conn`` also those stored in PostGIS."""
    with _lock:
        _entries.clear()
        _building.clear()
    if conn is not None:
        conn.execute(text("DELETE FROM map_layers"))
