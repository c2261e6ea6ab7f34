"""CLI start-up: wall time of ``geogrid --help`` and ``geogrid db status`` in fresh processes (goal < 0.4 s idle).

Start-up is what every command pays before doing anything; it grows silently whenever a module imports a
heavy library (FastAPI, folium, GeoPandas, SciPy) at import time instead of where it is used. The median of
several runs is reported, with the machine's load average, since a loaded machine multiplies it.

Two floors are timed the same way, interleaved with the commands so they see the same load: ``python -c
pass`` (the interpreter alone) and a bare Typer app's ``--help`` (what any Typer CLI pays). The absolute goal
holds on an idle machine; the ratio to the bare Typer app is the one to read on a busy one: it says whether
geogrid's own imports grew, whatever the load.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

GOAL_S = 0.4  # the goal, idle machine
GOAL_OVER_TYPER = 1.5  # at most 1.5× a bare Typer app's --help, on any load
COMMANDS = {"help": ["--help"], "db_status": ["db", "status"]}
BARE_TYPER = """
import typer
app = typer.Typer()
@app.command()
def status() -> None:
    '''Say how it is.'''
@app.command()
def other() -> None:
    '''Something else.'''
app()
"""


def _geogrid() -> str:
    return shutil.which("geogrid", path=str(Path(sys.executable).parent)) or "geogrid"


def _runs() -> dict[str, list[str]]:
    """What is timed: the two floors, then the two commands."""
    return {
        "python_pass": [sys.executable, "-c", "pass"],
        "bare_typer_help": [sys.executable, "-c", BARE_TYPER, "--help"],
        **{name: [_geogrid(), *args] for name, args in COMMANDS.items()},
    }


def _once(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, capture_output=True, check=False)
    return time.perf_counter() - start


def run(quick: bool = False) -> dict:
    """The one absolute goal among the benchmarks (the issue sets it in seconds): read it with the load."""
    from bench.common import goal, machine

    runs = 3 if quick else 10
    argvs = _runs()
    for argv in argvs.values():  # warm the file cache (.pyc, shared libraries)
        _once(argv)
    times: dict[str, list[float]] = {name: [] for name in argvs}
    loads = []
    for _ in range(runs):  # interleaved: every command and floor sees the same load
        loads.append(os.getloadavg()[0])
        for name, argv in argvs.items():
            times[name].append(_once(argv))
    result: dict = {**machine(), "goal_s": GOAL_S, "runs": runs, "load_average": round(statistics.mean(loads), 2)}
    for name, seen in times.items():
        result[name] = {"median_s": round(statistics.median(seen), 3), "min_s": round(min(seen), 3)}
    typer_floor = result["bare_typer_help"]["median_s"]
    for name in COMMANDS:
        result[name]["over_bare_typer"] = round(result[name]["median_s"] / typer_floor, 2)
    for name, args in {"python_pass": ["python -c pass"], "bare_typer_help": ["bare Typer --help"]}.items():
        print(f"floor {args[0]}: median {result[name]['median_s']} s")
    for name, args in COMMANDS.items():
        print(
            f"geogrid {' '.join(args)}: median {result[name]['median_s']} s, min {result[name]['min_s']} s, "
            f"{result[name]['over_bare_typer']}× bare Typer (goal {GOAL_S} s idle, load {result['load_average']:.1f})"
        )
    result["goals"] = [
        g
        for name, args in COMMANDS.items()
        for g in (
            goal(
                f"geogrid {' '.join(args)} median (idle machine), s",
                result[name]["median_s"],
                GOAL_S,
                at_least=False,
                unit=" s",
            ),
            goal(
                f"geogrid {' '.join(args)} / bare Typer --help",
                result[name]["over_bare_typer"],
                GOAL_OVER_TYPER,
                at_least=False,
            ),
        )
    ]
    return result
