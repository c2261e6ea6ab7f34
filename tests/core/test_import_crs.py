"""CRS handling: GCJ-02 / BD-09 CSVs and a CGCS2000 Gauss–Krüger shapefile land where the WGS84 source does."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import prcoords
import pytest
import shapely
from shapely.geometry import box
from sqlalchemy import text

from geogrid.errors import InputError
from geogrid.importers import import_buildings, read_source

# Buildings in Haidian: points and one L-shaped footprint (its representative point must stay inside it).
POINTS = [(116.3101, 39.9902), (116.3255, 39.9871), (116.2984, 40.0033), (116.3420, 39.9755)]
L_SHAPE = shapely.union_all([box(116.3300, 39.9800, 116.3310, 39.9830), box(116.3300, 39.9800, 116.3340, 39.9810)])


def wgs84_frame() -> gpd.GeoDataFrame:
    """Square footprints around the points, and the L shape (a shapefile holds one geometry type)."""
    geoms = [box(x - 2e-4, y - 1e-4, x + 2e-4, y + 1e-4) for x, y in POINTS] + [L_SHAPE]
    return gpd.GeoDataFrame(
        {"id": [f"b{i}" for i in range(len(geoms))], "households": [12, 30, 8, 44, 60]}, geometry=geoms, crs=4326
    )


def offsets_m(conn, prefix: str) -> pd.Series:
    """Distance in metres between each building imported with ``prefix`` and its WGS84 twin."""
    rows = conn.execute(
        text(
            "SELECT w.source_id, ST_Distance(w.geom::geography, o.geom::geography) FROM buildings w "
            "JOIN buildings o ON o.source_id = :p || w.source_id WHERE w.source_id LIKE 'b%'"
        ),
        {"p": prefix},
    ).all()
    return pd.Series(dict(rows), dtype=float)


def test_gcj02_bd09_csv_and_gauss_kruger_shapefile_land_on_wgs84(empty_db, tmp_path):
    wgs = wgs84_frame()
    wgs.to_file(tmp_path / "wgs.geojson", driver="GeoJSON", engine="pyogrio")
    points = shapely.point_on_surface(wgs.geometry.array)  # where the WGS84 import puts each building
    lat_lon = [(p.y, p.x) for p in points]
    gcj = [prcoords.wgs_gcj(p) for p in lat_lon]
    bd = [prcoords.wgs_bd(p) for p in lat_lon]
    pd.DataFrame(
        {"编号": [f"gcj-b{i}" for i in range(5)], "经度": [c.lon for c in gcj], "纬度": [c.lat for c in gcj], "户数": 5}
    ).to_csv(tmp_path / "gcj.csv", index=False)
    pd.DataFrame({"id": [f"bd-b{i}" for i in range(5)], "lng": [c.lon for c in bd], "lat": [c.lat for c in bd]}).to_csv(
        tmp_path / "bd.csv", index=False
    )
    gk = wgs.to_crs(4548).assign(id=lambda f: "gk-" + f["id"])  # CGCS2000 3-degree GK, CM 117E
    gk.to_file(tmp_path / "gk.shp", engine="pyogrio")
    with empty_db.begin() as conn:
        import_buildings(conn, read_source(tmp_path / "wgs.geojson"))
        import_buildings(conn, read_source(tmp_path / "gcj.csv", crs="gcj02"))
        import_buildings(conn, read_source(tmp_path / "bd.csv", crs="bd09"))
        import_buildings(conn, read_source(tmp_path / "gk.shp"))  # CRS detected from the .prj
        gcj_off, bd_off, gk_off = (offsets_m(conn, p) for p in ("gcj-", "bd-", "gk-"))
        outline_m = conn.scalar(
            text(
                "SELECT max(ST_HausdorffDistance(ST_Transform(w.footprint, 4548), ST_Transform(o.footprint, 4548))) "
                "FROM buildings w JOIN buildings o ON o.source_id = 'gk-' || w.source_id"
            )
        )
        footprint_ok = conn.scalar(text("SELECT ST_Contains(footprint, geom) FROM buildings WHERE source_id = 'gk-b4'"))
        households = conn.scalar(text("SELECT households FROM buildings WHERE source_id = 'gcj-b0'"))
    assert len(gcj_off) == 5 and gcj_off.max() < 0.01
    assert len(bd_off) == 5 and bd_off.max() < 0.01
    assert len(gk_off) == 5 and gk_off.max() < 0.01
    assert footprint_ok and households == 5 and outline_m < 0.01


def test_gauss_kruger_csv_with_explicit_crs_and_wrong_crs(empty_db, tmp_path):
    gk = gpd.GeoSeries(shapely.points(POINTS), crs=4326).to_crs(4548)
    pd.DataFrame({"id": ["p0", "p1", "p2", "p3"], "x": gk.x, "y": gk.y}).to_csv(tmp_path / "gk.csv", index=False)
    with empty_db.begin() as conn:
        import_buildings(conn, read_source(tmp_path / "gk.csv", crs="EPSG:4548"))
        x, y = conn.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM buildings WHERE source_id = 'p0'")).one()
    assert (x, y) == pytest.approx(POINTS[0], abs=1e-7)
    with pytest.raises(InputError, match="row 2.*out of range for EPSG:4326"):
        read_source(tmp_path / "gk.csv")  # metres read as degrees
    with pytest.raises(InputError, match=r"row 2.*out of range for EPSG:4513"):
        read_source(tmp_path / "gk.csv", crs="EPSG:4513")  # zone 25 (75°E) with prefix: far from these numbers
