"""Bulk assignment on real PostGIS: MultiPolygons, holes, shared boundaries, points outside every grid."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box
from sqlalchemy import text

from geogrid.assign import assign_all

# Two grids sharing the edge x = 116.31; "C" is a MultiPolygon; "B" has a hole filled by the dedicated grid "D".
HOLE = box(116.315, 39.902, 116.318, 39.905)
GRIDS = {
    "110108001001002": box(116.30, 39.90, 116.31, 39.91),
    "110108001001001": Polygon(box(116.31, 39.90, 116.32, 39.91).exterior.coords, [HOLE.exterior.coords]),
    "110108001001003": MultiPolygon([box(116.30, 39.91, 116.31, 39.92), box(116.33, 39.90, 116.34, 39.91)]),
    "110108001001004": HOLE,
}


def insert_grids(conn, grids: dict[str, shapely.Geometry]) -> dict[str, int]:
    ids = {}
    for code, geom in grids.items():
        ids[code] = conn.scalar(
            text(
                "INSERT INTO grids (code, name, kind, geom, version) "
                "VALUES (:c, :c, 'basic', ST_Multi(ST_GeomFromText(:w, 4326)), 1) RETURNING id"
            ),
            {"c": code, "w": geom.wkt},
        )
    return ids


def insert_buildings(conn, points: list[tuple[float, float]]) -> list[int]:
    return [
        conn.scalar(
            text(
                "INSERT INTO buildings (source_id, households, geom) VALUES (:s, 10, ST_SetSRID(ST_MakePoint(:x, :y), 4326)) "
                "RETURNING id"
            ),
            {"s": f"b{i}", "x": x, "y": y},
        )
        for i, (x, y) in enumerate(points)
    ]


def assigned(conn) -> dict[str, str | None]:
    rows = conn.execute(
        text(
            "SELECT b.source_id, g.code FROM building_assignments a JOIN buildings b ON b.id = a.building_id "
            "LEFT JOIN grids g ON g.id = a.grid_id"
        )
    ).all()
    return dict(rows)


def test_edges_multipolygon_hole_boundary_and_outside(empty_db):
    points = [
        (116.305, 39.905),  # b0 inside ...002
        (116.31, 39.905),  # b1 on the shared edge of 001 and 002 → lowest code 001
        (116.335, 39.905),  # b2 in the second part of the MultiPolygon 003
        (116.316, 39.903),  # b3 in the hole of 001 → dedicated grid 004
        (116.315, 39.903),  # b4 on the hole's edge: 001 and 004 → 001
        (116.31, 39.91),  # b5 on the corner of 001, 002, 003 → 001
        (116.36, 39.905),  # b6 outside every grid, ~1.7 km east of 003's second part
    ]
    with empty_db.begin() as conn:
        insert_grids(conn, GRIDS)
        insert_buildings(conn, points)
        report = assign_all(conn)
        got = assigned(conn)
    assert got == {
        "b0": "110108001001002",
        "b1": "110108001001001",
        "b2": "110108001001003",
        "b3": "110108001001004",
        "b4": "110108001001001",
        "b5": "110108001001001",
        "b6": None,
    }
    assert report.assigned == 6 and report.buildings == 7
    (row,) = report.outside.itertuples()
    assert row.source_id == "b6" and row.nearest_grid_code == "110108001001003"
    assert 1650 < row.distance_m < 1750  # 0.02° of longitude at 39.9°N ≈ 1,706 m


def test_random_points_agree_with_postgis(empty_db):
    """Every assignment equals PostGIS's own answer (ST_Intersects, lowest code), an independent engine."""
    rng = np.random.default_rng(3)
    xy = np.column_stack([rng.uniform(116.295, 116.345, 3000), rng.uniform(39.895, 39.925, 3000)])
    xy[:200, 0] = 116.31  # many points on the shared edge
    xy[200:300] = np.round(xy[200:300], 2)  # grid corners and edges
    with empty_db.begin() as conn:
        insert_grids(conn, GRIDS)
        insert_buildings(conn, [tuple(p) for p in xy])
        assign_all(conn)
        mismatches = conn.scalar(
            text(
                "SELECT count(*) FROM buildings b JOIN building_assignments a ON a.building_id = b.id "
                "LEFT JOIN LATERAL (SELECT g.id FROM grids g WHERE ST_Intersects(g.geom, b.geom) ORDER BY g.code LIMIT 1)"
                " pg ON true WHERE a.grid_id IS DISTINCT FROM pg.id"
            )
        )
        total = conn.scalar(text("SELECT count(*) FROM building_assignments"))
    assert total == 3000 and mismatches == 0


def test_retired_grids_are_ignored_and_facilities_assigned(empty_db):
    with empty_db.begin() as conn:
        ids = insert_grids(conn, GRIDS)
        conn.execute(text("UPDATE grids SET valid_to = now() WHERE id = :i"), {"i": ids["110108001001002"]})
        insert_buildings(conn, [(116.305, 39.905)])
        conn.execute(
            text(
                "INSERT INTO facilities (name, kind, circle_minutes, geom) VALUES "
                "('长湖街党群服务站', 'service_station', 5, ST_SetSRID(ST_MakePoint(116.335, 39.905), 4326))"
            )
        )
        report = assign_all(conn)
        fac_grid = conn.scalar(text("SELECT g.code FROM facilities f JOIN grids g ON g.id = f.grid_id"))
    assert report.assigned == 0 and report.outside.iloc[0]["distance_m"] > 0
    assert fac_grid == "110108001001003" and report.facilities_assigned == 1


def test_empty_database_assigns_nothing(empty_db):
    with empty_db.begin() as conn:
        report = assign_all(conn)
    assert report.buildings == 0 and report.outside.empty


def test_buildings_but_no_grids_are_all_outside(empty_db):
    with empty_db.begin() as conn:
        insert_buildings(conn, [(116.305, 39.905), (116.306, 39.906)])
        report = assign_all(conn)
    assert report.assigned == 0 and len(report.outside) == 2
    assert report.outside["nearest_grid_code"].isna().all()


def test_stats_per_grid_and_unknown_community(empty_db):
    from geogrid.errors import NotFound
    from geogrid.stats import grid_stats

    with empty_db.begin() as conn:
        insert_grids(conn, GRIDS)
        insert_buildings(conn, [(116.305, 39.905), (116.306, 39.906), (116.335, 39.905)])
        assign_all(conn)
        stats = grid_stats(conn).set_index("code")
        with pytest.raises(NotFound, match="no community"):
            grid_stats(conn, "nowhere")
    assert stats.loc["110108001001002", "buildings"] == 2 and stats.loc["110108001001002", "households"] == 20
    assert stats.loc["110108001001003", "households"] == 10 and stats.loc["110108001001004", "households"] == 0
    assert not stats["party_org"].any()
