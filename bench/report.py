"""``python -m bench.report``: the README's table of goals, generated from ``bench/results/*.json`` only.

No figure appears in ``bench/README.md`` without the committed result it comes from: the table between the
markers is rewritten from the files (commit, date, machine and each goal's value, target and whether it is met).
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).parent
README = HERE / "README.md"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


def rows() -> list[str]:
    """One line per goal of every recorded benchmark, in name order."""
    out = ["| benchmark | goal | value | target | met | commit, date, load before |", "|---|---|---|---|---|---|"]
    for path in sorted((HERE / "results").glob("*.json")):
        result = json.loads(path.read_text())
        m = result.get("machine", {})
        where = f"{m.get('commit', '?')}, {m.get('date', '?')[:10]}, load {m.get('load_before', ['?'])[0]}"
        goals = result.get("goals") or [{"name": "(no goals recorded)", "value": "", "target": "", "met": None}]
        for g in goals:
            met = {True: "yes", False: "**no**", None: "—"}[g["met"]]
            out.append(f"| `{path.stem}` | {g['name']} | {g['value']} | {g['target']} | {met} | {where} |")
    return out


def write_readme() -> None:
    """Replace the table between the markers in bench/README.md."""
    text = README.read_text()
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    README.write_text(f"{head}{BEGIN}\n" + "\n".join(rows()) + f"\n{END}{tail}")


if __name__ == "__main__":
    write_readme()
