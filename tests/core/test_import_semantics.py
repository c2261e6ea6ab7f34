"""What each importer means: grid communities and codes, residents in households, facility circles, re-imports."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import MultiPolygon, box
from sqlalchemy import text

from geogrid.errors import InputError
from geogrid.importers import (
    import_areas,
    import_buildings,
    import_facilities,
    import_grids,
    import_residents,
    read_source,
)

C1, C2 = "110108014001", "110108014002"


def write(tmp_path, name: str, frame) -> str:
    path = tmp_path / name
    if isinstance(frame, gpd.GeoDataFrame):
        frame.to_file(path, engine="pyogrio")
    else:
        frame.to_csv(path, index=False)
    return str(path)


@pytest.fixture
def communities(empty_db, tmp_path):
    """Two communities side by side: C1 west of x = 116.31, C2 east of it."""
    areas = gpd.GeoDataFrame(
        {"code": [C1, C2], "name": ["清华园社区", "东王庄社区"]},
        geometry=[box(116.29, 39.90, 116.31, 39.92), box(116.31, 39.90, 116.33, 39.92)],
        crs=4326,
    )
    with empty_db.begin() as conn:
        import_areas(conn, read_source(write(tmp_path, "areas.geojson", areas)))
    return empty_db


def grid_rows(conn) -> dict[str, tuple]:
    return {
        code: (comm, name, version)
        for code, comm, name, version in conn.execute(
            text(
                "SELECT g.code, c.code, g.name, g.version FROM grids g LEFT JOIN admin_areas c ON c.id = g.community_id"
            )
        )
    }


def test_grids_take_the_community_holding_most_area_and_get_codes_in_reading_order(communities, tmp_path):
    grids = gpd.GeoDataFrame(
        {"name": ["西北", "东北", "西南", "跨界"]},
        geometry=[
            box(116.29, 39.91, 116.30, 39.92),
            box(116.30, 39.91, 116.3095, 39.92),
            box(116.29, 39.90, 116.30, 39.91),
            MultiPolygon([box(116.30, 39.90, 116.3120, 39.91)]),  # 80 % in C1, 20 % in C2
        ],
        crs=4326,
    )
    with communities.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO grids (code, name, kind, geom, valid_to) VALUES "
                f"('{C1}002', 'retired', 'basic', ST_Multi(ST_MakeEnvelope(0, 0, 1, 1, 4326)), now())"
            )
        )
        import_grids(conn, read_source(write(tmp_path, "grids.geojson", grids)))
        rows = grid_rows(conn)
    # North row first, west to east; the retired 002 is never reused.
    assert rows[f"{C1}003"][:2] == (C1, "西北")
    assert rows[f"{C1}004"][:2] == (C1, "东北")
    assert rows[f"{C1}005"][:2] == (C1, "西南")
    assert rows[f"{C1}006"][:2] == (C1, "跨界")


def test_grid_community_by_field_reimport_versions_and_retired_codes(communities, tmp_path):
    first = gpd.GeoDataFrame(
        {"网格编码": ["G1"], "社区": ["东王庄社区"], "类型": ["专属网格"]},
        geometry=[box(116.29, 39.90, 116.30, 39.91)],
        crs=4326,
    )
    path = write(tmp_path, "g.gpkg", first)
    with communities.begin() as conn:
        import_grids(conn, read_source(path))
        again = import_grids(conn, read_source(path))
        assert (again.inserted, again.updated, again.extra["new_boundaries"]) == (0, 1, 0)
        moved = first.assign(geometry=[box(116.29, 39.90, 116.305, 39.91)])
        import_grids(conn, read_source(write(tmp_path, "g2.gpkg", moved)))
        assert grid_rows(conn)["G1"] == (C2, "G1", 2)
        assert conn.scalar(text("SELECT kind FROM grids")) == "dedicated"
        versions = conn.execute(text("SELECT version, valid_to IS NULL FROM grid_versions ORDER BY version")).all()
        assert versions == [(1, False), (2, True)]
        conn.execute(text("UPDATE grids SET valid_to = now()"))
        with pytest.raises(InputError, match="retired grid"):
            import_grids(conn, read_source(path))


def test_residents_households_personal_data_and_reimport(communities, tmp_path):
    buildings = pd.DataFrame(
        {
            "编号": ["B1", "B2"],
            "地址": ["双清路1号", "双清路3号"],
            "经度": [116.30, 116.32],
            "纬度": [39.91, 39.91],
            "户数": [2, 1],
        }
    )
    residents = pd.DataFrame(
        {
            "id": ["r1", "r2", "r3", "r4"],
            "地址": ["双清路1号", "双清路1号", "双清路1号", "双清路3号"],
            "户号": ["101", "101", "102", "101"],
            "姓名": ["王芳", "李强", "赵敏", "陈刚"],
            "身份证号": ["110108195001011234", None, None, None],
            "是否党员": ["是", "否", "", "党员"],
            "特殊群体": ["独居老人、残疾人", "", "", "困难家庭"],
            "户籍类型": ["户籍", "流动", "", "境外"],
        }
    )
    with communities.begin() as conn:
        import_buildings(conn, read_source(write(tmp_path, "b.csv", buildings)))
        path = write(tmp_path, "r.csv", residents)
        import_residents(conn, read_source(path, geometry=False))
        import_residents(conn, read_source(path, geometry=False))  # re-import replaces, never duplicates
        got = conn.execute(
            text(
                "SELECT r.source_id, b.source_id, h.source_id, r.party_member, r.special_groups, r.registration_type, "
                "p.name FROM residents r JOIN households h ON h.id = r.household_id "
                "JOIN buildings b ON b.id = r.building_id "
                "LEFT JOIN resident_personal p ON p.resident_id = r.id ORDER BY r.source_id"
            )
        ).all()
        households = conn.scalar(text("SELECT count(*) FROM households"))
        resident_cols = {
            c
            for (c,) in conn.execute(
                text("SELECT column_name FROM information_schema.columns WHERE table_name = 'residents'")
            )
        }
    assert got == [
        ("r1", "B1", "101", True, ["elderly_alone", "disabled"], "registered", "王芳"),
        ("r2", "B1", "101", False, [], "floating", "李强"),
        ("r3", "B1", "102", False, [], "registered", "赵敏"),
        ("r4", "B2", "101", True, ["hardship"], "foreign", "陈刚"),
    ]
    assert households == 3  # 101 and 102 in B1, 101 in B2
    assert not resident_cols & {"name", "id_number", "phone"}


def test_facilities_kinds_circles_and_candidates(empty_db, tmp_path):
    facilities = pd.DataFrame(
        {
            "名称": ["清华园党群服务站", "双清路小学", "社区服务中心", "菜市场"],
            "设施类型": ["党群服务站", "school", "社区服务中心", "菜市场"],
            "服务圈": ["", "", "", "5"],
            "wkt": [
                "POINT (116.30 39.91)",
                "POINT (116.31 39.91)",
                "POLYGON ((116.32 39.91, 116.33 39.91, 116.33 39.92, 116.32 39.91))",
                "POINT (116.33 39.90)",
            ],
        }
    )
    with empty_db.begin() as conn:
        import_facilities(conn, read_source(write(tmp_path, "f.csv", facilities)), candidate=True)
        got = conn.execute(
            text(
                "SELECT name, kind, circle_minutes, candidate, ST_GeometryType(geom) FROM facilities ORDER BY source_id"
            )
        ).all()
    assert got == [
        ("清华园党群服务站", "service_station", 5, True, "ST_Point"),
        ("双清路小学", "school", 10, True, "ST_Point"),
        ("社区服务中心", "service_center", 15, True, "ST_Point"),
        ("菜市场", "market", 5, True, "ST_Point"),
    ]
