"""Estimated households are marked wherever per-grid figures show: stats, export, the read API, plan previews."""

from __future__ import annotations

import json

from sqlalchemy import text
from typer.testing import CliRunner

from geogrid.cli import application
from geogrid.export import layer_frame
from geogrid.partition.propose import propose
from geogrid.planning.apply import apply_plan
from geogrid.planning.preview import grid_stats as preview_stats
from geogrid.stats import grid_stats
from tests.core.test_partition import COMMUNITY, build_street


def _street_with_estimates(conn) -> list[int]:
    """The known street, grids applied, then two buildings of the north-west block marked estimated."""
    ids = build_street(conn)
    apply_plan(conn, propose(conn, community=COMMUNITY)["plan"], "test")
    conn.execute(text("UPDATE buildings SET households_estimated = true WHERE id = ANY(:b)"), {"b": ids["nw"][:2]})
    return ids["nw"][:2]


def test_stats_and_export_say_which_households_are_estimated(empty_db):
    with empty_db.begin() as conn:
        estimated = _street_with_estimates(conn)
        grid = conn.scalar(
            text("SELECT g.code FROM building_assignments a JOIN grids g ON g.id = a.grid_id WHERE a.building_id = :b"),
            {"b": estimated[0]},
        )
        frame = grid_stats(conn, COMMUNITY).set_index("code")
        assert frame.at[grid, "households_estimated"] and frame.at[grid, "estimated_households"] == 200
        others = frame.drop(index=grid)
        assert not others["households_estimated"].any() and (others["estimated_households"] == 0).all()
        exported = layer_frame(conn, "grids").set_index("code")
        assert bool(exported.at[grid, "households_estimated"]) and exported.at[grid, "estimated_buildings"] == 2
        # a plan's preview carries the mark for the grids it measures
        gid = conn.scalar(text("SELECT id FROM grids WHERE code = :c"), {"c": grid})
        measured = preview_stats(conn, [gid], None)[gid]
        assert measured["households_estimated"] is True and measured["estimated_households"] == 200
    result = CliRunner().invoke(application(), ["stats", "--community", COMMUNITY, "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["code"]: r for r in json.loads(result.output)}
    assert rows[grid]["households_estimated"] is True and rows[grid]["estimated_households"] == 200


def test_read_api_grids_say_which_households_are_estimated(empty_db, client_as):
    with empty_db.begin() as conn:
        estimated = _street_with_estimates(conn)
        grid = conn.scalar(
            text("SELECT g.code FROM building_assignments a JOIN grids g ON g.id = a.grid_id WHERE a.building_id = :b"),
            {"b": estimated[0]},
        )
    answer = client_as("planner", COMMUNITY).get("/grids")
    assert answer.status_code == 200, answer.text
    features = {f["properties"]["code"]: f["properties"] for f in answer.json()["features"]}
    assert features[grid]["households_estimated"] is True and features[grid]["estimated_households"] == 200
    assert all(not p["households_estimated"] for c, p in features.items() if c != grid)
