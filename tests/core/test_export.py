"""Beijing sub-district MultiPolygons imported as street-level areas and exported without loss; grid/building export."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box
from sqlalchemy import text

from geogrid.assign import assign_all
from geogrid.errors import GeogridError
from geogrid.export import export_layer
from geogrid.importers import import_areas, import_buildings, import_grids, read_source
from tests.conftest import shared_data


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg"])
def test_beijing_subdistricts_round_trip(empty_db, tmp_path, suffix):
    path = shared_data("beijing-subdistricts/haidian-all.geojson")
    original = gpd.read_file(path).sort_values("code").reset_index(drop=True)
    with empty_db.begin() as conn:
        report = import_areas(conn, read_source(path), level="street", code_field="code", name_field="Name")
    assert report.inserted == len(original) == 29
    out = tmp_path / f"areas{suffix}"
    with empty_db.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM admin_areas WHERE level = 'street'")) == 29
        export_layer(conn, "areas", out)
    back = gpd.read_file(out).sort_values("code").reset_index(drop=True)
    assert list(back["code"]) == [str(c) for c in original["code"]]
    assert list(back["name"]) == list(original["Name"])
    assert set(back["level"]) == {"street"}
    for before, after in zip(original.geometry, back.geometry, strict=True):
        assert after.geom_type == "MultiPolygon"
        assert shapely.get_num_geometries(after) == shapely.get_num_geometries(before)
        assert (
            shapely.get_num_interior_rings(shapely.get_parts(after)).sum()
            == shapely.get_num_interior_rings(shapely.get_parts(before)).sum()
        )
        assert shapely.equals_exact(
            shapely.normalize(after), shapely.normalize(shapely.MultiPolygon(shapely.get_parts(before))), tolerance=1e-9
        )


def test_areas_link_parents_by_code_prefix(empty_db, tmp_path):
    frame = gpd.GeoDataFrame(
        {
            "code": ["110108014001", "110108", "110108014000"],  # community first: parents may come later in a file
            "name": ["清华园社区", "海淀区", "清华园街道"],
        },
        geometry=[box(116.30, 39.99, 116.31, 40.00), box(116.0, 39.8, 116.5, 40.2), box(116.29, 39.98, 116.33, 40.01)],
        crs=4326,
    )
    frame.to_file(tmp_path / "areas.geojson", driver="GeoJSON", engine="pyogrio")
    with empty_db.begin() as conn:
        import_areas(conn, read_source(tmp_path / "areas.geojson"))
    with empty_db.connect() as conn:
        rows = dict(
            conn.execute(
                text(
                    "SELECT a.code, a.level || ':' || COALESCE(p.code, '-') FROM admin_areas a "
                    "LEFT JOIN admin_areas p ON p.id = a.parent_id"
                )
            ).all()
        )
    assert rows == {"110108": "district:-", "110108014000": "street:110108", "110108014001": "community:110108014000"}


def test_export_grids_and_buildings_with_assignment(empty_db, tmp_path):
    hole = box(116.315, 39.902, 116.318, 39.905)
    fields = {"code": ["G1", "G2"], "name": ["东区", "西区"], "kind": ["基础网格", "专属网格"]}
    grids = gpd.GeoDataFrame(
        fields,
        geometry=[
            Polygon(box(116.31, 39.90, 116.32, 39.91).exterior.coords, [hole.exterior.coords]),
            MultiPolygon([box(116.30, 39.90, 116.31, 39.91), box(116.33, 39.90, 116.34, 39.91)]),
        ],
        crs=4326,
    )
    grids.to_file(tmp_path / "grids.gpkg", driver="GPKG", engine="pyogrio")
    buildings = gpd.GeoDataFrame(
        {"id": ["b1", "b2", "b3", "b4"], "households": [10, 20, 30, 40]},
        geometry=shapely.points([(116.312, 39.905), (116.335, 39.905), (116.316, 39.903), (116.305, 39.905)]),
        crs=4326,
    )
    buildings.to_file(tmp_path / "buildings.geojson", driver="GeoJSON", engine="pyogrio")
    with empty_db.begin() as conn:
        import_grids(conn, read_source(tmp_path / "grids.gpkg"))
        import_buildings(conn, read_source(tmp_path / "buildings.geojson"))
        assign_all(conn)
    with empty_db.connect() as conn:
        export_layer(conn, "grids", tmp_path / "out.gpkg")
        export_layer(conn, "buildings", tmp_path / "out_b.geojson")
    got = gpd.read_file(tmp_path / "out.gpkg").set_index("code")
    assert got.loc["G1", ["kind", "households", "buildings"]].tolist() == ["basic", 10, 1]
    assert got.loc["G2", ["kind", "households", "buildings"]].tolist() == ["dedicated", 60, 2]
    assert shapely.get_num_interior_rings(got.loc["G1"].geometry.geoms[0]) == 1
    b = gpd.read_file(tmp_path / "out_b.geojson").set_index("source_id")
    assert b["grid_code"].fillna("-").to_dict() == {"b1": "G1", "b2": "G2", "b3": "-", "b4": "G2"}


def test_export_refuses_unknown_format_and_layer(empty_db, tmp_path):
    import pyogrio

    with empty_db.connect() as conn:
        assert export_layer(conn, "grids", tmp_path / "empty.gpkg") == 0  # no grids yet: a typed, empty layer
        assert pyogrio.list_layers(tmp_path / "empty.gpkg").tolist() == [["grids", "MultiPolygon"]]
        with pytest.raises(GeogridError, match=r"\.gpkg"):
            export_layer(conn, "grids", tmp_path / "x.kml")
        with pytest.raises(GeogridError, match="unknown layer"):
            export_layer(conn, "people", tmp_path / "x.gpkg")


def test_cli_import_assign_export(empty_db, tmp_path):
    """The commands a QGIS user runs: import grids and buildings, assign, export buildings with grid_code."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    geogrid = str(Path(sys.executable).parent / "geogrid")
    cells = [box(116.30, 39.90, 116.31, 39.91), box(116.31, 39.90, 116.32, 39.91)]
    gpd.GeoDataFrame({"编码": ["G1", "G2"]}, geometry=cells, crs=4326).to_file(tmp_path / "g.geojson", engine="pyogrio")
    (tmp_path / "b.csv").write_text(
        "楼栋编号,地址,WKT\nB1,双清路1号,POINT (116.305 39.905)\nB2,双清路3号,POINT (116.310 39.905)\n",
        encoding="utf-8",
    )
    run = lambda *args: subprocess.run(  # noqa: E731
        [geogrid, *args],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=120,
    )
    for args in (
        ("import", "grids", str(tmp_path / "g.geojson")),
        ("import", "buildings", str(tmp_path / "b.csv"), "--id-field", "楼栋编号"),
        ("assign",),
        ("export", "buildings", "-o", str(tmp_path / "out.gpkg")),
    ):
        result = run(*args)
        assert result.returncode == 0, result.stderr
    out = gpd.read_file(tmp_path / "out.gpkg").set_index("source_id")
    assert out["grid_code"].to_dict() == {"B1": "G1", "B2": "G1"}  # B2 on the shared edge: lowest code
    assert out.loc["B1", "address"] == "双清路1号"
