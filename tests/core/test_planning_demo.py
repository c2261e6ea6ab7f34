"""Planning on the demo city: validation finds its deliberate edge cases; a split of a holed grid moves exactly
the buildings an independent Shapely computation says."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import mapping
from sqlalchemy import text

from geogrid.db.bulk import fetch_geoms, fetch_points
from geogrid.planning.apply import apply_plan
from geogrid.planning.preview import create_plan
from geogrid.planning.validate import validate


def test_validation_finds_the_demo_edge_cases(demo_city, database):
    with database.connect() as conn:
        problems = validate(conn)
    by_rule: dict[str, set[str]] = {}
    for p in problems:
        by_rule.setdefault(p["rule"], set()).update(p["grids"])
    assert by_rule.get("no_party_org", set()) == set(demo_city.grids_without_branch)
    assert by_rule.get("no_full_time_worker", set()) == set(demo_city.grids_without_full_time_worker)
    assert set(demo_city.multipolygon_grids) <= by_rule.get("several_parts", set())
    lost = sum(p["value"] for p in problems if p["rule"] == "building_in_no_grid")
    assert lost == len(demo_city.outside_buildings)


def _owners(points, codes: np.ndarray, geoms: np.ndarray) -> np.ndarray:
    """Lowest code among the grids covering each point, by Shapely alone ('' when none)."""
    order = np.argsort(codes)
    codes, geoms = codes[order], geoms[order]
    tree = shapely.STRtree(geoms)
    pts, hits = tree.query(shapely.points(points["x"], points["y"]), predicate="intersects")
    out = np.full(len(points), "", dtype=object)
    for p, h in sorted(zip(pts, hits, strict=True), key=lambda t: (t[0], -t[1])):
        out[p] = codes[h]  # the smallest index (lowest code) is written last
    return out


def test_split_of_a_holed_grid_matches_shapely(fresh_demo_city, database):
    code = fresh_demo_city.holed_grids[0]
    with database.connect() as conn:
        grids = fetch_geoms(conn, "SELECT code, ST_AsBinary(geom) FROM grids WHERE valid_to IS NULL")
        points = fetch_points(conn, "SELECT b.id, ST_X(b.geom), ST_Y(b.geom) FROM buildings b ORDER BY b.id")
    parent = grids.loc[grids["code"] == code, "geom"].iloc[0]
    x = shapely.centroid(parent).x
    _, y0, _, y1 = parent.bounds
    line = shapely.LineString([(x, y0 - 0.01), (x, y1 + 0.01)])
    with database.begin() as conn:
        plan = create_plan(conn, [{"op": "split", "grid": code, "line": mapping(line)}], author="测试")
    after_fc = plan["preview"]["geometry"]["after"]["features"]
    children = {f["properties"]["code"]: shapely.geometry.shape(f["geometry"]) for f in after_fc}
    assert len(children) >= 2 and shapely.union_all(list(children.values())).symmetric_difference(parent).area < 1e-12
    kept = grids[grids["code"] != code]
    new_codes = np.concatenate([kept["code"].to_numpy(dtype=object), np.array(list(children), dtype=object)])
    new_geoms = np.concatenate([kept["geom"].to_numpy(), np.array(list(children.values()), dtype=object)])
    before = _owners(points, grids["code"].to_numpy(dtype=object), grids["geom"].to_numpy())
    after = _owners(points, new_codes, new_geoms)
    ids = points["id"].to_numpy()
    expected = {(int(i), b or None, a or None) for i, b, a in zip(ids, before, after, strict=True) if b != a}
    got = {(b["id"], b["from"], b["to"]) for b in plan["preview"]["moved"]["buildings"]}
    assert got == expected and len(got) > 0

    with database.begin() as conn:
        result = apply_plan(conn, plan["plan"], "测试")
        assert result["retired"] == [code] and sorted(result["created"]) == sorted(children)
        owners = dict(
            conn.execute(
                text("SELECT a.building_id, g.code FROM building_assignments a LEFT JOIN grids g ON g.id = a.grid_id")
            ).all()
        )
    assert all(owners[int(i)] == (a or None) for i, a in zip(ids, after, strict=True))
