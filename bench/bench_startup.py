"""CLI start-up: wall time of ``geogrid --help`` and ``geogrid db status`` in fresh processes (goal < 0.4 s idle).

Start-up is what every command pays before doing anything; it grows silently whenever a module imports a
heavy library (FastAPI, folium, GeoPandas, SciPy) at import time instead of where it is used. The median of
several runs is reported, with the machine's load average, since a loaded machine multiplies it.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

GOAL_S = 0.4
COMMANDS = {"help": ["--help"], "db_status": ["db", "status"]}


def _geogrid() -> str:
    return shutil.which("geogrid", path=str(Path(sys.executable).parent)) or "geogrid"


def _time(args: list[str], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([_geogrid(), *args], capture_output=True, check=False)
        out.append(time.perf_counter() - start)
    return out


def run(quick: bool = False) -> dict:
    """The one absolute goal among the benchmarks (the issue sets it in seconds): read it with the load."""
    from bench.common import goal, machine

    runs = 3 if quick else 10
    _time(["--help"], 1)  # warm the file cache (.pyc, shared libraries)
    result: dict = {**machine(), "goal_s": GOAL_S, "runs": runs, "load_average": os.getloadavg()[0]}
    for name, args in COMMANDS.items():
        times = _time(args, runs)
        result[name] = {"median_s": round(statistics.median(times), 3), "min_s": round(min(times), 3)}
        print(
            f"geogrid {' '.join(args)}: median {result[name]['median_s']} s, min {result[name]['min_s']} s "
            f"(goal {GOAL_S} s, load {result['load_average']:.1f})"
        )
    result["goals"] = [
        goal(f"geogrid {' '.join(args)} median, s", result[name]["median_s"], GOAL_S, at_least=False, unit=" s")
        for name, args in COMMANDS.items()
    ]
    return result
