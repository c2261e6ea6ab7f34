"""``geogrid validate`` and ``geogrid plan ...`` from the shell, on the planning city."""

from __future__ import annotations

import json

import shapely
from shapely.geometry import box, mapping
from typer.testing import CliRunner

from geogrid.cli import _load_topics, application
from tests.fixtures import planning_city as pc
from tests.fixtures.planning_city import C1, A

app = application()

runner = CliRunner()
_load_topics()


def test_validate_json_and_exit_code(planning_city):
    ok = runner.invoke(app, ["validate", "--community", C1, "--json"])
    assert ok.exit_code == 0, ok.output
    problems = json.loads(ok.stdout)
    assert {p["rule"] for p in problems} == {"no_full_time_worker", "no_party_org"}


def test_plan_create_apply_history_revert(planning_city, tmp_path):
    grown = shapely.difference(box(116.30, 39.90, 116.3125, 39.91), pc.HOLE)
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps({"edits": [{"op": "redraw", "grid": A, "geometry": mapping(grown)}]}))
    created = runner.invoke(app, ["plan", "create", str(plan_file), "--author", "王规划"])
    assert created.exit_code == 0, created.output
    plan_id = json.loads(created.stdout)["plan"]
    applied = runner.invoke(app, ["plan", "apply", str(plan_id)])
    assert applied.exit_code == 0 and "applied" in applied.output
    broken = runner.invoke(app, ["validate", "--community", C1])
    assert broken.exit_code == 0 and "household_band" in broken.output  # warnings only: exit 0
    hist = runner.invoke(app, ["plan", "history", A], env={"COLUMNS": "200", "GEOGRID_LANG": "en"})
    rows = [line.split("│") for line in hist.output.splitlines() if line.count("│") >= 6]
    versions = {r[1].strip(): (r[3].strip(), r[4].strip(), r[6].strip()) for r in rows if r[1].strip().isdigit()}
    assert hist.exit_code == 0 and f"grid {A} (in force)" in hist.output
    assert versions["2"][:2] == ("in force", "王规划") and versions["2"][2] == str(plan_id)
    assert set(versions) == {"1", "2"} and versions["1"][0] != "in force"  # version 1 ended when 2 began
    reverted = runner.invoke(app, ["plan", "revert", A, "--to-version", "1"])
    assert reverted.exit_code == 0 and "reverted to version 1" in reverted.output
    after = runner.invoke(app, ["validate", "--community", C1, "--json"])
    assert after.exit_code == 0  # A gave the strip back to B, which held it in version 1: no gap
    assert "gap" not in {p["rule"] for p in json.loads(after.stdout)}


def test_bad_plan_file_names_the_file(planning_city, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = runner.invoke(app, ["plan", "create", str(bad)])
    assert result.exit_code != 0 and "bad.json" in str(result.exception)
