"""``python -m bench [NAME ...] [--quick]``: run the benchmarks and write bench/results/NAME.json.

Each ``bench/bench_<name>.py`` defines ``run(quick: bool) -> dict``; the dict is printed and written.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
from pathlib import Path

HERE = Path(__file__).parent


def available() -> list[str]:
    return sorted(m.name[len("bench_"):] for m in pkgutil.iter_modules([str(HERE)]) if m.name.startswith("bench_"))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default all: {', '.join(available())})")
    parser.add_argument("--quick", action="store_true", help="small sizes only, for a smoke run")
    args = parser.parse_args()
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    for name in args.names or available():
        result = importlib.import_module(f"bench.bench_{name}").run(quick=args.quick)
        (out_dir / f"{name}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
        print(f"wrote {out_dir / (name + '.json')}")


if __name__ == "__main__":
    main()
