"""A small planning city used by the planning tests, and checks that it loads as drawn.

Community 110108001001 (0.02° × 0.01°) holds grids 001 (west, with a hole) and 002 (east), sharing the edge
x = 116.31, and the dedicated grid 004 filling 001's hole. Community 110108001002 is a MultiPolygon (a
block and an island) covered by the MultiPolygon grid 110108001002001. Buildings sit inside grids, on the
shared edge, on the hole's edge; residents, facilities, staff and party organisations hang off them.
"""

from __future__ import annotations

import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box
from sqlalchemy import text

from geogrid.assign import assign_all

C1, C2 = "110108001001", "110108001002"
A, B, D, M = C1 + "001", C1 + "002", C1 + "004", C2 + "001"
HOLE = box(116.303, 39.903, 116.305, 39.905)
COMMUNITIES = {C1: box(116.30, 39.90, 116.32, 39.91),
               C2: MultiPolygon([box(116.32, 39.90, 116.33, 39.91), box(116.335, 39.90, 116.34, 39.905)])}
GRIDS = {  # code: (community, kind, geometry)
    A: (C1, "basic", Polygon(box(116.30, 39.90, 116.31, 39.91).exterior.coords, [HOLE.exterior.coords])),
    B: (C1, "basic", box(116.31, 39.90, 116.32, 39.91)),
    D: (C1, "dedicated", HOLE),
    M: (C2, "basic", COMMUNITIES[C2]),
}
BUILDINGS = [  # (x, y, households)
    (116.302, 39.902, 120), (116.307, 39.907, 150), (116.308, 39.902, 90),  # in A
    (116.31, 39.905, 40),  # on the A|B edge → A (lowest code)
    (116.312, 39.903, 200), (116.315, 39.905, 160), (116.318, 39.908, 100),  # in B
    (116.3095, 39.9085, 30),  # in A, 55 m west of the edge
    (116.304, 39.904, 10),  # in D (the hole)
    (116.303, 39.904, 5),  # on the hole's edge: A and D → A
    (116.325, 39.905, 300), (116.338, 39.902, 120),  # in M, both parts
]


def build_city(conn) -> dict[str, int]:
    """Load the city, assign it, and return grid ids by code."""
    cids = {}
    for code, geom in COMMUNITIES.items():
        cids[code] = conn.scalar(text(
            "INSERT INTO admin_areas (code, name, level, geom) VALUES (:c, :n, 'community', "
            "ST_Multi(ST_GeomFromText(:w, 4326))) RETURNING id"), {"c": code, "n": f"社区{code[-3:]}", "w": geom.wkt})
    ids = {}
    for code, (community, kind, geom) in GRIDS.items():
        ids[code] = conn.scalar(text(
            "INSERT INTO grids (code, name, kind, community_id, geom, version) VALUES "
            "(:c, :n, :k, :cid, ST_Multi(ST_GeomFromText(:w, 4326)), 1) RETURNING id"),
            {"c": code, "n": f"网格{code[-3:]}", "k": kind, "cid": cids[community], "w": geom.wkt})
    for i, (x, y, hh) in enumerate(BUILDINGS):
        bid = conn.scalar(text(
            "INSERT INTO buildings (source_id, address, households, geom) VALUES "
            "(:s, :a, :h, ST_SetSRID(ST_MakePoint(:x, :y), 4326)) RETURNING id"),
            {"s": f"b{i}", "a": f"长湖街{i}号楼", "h": hh, "x": x, "y": y})
        hid = conn.scalar(text("INSERT INTO households (building_id) VALUES (:b) RETURNING id"), {"b": bid})
        for _ in range(2):
            conn.execute(text("INSERT INTO residents (household_id, building_id) VALUES (:h, :b)"),
                         {"h": hid, "b": bid})
    conn.execute(text(
        "INSERT INTO facilities (name, kind, geom) VALUES ('长湖街党群服务站', 'service_station', "
        "ST_SetSRID(ST_MakePoint(116.3098, 39.9088), 4326)), ('菜市场', 'market', "
        "ST_SetSRID(ST_MakePoint(116.316, 39.906), 4326))"))
    staff = conn.scalar(text("INSERT INTO staff (name) VALUES ('李网格') RETURNING id"))
    conn.execute(text("INSERT INTO staff_assignments (staff_id, grid_id, role) VALUES (:s, :g, 'full_time_worker')"),
                 {"s": staff, "g": ids[A]})
    conn.execute(text("INSERT INTO party_orgs (name, level, grid_id) VALUES ('第一网格党支部', 'grid_branch', :g)"),
                 {"g": ids[A]})
    assign_all(conn)
    return ids


@pytest.fixture
def city(empty_db):
    """The planning city in a fresh database; yields the engine."""
    with empty_db.begin() as conn:
        build_city(conn)
    return empty_db


def snapshot(conn) -> dict:
    """Everything an apply may change: grids, versions in force, assignments, facility grids."""
    grids = {r[0]: (r[1], r[2], r[3], r[4]) for r in conn.execute(text(
        "SELECT code, ST_AsEWKB(geom), name, kind, valid_to IS NULL FROM grids"))}
    assignments = dict(conn.execute(text(
        "SELECT b.source_id, g.code FROM building_assignments a JOIN buildings b ON b.id = a.building_id "
        "LEFT JOIN grids g ON g.id = a.grid_id")).all())
    facilities = dict(conn.execute(text(
        "SELECT f.name, g.code FROM facilities f LEFT JOIN grids g ON g.id = f.grid_id")).all())
    counts = {t: conn.scalar(text(f"SELECT count(*) FROM {t}")) for t in ("grid_versions", "grid_lineage", "plans")}
    return {"grids": grids, "assignments": assignments, "facilities": facilities, "counts": counts}


def test_city_loads_as_drawn(city):
    with city.connect() as conn:
        snap = snapshot(conn)
    assert snap["assignments"]["b3"] == A and snap["assignments"]["b9"] == A and snap["assignments"]["b8"] == D
    assert set(snap["grids"]) == {A, B, D, M}
    assert shapely.from_wkb(bytes(snap["grids"][M][0])).geom_type == "MultiPolygon"
