"""The demo city on real PostGIS: determinism, exact tiling, household bands, codes and its edge cases.

Most tests share the ``demo_city`` fixture; the ones that reload (another seed, 20,000 buildings) do it in
a transaction they roll back, so the shared demo stays in place for everyone else.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse
from scipy.sparse.csgraph import dijkstra
from sqlalchemy import text
from typer.testing import CliRunner

from geogrid.cli import application
from geogrid.db import truncate_all
from geogrid.demo import PEOPLE_MAX_BUILDINGS, load_demo
from geogrid.demo.names import id_check_valid
from geogrid.model import FACILITY_KINDS, SPECIAL_GROUPS, STAFF_ROLES

app = application()

ROOT = Path(__file__).resolve().parents[2]
CHECKSUM_SQL = """
SELECT md5(string_agg(x, '|' ORDER BY x)) FROM (
    SELECT concat_ws(',', code, name, ST_AsEWKT(geom)) AS x FROM grids
    UNION ALL SELECT concat_ws(',', code, name, ST_AsEWKT(geom)) FROM admin_areas
    UNION ALL SELECT concat_ws(',', id, address, households, floors, ST_AsEWKT(geom)) FROM buildings
    UNION ALL SELECT concat_ws(',', id, name, kind, candidate, ST_AsEWKT(geom)) FROM facilities
    UNION ALL SELECT concat_ws(',', id, source, target, length_m) FROM walk_edges
    UNION ALL SELECT concat_ws(',', r.id, r.party_member, r.special_groups, r.birth_year, p.name, p.id_number)
              FROM residents r JOIN resident_personal p ON p.resident_id = r.id
    UNION ALL SELECT concat_ws(',', s.id, s.name, a.role, a.grid_id, a.building_id)
              FROM staff s JOIN staff_assignments a ON a.staff_id = s.id
) t
"""
# The grid whose polygon covers a building, lowest code first (the shared boundary rule).
COVERING_GRID_SQL = """
SELECT b.id, b.households, g.id AS grid_id, g.code, g.kind FROM buildings b
LEFT JOIN LATERAL (SELECT id, code, kind FROM grids WHERE valid_to IS NULL AND ST_Covers(geom, b.geom)
                   ORDER BY code LIMIT 1) g ON true
"""


def scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def rows(engine, sql: str, **params) -> list:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).all()


def test_same_seed_same_city_and_another_seed_another(demo_city, database):
    with database.connect() as conn, conn.begin() as tx:
        first = conn.scalar(text(CHECKSUM_SQL))
        truncate_all(conn)
        load_demo(conn, seed=7)
        again = conn.scalar(text(CHECKSUM_SQL))
        truncate_all(conn)
        load_demo(conn, seed=8)
        other = conn.scalar(text(CHECKSUM_SQL))
        tx.rollback()
    assert first == again
    assert other != first


def test_default_city_size(demo_city, database):
    assert demo_city.streets == 1 and demo_city.communities >= 5
    assert demo_city.basic_grids >= 30 and 1 <= demo_city.dedicated_grids <= 2
    counts = rows(database, "SELECT level, count(*) FROM admin_areas GROUP BY level")
    assert dict(counts) == {"district": 1, "street": 1, "community": demo_city.communities}
    assert scalar(database, "SELECT count(*) FROM buildings") == demo_city.buildings
    assert demo_city.household_rows == demo_city.households == scalar(database, "SELECT count(*) FROM households")
    assert demo_city.residents == scalar(database, "SELECT count(*) FROM resident_personal")


def test_grids_tile_communities_and_communities_tile_the_street(demo_city, database):
    overlapping = """
        SELECT count(*) FROM {t} a JOIN {t} b ON a.id < b.id AND a.geom && b.geom {w}
        AND ST_Relate(a.geom, b.geom, 'T********')"""
    assert scalar(database, overlapping.format(t="grids", w="")) == 0
    assert (
        scalar(database, overlapping.format(t="admin_areas", w="AND a.level = 'community' AND b.level = 'community'"))
        == 0
    )
    # Union of the grids of each community = the community; union of the communities = the street (< 1 m²).
    gaps = rows(
        database,
        """
        SELECT c.code, ST_Area(ST_SymDifference(ST_Union(g.geom), c.geom)::geography) FROM admin_areas c
        JOIN grids g ON g.community_id = c.id GROUP BY c.id, c.code, c.geom
        UNION ALL
        SELECT s.code, ST_Area(ST_SymDifference(ST_Union(c.geom), s.geom)::geography) FROM admin_areas s
        JOIN admin_areas c ON c.parent_id = s.id WHERE s.level = 'street' GROUP BY s.id, s.code, s.geom""",
    )
    assert len(gaps) == demo_city.communities + demo_city.streets
    assert all(area < 1.0 for _, area in gaps), gaps
    assert (
        scalar(
            database,
            "SELECT count(*) FROM grids g JOIN admin_areas c ON c.id = g.community_id "
            "WHERE NOT ST_CoveredBy(g.geom, c.geom)",
        )
        == 0
    )
    assert scalar(database, "SELECT bool_and(ST_IsValid(geom)) FROM grids") is True


def test_basic_grids_hold_300_to_500_households(demo_city, database):
    per_grid = rows(
        database,
        f"""
        SELECT g.code, g.kind, coalesce(sum(c.households), 0) FROM grids g
        LEFT JOIN ({COVERING_GRID_SQL}) c ON c.grid_id = g.id GROUP BY g.code, g.kind""",
    )
    basic = [h for _, kind, h in per_grid if kind == "basic"]
    assert len(basic) == demo_city.basic_grids
    assert min(basic) >= 300 and max(basic) <= 500
    # geogrid.assign (run by compute_all) agrees with the independent SQL above.
    assigned = dict(
        rows(
            database,
            """
        SELECT g.code, sum(b.households) FROM building_assignments a JOIN buildings b ON b.id = a.building_id
        JOIN grids g ON g.id = a.grid_id GROUP BY g.code""",
        )
    )
    assert all(assigned.get(code, 0) == h for code, _, h in per_grid)


def test_codes_follow_nbs_structure_and_reading_order(demo_city, database):
    areas = dict(rows(database, "SELECT code, level FROM admin_areas"))
    assert all(len(c) == {"district": 6, "street": 9, "community": 12}[lvl] for c, lvl in areas.items())
    assert all(c.startswith("110108") for c in areas)
    grids = rows(
        database,
        """
        SELECT g.code, c.code, ST_X(ST_Centroid(g.geom)), ST_Y(ST_Centroid(g.geom)), ST_NumGeometries(g.geom),
               g.kind FROM grids g JOIN admin_areas c ON c.id = g.community_id ORDER BY g.code""",
    )
    assert all(re.fullmatch(r"\d{15}", code) and code.startswith(comm) for code, comm, *_ in grids)
    half_cell = 125 / 111_000  # degrees of latitude in half a 250 m cell
    plain = [g for g in grids if g[4] == 1 and g[5] == "basic" and g[0] not in demo_city.holed_grids]
    for a in plain:
        for b in plain:
            if a[1] == b[1] and a[0] < b[0]:
                north_first = a[3] - b[3] > half_cell
                same_row_west_first = abs(a[3] - b[3]) < half_cell and a[2] < b[2]
                assert north_first or same_row_west_first, (a, b)


def test_geometry_edge_cases(demo_city, database):
    multi = demo_city.multipolygon_grids[0]
    assert scalar(database, "SELECT ST_NumGeometries(geom) FROM grids WHERE code = :c", c=multi) == 2
    holed = demo_city.holed_grids[0]
    assert (
        scalar(database, "SELECT ST_NumInteriorRings(ST_GeometryN(geom, 1)) FROM grids WHERE code = :c", c=holed) == 1
    )
    filler = rows(
        database,
        """
        SELECT d.code FROM grids d JOIN grids h ON h.code = :c WHERE d.kind = 'dedicated'
        AND ST_Equals(d.geom, ST_MakePolygon(ST_InteriorRingN(ST_GeometryN(h.geom, 1), 1)))""",
        c=holed,
    )
    assert len(filler) == 1 and filler[0][0] in demo_city.dedicated_grid_codes
    on_edge = rows(
        database,
        """
        SELECT b.id, count(g.id) FILTER (WHERE ST_Covers(g.geom, b.geom)),
               count(g.id) FILTER (WHERE ST_Contains(g.geom, b.geom))
        FROM buildings b JOIN grids g ON g.geom && b.geom WHERE b.id = ANY(:ids) GROUP BY b.id""",
        ids=demo_city.boundary_buildings,
    )
    assert len(on_edge) == 3 and all(covers >= 2 and contains == 0 for _, covers, contains in on_edge)
    outside = scalar(
        database,
        """
        SELECT count(*) FROM buildings b WHERE b.id = ANY(:ids)
        AND NOT EXISTS (SELECT 1 FROM admin_areas s WHERE ST_Covers(s.geom, b.geom))""",
        ids=demo_city.outside_buildings,
    )
    assert outside == len(demo_city.outside_buildings) >= 2


def test_organisation_gaps_and_roles(demo_city, database):
    no_branch = {
        c
        for (c,) in rows(
            database,
            """
        SELECT code FROM grids g WHERE NOT EXISTS (SELECT 1 FROM party_orgs p WHERE p.grid_id = g.id
        AND p.level = 'grid_branch')""",
        )
    }
    assert no_branch == set(demo_city.grids_without_branch) and 1 <= len(no_branch) <= 5
    workers = dict(
        rows(
            database,
            """
        SELECT g.code, count(a.id) FROM grids g LEFT JOIN staff_assignments a ON a.grid_id = g.id
        AND a.role = 'full_time_worker' GROUP BY g.code""",
        )
    )
    assert {c for c, n in workers.items() if n == 0} == set(demo_city.grids_without_full_time_worker)
    assert max(workers.values()) == 1  # 一人一格
    assert {r for (r,) in rows(database, "SELECT DISTINCT role FROM staff_assignments")} == set(STAFF_ROLES)
    assert (
        scalar(
            database,
            """SELECT max(n) FROM (SELECT count(DISTINCT grid_id) n FROM staff_assignments
                               WHERE role = 'specialist' GROUP BY staff_id) t""",
        )
        >= 4
    )  # 一人多格
    assert (
        scalar(
            database,
            "SELECT count(*) FROM staff s LEFT JOIN staff_contacts c ON c.staff_id = s.id "
            "WHERE c.phone !~ '^1[3-9][0-9]{9}$' OR c.phone IS NULL",
        )
        == 0
    )
    levels = dict(rows(database, "SELECT level, count(*) FROM party_orgs GROUP BY level"))
    assert levels["street_committee"] == 1 and levels["community_committee"] == demo_city.communities
    assert levels["building_group"] > 0


def test_residents_are_plausible(demo_city, database):
    party, total = rows(database, "SELECT count(*) FILTER (WHERE party_member), count(*) FROM residents")[0]
    assert 0.06 < party / total < 0.10
    groups = {g for (g,) in rows(database, "SELECT DISTINCT unnest(special_groups) FROM residents")}
    assert groups == set(SPECIAL_GROUPS)
    alone = scalar(
        database,
        "SELECT count(*) FROM residents WHERE 'elderly_alone' = ANY(special_groups) AND birth_year > 2025 - 70",
    )
    assert alone == 0
    sample = rows(
        database,
        "SELECT p.id_number, p.name, r.birth_year FROM resident_personal p "
        "JOIN residents r ON r.id = p.resident_id ORDER BY p.resident_id LIMIT 2000",
    )
    assert all(id_check_valid(n) and int(n[6:10]) == year for n, _, year in sample)
    assert all(re.fullmatch(r"[\u4e00-\u9fff]{2,3}", name) for _, name, _ in sample)


def test_chinese_addresses_and_compounds(demo_city, database):
    addresses = [a for (a,) in rows(database, "SELECT address FROM buildings WHERE compound_id IS NOT NULL")]
    pattern = re.compile(r"[\u4e00-\u9fff]+\d+号 [\u4e00-\u9fff]+\d+号楼")
    assert addresses and all(pattern.fullmatch(a) for a in addresses)
    assert scalar(database, "SELECT count(*) FROM buildings WHERE address = '长湖街2号 巴蜀花园1号楼'") == 1
    names = {n for (n,) in rows(database, "SELECT name FROM compounds")}
    assert {"巴蜀花园", "长湖花园", "学府花园"} <= names
    outside_compound = scalar(
        database,
        "SELECT count(*) FROM buildings b JOIN compounds c ON c.id = b.compound_id WHERE NOT ST_Within(b.geom, c.geom)",
    )
    assert outside_compound == 0
    high = rows(database, "SELECT max(households), max(floors), min(floors) FROM buildings WHERE households > 0")[0]
    assert high[0] >= 80 and high[1] >= 12 and high[2] >= 2


def test_facilities_and_five_minute_gaps(demo_city, database):
    kinds = dict(rows(database, "SELECT kind, min(circle_minutes) FROM facilities GROUP BY kind"))
    assert set(kinds) == set(FACILITY_KINDS) - {"other"}
    assert kinds["service_station"] == 5 and kinds["school"] == 10 and kinds["service_center"] == 15
    assert scalar(database, "SELECT count(*) FROM facilities WHERE candidate") >= 3
    uncovered = scalar(
        database,
        """
        SELECT count(*) FROM grids g WHERE NOT EXISTS (SELECT 1 FROM facilities f WHERE f.kind = 'service_station'
        AND NOT f.candidate AND ST_DWithin(g.geom::geography, f.geom::geography, 300))""",
    )
    assert 1 <= uncovered < demo_city.grids / 2


def test_walking_network_is_cut_by_river_and_railway(demo_city, database):
    edges = np.array(
        rows(database, "SELECT source, target, length_m, ST_Length(geom::geography) FROM walk_edges"), dtype=float
    )
    assert np.allclose(edges[:, 2], edges[:, 3], rtol=0.01)
    nodes = np.array(rows(database, "SELECT id, ST_X(geom), ST_Y(geom) FROM walk_nodes ORDER BY id"), dtype=float)
    index = {int(i): k for k, i in enumerate(nodes[:, 0])}
    src, dst = [np.array([index[int(v)] for v in edges[:, c]]) for c in (0, 1)]
    graph = scipy.sparse.coo_matrix((edges[:, 2], (src, dst)), shape=(len(nodes),) * 2).tocsr()
    x, y = rows(database, "SELECT ST_X(geom), ST_Y(geom) FROM facilities WHERE name = '滨河网格服务站'")[0]
    metres = np.hypot((nodes[:, 1] - x) * 111_320 * np.cos(np.radians(y)), (nodes[:, 2] - y) * 110_570)
    start = int(np.argmin(metres))
    walk = dijkstra(graph, directed=False, indices=start) + metres[start]
    straight, walked = (metres <= 300).sum(), (walk <= 300).sum()
    assert walked < 0.8 * straight  # the river: straight-line circles overstate coverage
    assert np.isfinite(dijkstra(graph, directed=False, indices=0)).all()  # bridges keep the network connected


def test_scaled_city_of_20000_buildings(demo_city, database):
    with database.connect() as conn, conn.begin() as tx:
        truncate_all(conn)
        summary = load_demo(conn, buildings=20_000)
        grids = conn.scalar(text("SELECT count(*) FROM grids"))
        buildings = conn.scalar(text("SELECT count(*) FROM buildings"))
        residents = conn.scalar(text("SELECT count(*) FROM residents"))
        households = conn.execute(
            text(f"""
            SELECT min(h), max(h) FROM (SELECT sum(c.households) h FROM ({COVERING_GRID_SQL}) c
            WHERE c.kind = 'basic' GROUP BY c.grid_id) t""")
        ).one()
        area = conn.execute(
            text("""SELECT (SELECT sum(ST_Area(geom::geography)) FROM grids),
                                           (SELECT sum(ST_Area(geom::geography)) FROM admin_areas
                                            WHERE level = 'street')""")
        ).one()
        tx.rollback()
    assert buildings == summary.buildings == 20_000
    assert grids == summary.grids and 20_000 / 50 <= grids <= 20_000 / 42
    assert summary.communities > 10 and summary.streets > 1
    assert 300 <= households[0] and households[1] <= 500
    assert area[0] == pytest.approx(area[1], rel=1e-9)
    assert residents == 0 and 20_000 > PEOPLE_MAX_BUILDINGS


def test_cli_rejects_out_of_range_sizes(demo_city, database):
    result = CliRunner().invoke(app, ["demo", "--buildings", "5", "--no-serve"])
    assert result.exit_code != 0
    assert "--buildings must be between" in str(result.exception)
    assert scalar(database, "SELECT count(*) FROM grids") == demo_city.grids  # nothing was replaced


def test_geogrid_demo_command_replaces_the_data(empty_db, tmp_path):
    with empty_db.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO grids (code, name, kind, geom) VALUES ('999', 'stale', 'basic', "
                "ST_Multi(ST_MakeEnvelope(0, 0, 1, 1, 4326)))"
            )
        )
    result = CliRunner().invoke(app, ["demo", "--no-serve", "--out", str(tmp_path), "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert "replaced all data" in result.output and "110108600 demo city" in result.output
    assert scalar(empty_db, "SELECT count(*) FROM grids WHERE code = '999'") == 0
    assert scalar(empty_db, "SELECT count(*) FROM building_assignments WHERE grid_id IS NULL") == 3


def test_shipped_sample_boundaries_match_the_generator():
    import geopandas as gpd

    from geogrid.demo.export import boundaries_frame

    shipped = gpd.read_file(ROOT / "data" / "boundaries" / "demo-street.geojson", engine="pyogrio")
    fresh = boundaries_frame(seed=7)
    assert shipped["code"].tolist() == fresh["code"].tolist()
    assert (shipped.geometry.geom_type.isin(["Polygon", "MultiPolygon"])).all()
    assert shipped.geometry.geom_equals_exact(fresh.geometry, tolerance=1e-6).all()
