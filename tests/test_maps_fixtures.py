"""A small city for the map tests, with the edge cases maps get wrong: a grid with a hole and an island
grid inside it, a MultiPolygon grid with an exclave, a building exactly on a shared boundary, a grid
with no buildings, and a grid name that would break a ``<script>`` if not escaped.

Expected figures (5-minute circle of 300 m around the one service station at 116.303, 39.983):
grid ...001001: 380 households, 120 covered; ...001003 (island): 80, all covered;
...001002 (MultiPolygon): 410, none covered; ...002001: no households.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.conftest import truncate_all

DISTRICT, STREET = "110108", "110108001"
COMMUNITY, OTHER = "110108001001", "110108001002"
GRIDS = {
    f"{COMMUNITY}001": ("北区网格", "MULTIPOLYGON(((116.300 39.980,116.310 39.980,116.310 39.990,116.300 39.990,"
                        "116.300 39.980),(116.303 39.983,116.303 39.986,116.306 39.986,116.306 39.983,"
                        "116.303 39.983)))"),
    f"{COMMUNITY}002": ("东区网格", "MULTIPOLYGON(((116.310 39.980,116.320 39.980,116.320 39.990,116.310 39.990,"
                        "116.310 39.980)),((116.320 39.992,116.322 39.992,116.322 39.994,116.320 39.994,"
                        "116.320 39.992)))"),
    f"{COMMUNITY}003": ("湖心</script><b>岛", "MULTIPOLYGON(((116.303 39.983,116.306 39.983,116.306 39.986,"
                        "116.303 39.986,116.303 39.983)))"),
    f"{OTHER}001": ("空网格", "MULTIPOLYGON(((116.322 39.980,116.330 39.980,116.330 39.990,116.322 39.990,"
                   "116.322 39.980)))"),
}
# (lon, lat, households, party members, address)
BUILDINGS = [
    (116.301, 39.981, 120, 3, "学院路1号楼"),
    (116.309, 39.989, 200, 0, "学院路2号楼"),
    (116.3045, 39.9845, 80, 1, "湖心岛1号楼"),
    (116.310, 39.985, 60, 0, "边界路1号楼"),  # on the 001/002 boundary: lowest code wins
    (116.315, 39.985, 400, 5, "东区3号楼"),
    (116.321, 39.993, 10, 0, "飞地1号楼"),
]
EXPECTED = {
    f"{COMMUNITY}001": (380, 120, 3),
    f"{COMMUNITY}002": (410, 0, 5),
    f"{COMMUNITY}003": (80, 80, 1),
    f"{OTHER}001": (0, 0, 0),
}


def load_small_city(conn) -> None:
    """Insert the small city and assign its buildings with the real bulk assignment."""
    from geogrid.assign import assign_all
    from geogrid.gazetteer import build_gazetteer

    conn.execute(text(
        "INSERT INTO admin_areas (id, code, name, level, parent_id) VALUES "
        f"(1, '{DISTRICT}', '海淀区', 'district', NULL), (2, '{STREET}', '学院路街道', 'street', 1), "
        f"(3, '{COMMUNITY}', '东王庄社区', 'community', 2), (4, '{OTHER}', '西王庄社区', 'community', 2)"))
    for code, (name, wkt) in GRIDS.items():
        community = 3 if code.startswith(COMMUNITY) else 4
        conn.execute(text("INSERT INTO grids (code, name, community_id, geom) "
                          "VALUES (:c, :n, :cid, ST_GeomFromText(:w, 4326))"),
                     {"c": code, "n": name, "cid": community, "w": wkt})
    conn.execute(text("UPDATE admin_areas a SET geom = (SELECT ST_Multi(ST_Union(geom)) FROM grids g "
                      "WHERE g.community_id = a.id) WHERE level = 'community'"))
    for i, (lon, lat, hh, party, address) in enumerate(BUILDINGS, start=1):
        conn.execute(text("INSERT INTO buildings (id, address, households, geom) "
                          "VALUES (:i, :a, :h, ST_SetSRID(ST_MakePoint(:x, :y), 4326))"),
                     {"i": i, "a": address, "h": hh, "x": lon, "y": lat})
        conn.execute(text("INSERT INTO households (id, building_id) VALUES (:i, :i)"), {"i": i})
        for _ in range(party):
            conn.execute(text("INSERT INTO residents (household_id, building_id, party_member) "
                              "VALUES (:i, :i, true)"), {"i": i})
    conn.execute(text(
        "INSERT INTO facilities (name, kind, circle_minutes, geom) VALUES "
        "('东王庄党群服务站', 'service_station', 5, ST_SetSRID(ST_MakePoint(116.303, 39.983), 4326)), "
        "('候选站点', 'service_station', 5, ST_SetSRID(ST_MakePoint(116.315, 39.985), 4326))"))
    conn.execute(text("UPDATE facilities SET candidate = true WHERE name = '候选站点'"))
    conn.execute(text("INSERT INTO staff (id, name) VALUES (1, '张三')"))
    conn.execute(text(f"INSERT INTO staff_assignments (staff_id, grid_id, role) SELECT 1, id, 'full_time_worker' "
                      f"FROM grids WHERE code = '{COMMUNITY}001'"))
    assign_all(conn)
    build_gazetteer(conn)


@pytest.fixture
def small_city(empty_db):
    with empty_db.begin() as conn:
        load_small_city(conn)
    yield empty_db
    truncate_all(empty_db)
