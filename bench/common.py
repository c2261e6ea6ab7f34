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


def geogrid_cli(*args: str) -> list[str]:
    """The ``geogrid`` command of this checkout (run with ``cwd=ROOT``): the venv's ``geogrid`` script may load
    another checkout's code when several share one venv."""
    import sys

    cli = "import sys; from geogrid.cli import main; sys.argv[0] = 'geogrid'; sys.exit(main())"
    return [sys.executable, "-c", cli, *args]


def tipg_dsn() -> str:
    """tipg's connection to the benchmark cluster: the application role, since the read-only role may read only
    the ``ogc`` feed views and the peers serve our table ``public.grids`` as a tipg user would."""
    from geogrid.settings import get_settings

    return get_settings().url.replace("+psycopg", "", 1)


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    """Seconds ``fn`` took, and what it returned."""
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def load_city(buildings: int | None, analyse: tuple[str, ...] = ("buildings", "grids")) -> int:
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


def median_timed(fn: Callable[[], T], rounds: int) -> tuple[float, T]:
    """The median of ``rounds`` timings (one call is at the mercy of a shared machine) and the last result."""
    runs = [timed(fn) for _ in range(max(1, rounds))]
    return sorted(seconds for seconds, _ in runs)[len(runs) // 2], runs[-1][1]


def goal(name: str, value: float, target: float, *, at_least: bool = True, unit: str = "×") -> dict:
    """One goal of a benchmark as it is recorded: ``{"name", "value", "target", "met"}`` (and how it reads)."""
    met = value >= target if at_least else value <= target
    sign = "≥" if at_least else "≤"
    return {"name": name, "value": round(value, 4), "target": f"{sign} {target:g}{unit}", "met": bool(met)}


def machine() -> dict:
    """Where and when a result was measured: commit, date, cores, memory and the load just before the run."""
    import datetime
    import subprocess

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    mem_kb = next(
        (
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal:")
        ),
        0,
    )
    return {
        # the code measured: results (and the README table made from them) written by an earlier benchmark of
        # the same run do not make it dirty
        "commit": git("rev-parse", "--short", "HEAD")
        + ("+dirty" if git("status", "--porcelain", "--", ".", ":!bench/results", ":!bench/README.md") else ""),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 2**20, 1),
        "load_before": [round(x, 2) for x in os.getloadavg()],
    }
