"""Lookup on real data: the 343 Beijing sub-districts (311 MultiPolygons) as areas and grids, checked against
Shapely; the NBS 2023 official names as address queries for polygons whose names differ in form (王平镇/王平地区)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import text

from geogrid import crs
from geogrid.errors import NotFound
from geogrid.gazetteer import build_gazetteer
from geogrid.lookup import grids_at, lookup_address, lookup_point
from tests.conftest import shared_data, truncate_all

# Renamed units, not variant forms: the polygon file has the old town name, NBS the new 地区 name.
RENAMED = {"渔阳地区": "平谷镇", "万柳地区": "海淀镇"}


@pytest.fixture(scope="module")
def beijing(database):
    import geopandas as gpd

    folder = shared_data("beijing-subdistricts/README.md").parent
    frame = pd.concat([gpd.read_file(p) for p in sorted(folder.glob("*-all.geojson"))], ignore_index=True)
    frame["code12"] = frame["code"].astype("int64").astype(str)
    frame["district"] = frame["parentCode"].astype("int64").astype(str).str[:6]
    counties = pd.read_csv(shared_data("cn-admin-codes-nbs2023/areas.csv"), dtype=str).set_index("code")["name"]
    truncate_all(database)
    with database.begin() as conn:
        insert = text(
            "INSERT INTO admin_areas (code, name, level, parent_id, geom) VALUES "
            "(:c, :n, :l, :p, ST_Multi(ST_GeomFromText(:w, 4326))) RETURNING id"
        )
        districts = {}
        for code, part in frame.groupby("district"):
            districts[code] = conn.scalar(
                insert,
                {
                    "c": code,
                    "n": counties[code],
                    "l": "district",
                    "p": None,
                    "w": shapely.union_all(part.geometry.to_numpy()).wkt,
                },
            )
        for row in frame.itertuples():
            street = conn.scalar(
                insert,
                {
                    "c": row.code12[:9],
                    "n": row.Name,
                    "l": "street",
                    "p": districts[row.district],
                    "w": row.geometry.wkt,
                },
            )
            community = conn.scalar(
                insert, {"c": row.code12, "n": f"{row.Name}社区", "l": "community", "p": street, "w": row.geometry.wkt}
            )
            conn.execute(
                text(
                    "INSERT INTO grids (code, name, kind, community_id, geom) "
                    "VALUES (:c, :n, 'basic', :cid, ST_Multi(ST_GeomFromText(:w, 4326)))"
                ),
                {"c": row.code12 + "001", "n": f"{row.Name}第一网格", "cid": community, "w": row.geometry.wkt},
            )
        build_gazetteer(conn)
    frame["grid_code"] = frame["code12"] + "001"
    return database, frame.sort_values("grid_code").reset_index(drop=True)


def shapely_codes(frame: pd.DataFrame, lon: np.ndarray, lat: np.ndarray) -> list[str | None]:
    """Independent answer: STRtree over the file's polygons, lowest code among those covering each point."""
    tree = shapely.STRtree(frame.geometry.to_numpy())
    pts, polys = tree.query(shapely.points(lon, lat), predicate="intersects")
    out: list[str | None] = [None] * len(lon)
    for p, g in sorted(zip(pts.tolist(), polys.tolist(), strict=True), key=lambda t: (t[0], -t[1])):
        out[p] = frame["grid_code"].iloc[g]
    return out


def sample_points(frame: pd.DataFrame, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random points over Beijing plus polygon vertices, which lie on shared boundaries."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = frame.total_bounds
    coords = shapely.get_coordinates(frame.geometry.to_numpy())
    vertices = coords[rng.choice(len(coords), n // 4, replace=False)]
    lon = np.concatenate([rng.uniform(x0, x1, n), vertices[:, 0]])
    lat = np.concatenate([rng.uniform(y0, y1, n), vertices[:, 1]])
    return lon, lat


def test_batch_matches_shapely_on_real_polygons(beijing):
    engine, frame = beijing
    lon, lat = sample_points(frame, 4000, seed=11)
    with engine.connect() as conn:
        got = [g["code"] if g else None for g in grids_at(conn, lon, lat)]
    want = shapely_codes(frame, lon, lat)
    assert got == want
    assert sum(w is None for w in want) > 100  # the bbox corners lie outside Beijing


def test_single_lookups_match_shapely_with_full_hierarchy(beijing):
    engine, frame = beijing
    lon, lat = sample_points(frame, 120, seed=5)
    want = shapely_codes(frame, lon, lat)
    with engine.connect() as conn:
        for x, y, code in zip(lon, lat, want, strict=True):
            if code is None:
                with pytest.raises(NotFound):
                    lookup_point(conn, x, y)
                continue
            got = lookup_point(conn, x, y)
            assert got["grid"]["code"] == code
            assert got["street"]["code"] == code[:9] and got["district"]["code"] == code[:6]


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_offset_input_lands_in_the_same_real_grid(beijing, system):
    engine, frame = beijing
    lon, lat = sample_points(frame, 1000, seed=23)
    lon, lat = lon[:1000], lat[:1000]  # a vertex round-tripped through an offset system moves by a micrometre
    with engine.connect() as conn:
        assert grids_at(conn, *crs.FROM_WGS84[system](lon, lat), crs=system) == grids_at(conn, lon, lat)


def test_official_names_find_polygons_named_differently(beijing):
    engine, frame = beijing
    nbs = pd.read_csv(shared_data("cn-admin-codes-nbs2023/streets.csv"), dtype=str)
    joined = frame.assign(code9=frame["code12"].str[:9]).merge(nbs, left_on="code9", right_on="code")
    differ = joined[joined["Name"] != joined["name"]]
    assert len(differ) == 56
    counties = pd.read_csv(shared_data("cn-admin-codes-nbs2023/areas.csv"), dtype=str).set_index("code")["name"]
    found, missed = 0, []
    with engine.connect() as conn:
        for row in differ.itertuples():
            for query in (row.name, f"北京市{counties[row.areaCode]}{row.name}", f"{row.name} "):
                try:
                    got = lookup_address(conn, query)
                except NotFound:
                    got = None
                if got and got["match"]["score"] == 1.0 and got["grid"]["code"] == row.grid_code:
                    found += 1
                else:
                    missed.append(row.name)
    assert set(missed) == set(RENAMED), missed
    assert found == 3 * (56 - len(RENAMED))
