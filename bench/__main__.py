"""``python -m bench [NAME ...] [--quick]``: run the benchmarks and write bench/results/NAME.json.

Each ``bench/bench_<name>.py`` defines ``run(quick: bool) -> dict`` with a ``goals`` list
(``bench.common.goal``); the file also records the commit, date, machine and load before the run, and
``bench/README.md``'s table is regenerated from every results file (``python -m bench.report``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
from pathlib import Path

from bench.common import machine
from bench.report import write_readme

HERE = Path(__file__).parent


def available() -> list[str]:
    return sorted(m.name[len("bench_") :] for m in pkgutil.iter_modules([str(HERE)]) if m.name.startswith("bench_"))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default all: {', '.join(available())})")
    parser.add_argument("--quick", action="store_true", help="small sizes only, for a smoke run (not recorded)")
    args = parser.parse_args()
    out_dir = HERE / "results" / ("quick" if args.quick else "")
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in args.names or available():
        before = machine()
        result = importlib.import_module(f"bench.bench_{name}").run(quick=args.quick)
        result = {"benchmark": name, **result, "machine": before}
        (out_dir / f"{name}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        print(f"wrote {out_dir / (name + '.json')}")
    if not args.quick:
        write_readme()


if __name__ == "__main__":
    main()
