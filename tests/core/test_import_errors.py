"""Rejected files: the first bad row names file, row and field, and every table is left exactly as it was."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import Polygon, box
from sqlalchemy import text

from geogrid.errors import InputError
from geogrid.importers import import_buildings, import_facilities, import_grids, import_residents, read_source
from geogrid.model import Base

BOWTIE = Polygon([(116.30, 39.90), (116.31, 39.91), (116.31, 39.90), (116.30, 39.91), (116.30, 39.90)])


def snapshot(engine) -> dict[str, tuple[int, str]]:
    """Row count and content hash of every table."""
    with engine.connect() as conn:
        return {
            t.name: tuple(
                conn.execute(
                    text(
                        f"SELECT count(*), md5(COALESCE(string_agg(x::text, ',' ORDER BY x::text), '')) FROM {t.name} x"
                    )
                ).one()
            )
            for t in Base.metadata.sorted_tables
        }


@pytest.fixture
def loaded(empty_db, tmp_path):
    """A database holding grids, buildings and a facility, and the snapshot it must keep."""
    grids = gpd.GeoDataFrame(
        {"code": ["G1", "G2"]},
        geometry=[box(116.30, 39.90, 116.31, 39.91), box(116.31, 39.90, 116.32, 39.91)],
        crs=4326,
    )
    grids.to_file(tmp_path / "ok_grids.geojson", engine="pyogrio")
    pd.DataFrame(
        {"id": ["b1", "b2"], "lon": [116.305, 116.315], "lat": [39.905, 39.905], "households": [10, 20]}
    ).to_csv(tmp_path / "ok_buildings.csv", index=False)
    with empty_db.begin() as conn:
        import_grids(conn, read_source(tmp_path / "ok_grids.geojson"))
        import_buildings(conn, read_source(tmp_path / "ok_buildings.csv"))
    return empty_db, snapshot(empty_db)


def bad_grids(path: Path) -> Path:
    """Nine grids, the seventh a self-crossing bow-tie that no repair can be trusted with."""
    geoms = [box(116.30 + i * 0.01, 39.95, 116.31 + i * 0.01, 39.96) for i in range(9)]
    geoms[6] = BOWTIE
    gpd.GeoDataFrame({"code": [f"N{i}" for i in range(9)]}, geometry=geoms, crs=4326).to_file(path, engine="pyogrio")
    return path


def rejects(engine, before, fn, *, row: int, field: str, message: str) -> InputError:
    with pytest.raises(InputError) as info, engine.begin() as conn:
        fn(conn)
    assert (info.value.row, info.value.field) == (row, field)
    assert message in str(info.value) and f"row {row}" in str(info.value)
    assert snapshot(engine) == before
    return info.value


def test_bad_geometry_in_row_7(loaded, tmp_path):
    engine, before = loaded
    path = bad_grids(tmp_path / "grids.geojson")
    err = rejects(
        engine,
        before,
        lambda c: import_grids(c, read_source(path)),
        row=7,
        field="geometry",
        message="cannot be repaired safely",
    )
    assert err.file == str(path)


def test_safe_repair_is_accepted(empty_db, tmp_path):
    """A ring that touches itself keeps its area when repaired, so it is imported (as a valid MultiPolygon)."""
    touching = Polygon([(116.30, 39.90), (116.32, 39.90), (116.32, 39.92), (116.31, 39.90), (116.30, 39.92)])
    assert not touching.is_valid
    gpd.GeoDataFrame({"code": ["R1"]}, geometry=[touching], crs=4326).to_file(tmp_path / "r.geojson", engine="pyogrio")
    with empty_db.begin() as conn:
        import_grids(conn, read_source(tmp_path / "r.geojson"))
        valid, area = conn.execute(text("SELECT ST_IsValid(geom), ST_Area(geom) FROM grids")).one()
    assert valid and area == pytest.approx(abs(shapely.area(touching)), rel=1e-9)


def test_non_numeric_households(loaded, tmp_path):
    engine, before = loaded
    frame = pd.DataFrame(
        {"id": [f"x{i}" for i in range(6)], "lon": 116.305, "lat": 39.905, "户数": ["3", "4", "", "5", "12户", "7"]}
    )
    frame.to_csv(tmp_path / "b.csv", index=False)
    rejects(
        engine,
        before,
        lambda c: import_buildings(c, read_source(tmp_path / "b.csv")),
        row=6,
        field="户数",
        message="'12户' is not a whole number",
    )


def test_unknown_facility_kind(loaded, tmp_path):
    engine, before = loaded
    pd.DataFrame(
        {
            "name": ["甲站", "乙站", "丙站"],
            "类型": ["党群服务站", "elderly_care", "游乐场"],
            "lng": 116.305,
            "lat": 39.905,
        }
    ).to_csv(tmp_path / "f.csv", index=False)
    rejects(
        engine,
        before,
        lambda c: import_facilities(c, read_source(tmp_path / "f.csv")),
        row=4,
        field="类型",
        message="unknown facility kind '游乐场'",
    )


def test_missing_column_and_missing_building(loaded, tmp_path):
    engine, before = loaded
    pd.DataFrame({"姓名": ["张三"], "户号": ["101"]}).to_csv(tmp_path / "r.csv", index=False)
    with pytest.raises(InputError, match="no building column found.*--building-field"):
        read = read_source(tmp_path / "r.csv", geometry=False)
        with engine.begin() as conn:
            import_residents(conn, read)
    pd.DataFrame({"building_id": ["b1", "b9"], "姓名": ["张三", "李四"]}).to_csv(tmp_path / "r2.csv", index=False)
    rejects(
        engine,
        before,
        lambda c: import_residents(c, read_source(tmp_path / "r2.csv", geometry=False)),
        row=3,
        field="building_id",
        message="no building 'b9'",
    )
    with pytest.raises(InputError, match="column 'nope' not found"):
        read_source(tmp_path / "r2.csv", geometry=False).column("nope", "code")
    assert snapshot(engine) == before


def test_an_id_or_code_repeated_within_a_file(loaded, tmp_path):
    """A repeated source id or grid code is refused at its second row, not silently merged (last one winning)."""
    engine, before = loaded
    pd.DataFrame({"编号": ["b7", "b8", "b7"], "lon": 116.305, "lat": 39.905}).to_csv(tmp_path / "b.csv", index=False)
    rejects(
        engine,
        before,
        lambda c: import_buildings(c, read_source(tmp_path / "b.csv")),
        row=4,
        field="编号",
        message="source id 'b7' appears twice in the file",
    )
    geoms = [box(116.30, 39.95, 116.31, 39.96), box(116.31, 39.95, 116.32, 39.96), box(116.32, 39.95, 116.33, 39.96)]
    gpd.GeoDataFrame({"code": ["N1", "N2", "N2"]}, geometry=geoms, crs=4326).to_file(
        tmp_path / "g.geojson", engine="pyogrio"
    )
    rejects(
        engine,
        before,
        lambda c: import_grids(c, read_source(tmp_path / "g.geojson")),
        row=3,
        field="code",
        message="code 'N2' appears twice",
    )


def test_one_transaction_rolls_back_earlier_steps(loaded, tmp_path):
    """Buildings imported, then residents fail in the same transaction: nothing of either is kept."""
    engine, before = loaded
    pd.DataFrame({"id": ["b3"], "lon": [116.301], "lat": [39.901]}).to_csv(tmp_path / "b.csv", index=False)
    pd.DataFrame({"building_id": ["b3", "b3"], "party_member": ["是", "maybe"]}).to_csv(tmp_path / "r.csv", index=False)
    with pytest.raises(InputError, match="'maybe' is not yes or no"), engine.begin() as conn:
        import_buildings(conn, read_source(tmp_path / "b.csv"))
        import_residents(conn, read_source(tmp_path / "r.csv", geometry=False))
    assert snapshot(engine) == before


def test_cli_prints_the_reason_without_traceback(loaded, tmp_path):
    engine, before = loaded
    path = bad_grids(tmp_path / "grids.geojson")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "geogrid"), "import", "grids", str(path)],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=120,
    )
    assert result.returncode == 1
    assert f"file {path}, row 7, field 'geometry'" in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr + result.stdout
    assert snapshot(engine) == before
