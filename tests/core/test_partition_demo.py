"""Partition of the demo street office on real PostGIS: every grid in one piece, grids tiling each community
exactly, and every basic grid in the band unless the plan says why its units allow no better."""

from __future__ import annotations

import shapely
from shapely.geometry import shape
from sqlalchemy import text

from geogrid.partition.propose import propose


def test_demo_street_grids_are_one_piece_and_tile_communities(demo_conn):
    street = demo_conn.scalar(text("SELECT code FROM admin_areas WHERE level = 'street' ORDER BY code LIMIT 1"))
    plan = propose(demo_conn, street=street, seed=0)
    features = plan["preview"]["geometry"]["after"]["features"]
    report = {g["name"]: g for g in plan["preview"]["partition"]["grids"]}
    assert len(features) == len(report) > 10
    geoms = {f["properties"]["code"]: shape(f["geometry"]) for f in features}
    assert [c for c, g in geoms.items() if len(shapely.get_parts(g)) != 1] == []
    by_community: dict[str, list] = {}
    for code, geom in geoms.items():
        by_community.setdefault(code[:12], []).append(geom)
    for community, parts in by_community.items():
        outline = shapely.from_wkb(
            bytes(demo_conn.scalar(text("SELECT ST_AsBinary(geom) FROM admin_areas WHERE code = :c"), {"c": community}))
        )
        union = shapely.union_all(parts)
        # degrees²: 1e-11 is about 0.1 m² over a community of some 0.5 km²
        assert shapely.symmetric_difference(union, outline).area < 1e-11, community
        assert abs(sum(p.area for p in parts) - union.area) < 1e-11, community
    basic = [g for g in report.values() if g["kind"] == "basic"]
    assert all(g["in_band"] or g["reason"] for g in basic)
    # every basic grid is in the band unless the plan proved its units allow no better
    summary = plan["preview"]["partition"]["summary"]
    assert summary["in_band_share_where_units_allow"] == 1.0, [g for g in basic if not g["in_band"]]
    assert all(not g["band_possible"] for g in basic if not g["in_band"])
