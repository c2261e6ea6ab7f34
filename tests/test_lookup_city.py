"""Shared fixture data (no tests here) for the lookup tests: a small city with shared edges, a MultiPolygon,
a hole filled by a dedicated grid, staff, a party branch, stations, compounds and addresses as people write them."""

from __future__ import annotations

import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box
from sqlalchemy import Connection, text

from geogrid.gazetteer import build_gazetteer

DISTRICT = ("110108", "海淀区")
STREET = ("110108600", "长湖街道")
COMMUNITIES = {"110108600001": "巴蜀社区", "110108600002": "学府社区"}
HOLE = box(116.315, 39.902, 116.318, 39.905)
GRIDS = {  # code: (community, name, kind, polygon)
    "110108600001002": ("110108600001", "巴蜀第二网格", "basic", box(116.30, 39.90, 116.31, 39.91)),
    "110108600001001": ("110108600001", "巴蜀第一网格", "basic",
                        Polygon(box(116.31, 39.90, 116.32, 39.91).exterior.coords, [HOLE.exterior.coords])),
    "110108600002001": ("110108600002", "学府第一网格", "basic",
                        MultiPolygon([box(116.30, 39.91, 116.31, 39.92), box(116.33, 39.90, 116.34, 39.91)])),
    "110108600001003": ("110108600001", "长湖医院网格", "dedicated", HOLE),
}
COMMUNITY_SHAPES = {
    "110108600001": box(116.30, 39.90, 116.32, 39.91),
    "110108600002": MultiPolygon([box(116.30, 39.91, 116.31, 39.92), box(116.33, 39.90, 116.34, 39.91)]),
}
STATIONS = {"巴蜀党群服务站": (116.305, 39.905), "学府党群服务站": (116.335, 39.905)}
# (compound, number, address, lon, lat)
BUILDINGS = [
    ("巴蜀花园", "3", None, 116.3052, 39.9051),
    ("巴蜀花园", "13", None, 116.3062, 39.9061),
    ("巴蜀花园", "5", None, 116.3125, 39.9070),
    (None, None, "长湖街12号", 116.3140, 39.9080),
    (None, None, "长湖街14号", 116.3355, 39.9050),
    ("学府小区", "1", None, 116.3050, 39.9150),
]


def _insert_area(conn: Connection, code: str, name: str, level: str, parent: int | None, geom) -> int:
    return conn.scalar(text(
        "INSERT INTO admin_areas (code, name, level, parent_id, geom) "
        "VALUES (:c, :n, :l, :p, ST_Multi(ST_GeomFromText(:w, 4326))) RETURNING id"),
        {"c": code, "n": name, "l": level, "p": parent, "w": geom.wkt})


def load_city(conn: Connection) -> None:
    """Insert the whole city and build the gazetteer."""
    everything = shapely.union_all(list(COMMUNITY_SHAPES.values()))
    district = _insert_area(conn, DISTRICT[0], DISTRICT[1], "district", None, everything)
    street = _insert_area(conn, STREET[0], STREET[1], "street", district, everything)
    comm_ids = {code: _insert_area(conn, code, name, "community", street, COMMUNITY_SHAPES[code])
                for code, name in COMMUNITIES.items()}
    grid_ids = {}
    for code, (community, name, kind, geom) in GRIDS.items():
        grid_ids[code] = conn.scalar(text(
            "INSERT INTO grids (code, name, kind, community_id, geom) "
            "VALUES (:c, :n, :k, :cid, ST_Multi(ST_GeomFromText(:w, 4326))) RETURNING id"),
            {"c": code, "n": name, "k": kind, "cid": comm_ids[community], "w": geom.wkt})
    first = grid_ids["110108600001001"]
    for role, name in (("grid_leader", "王建国"), ("full_time_worker", "李梅"), ("part_time_worker", "赵强")):
        sid = conn.scalar(text("INSERT INTO staff (name) VALUES (:n) RETURNING id"), {"n": name})
        conn.execute(text("INSERT INTO staff_contacts (staff_id, phone) VALUES (:s, '13800000000')"), {"s": sid})
        conn.execute(text("INSERT INTO staff_assignments (staff_id, grid_id, role) VALUES (:s, :g, :r)"),
                     {"s": sid, "g": first, "r": role})
    conn.execute(text("INSERT INTO party_orgs (name, level, grid_id, secretary) "
                      "VALUES ('巴蜀第一网格党支部', 'grid_branch', :g, '王建国')"), {"g": first})
    for name, (x, y) in STATIONS.items():
        conn.execute(text("INSERT INTO facilities (name, kind, geom) "
                          "VALUES (:n, 'service_station', ST_SetSRID(ST_MakePoint(:x, :y), 4326))"),
                     {"n": name, "x": x, "y": y})
    compounds: dict[str, int] = {}
    for compound, number, address, x, y in BUILDINGS:
        if compound and compound not in compounds:
            compounds[compound] = conn.scalar(text("INSERT INTO compounds (name) VALUES (:n) RETURNING id"),
                                              {"n": compound})
        conn.execute(text(
            "INSERT INTO buildings (compound_id, number, address, households, geom) "
            "VALUES (:c, :num, :a, 40, ST_SetSRID(ST_MakePoint(:x, :y), 4326))"),
            {"c": compounds.get(compound), "num": number, "a": address, "x": x, "y": y})
    build_gazetteer(conn)


def expected_code(lon: float, lat: float) -> str | None:
    """The independent answer: Shapely on the same polygons, lowest code among the covering grids."""
    point = shapely.Point(lon, lat)
    covering = sorted(code for code, (*_, geom) in GRIDS.items() if geom.intersects(point))
    return covering[0] if covering else None


@pytest.fixture(scope="module")
def city(database):
    """The small lookup city, loaded once per test module."""
    from tests.conftest import truncate_all

    truncate_all(database)
    with database.begin() as conn:
        load_city(conn)
    return database
