"""The benchmark README shows exactly the committed results: no figure without its result file."""

from __future__ import annotations

import json

from bench import report


def test_readme_table_is_generated_from_the_result_files():
    text = report.README.read_text()
    table = text.split(report.BEGIN)[1].split(report.END)[0].strip().splitlines()
    assert table == report.rows(), "run `python -m bench.report` after adding or changing bench/results/*.json"


def test_every_result_records_where_and_its_goals():
    for path in sorted((report.HERE / "results").glob("*.json")):
        result = json.loads(path.read_text())
        assert {"commit", "date", "cores", "memory_gib", "load_before"} <= set(result["machine"]), path.name
        for goal in result["goals"]:
            assert set(goal) == {"name", "value", "target", "met"}, path.name
