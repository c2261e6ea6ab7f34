"""What every benchmark shares: a separate benchmark cluster, the demo city at a size, a stopwatch."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("GEOGRID_HOME", str(ROOT / ".geogrid-bench"))
os.environ.setdefault("GEOGRID_DB_PORT", "54359")

T = TypeVar("T")


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    """Seconds ``fn`` took, and what it returned."""
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def load_city(buildings: int, analyse: tuple[str, ...] = ("buildings", "grids")) -> int:
    """Replace the benchmark database with a demo city of ``buildings``; returns the grids in force."""
    from sqlalchemy import text

    from geogrid import db
    from geogrid.demo import load_demo

    engine = db.ready()
    with engine.begin() as conn:
        db.truncate_all(conn)
        load_demo(conn, buildings=buildings)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in analyse:
            conn.execute(text(f"VACUUM ANALYZE {table}"))
        return conn.scalar(text("SELECT count(*) FROM grids WHERE valid_to IS NULL"))
