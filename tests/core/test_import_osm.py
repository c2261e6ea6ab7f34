"""Liechtenstein on real PostGIS: 8,996 OSM buildings, the 11 municipalities as grids, every assignment checked."""

from __future__ import annotations

import geopandas as gpd
import pyrosm
import shapely
from sqlalchemy import text

from geogrid.assign import assign_all
from geogrid.db.bulk import fetch_points
from geogrid.i18n import t
from geogrid.importers import import_grids, import_osm, read_source
from geogrid.importers.upsert import ImportReport
from tests.conftest import shared_data

MUNICIPALITIES = {
    "Vaduz",
    "Schaan",
    "Triesen",
    "Balzers",
    "Eschen",
    "Mauren",
    "Triesenberg",
    "Ruggell",
    "Gamprin",
    "Schellenberg",
    "Planken",
}


def municipalities_gpkg(pbf, tmp_path) -> gpd.GeoDataFrame:
    """The 11 municipalities (admin_level 8) written to a GeoPackage with a code per municipality."""
    bounds = pyrosm.OSM(str(pbf)).get_boundaries()
    towns = bounds[(bounds["admin_level"] == "8") & bounds["name"].isin(MUNICIPALITIES)].copy()
    towns = towns.sort_values("name").reset_index(drop=True)
    towns["code"] = [f"LI{i + 1:03d}" for i in range(len(towns))]
    towns["osm_id"] = "osm:relation/" + towns["id"].astype(str)
    towns[["code", "name", "osm_id", "geometry"]].to_file(tmp_path / "towns.gpkg", driver="GPKG", engine="pyogrio")
    return towns


def report(reports: list[ImportReport], what: str) -> ImportReport:
    """The report named ``t(what)``: the order of an import's reports is not part of its meaning."""
    (found,) = [r for r in reports if str(r.what) == str(t(what))]
    return found


def test_osm_buildings_and_municipality_grids(empty_db, tmp_path):
    pbf = shared_data("liechtenstein-osm/liechtenstein-2015.osm.pbf")
    towns = municipalities_gpkg(pbf, tmp_path)
    assert len(towns) == 11
    with empty_db.begin() as conn:
        reports = import_osm(conn, pbf, network=False)
        source = read_source(tmp_path / "towns.gpkg")
        import_grids(conn, source, code_field="code", id_field="osm_id")
        assign_all(conn)
    assert report(reports, "buildings").inserted == 8996
    with empty_db.connect() as conn:
        assert (
            conn.scalar(
                text("SELECT count(DISTINCT source_id) FROM buildings WHERE source_id ~ '^osm:(way|relation)/[0-9]+$'")
            )
            == 8996
        )
        kinds = dict(conn.execute(text("SELECT kind, count(*) FROM facilities WHERE candidate GROUP BY kind")).all())
        addressed = conn.scalar(text("SELECT count(*) FROM buildings WHERE address ~ '[0-9]'"))
        points = fetch_points(conn, "SELECT id, ST_X(geom), ST_Y(geom) FROM buildings")
        got = dict(
            conn.execute(
                text("SELECT a.building_id, g.code FROM building_assignments a LEFT JOIN grids g ON g.id = a.grid_id")
            ).all()
        )
        footprint_ok = conn.scalar(
            text("SELECT bool_and(ST_Intersects(footprint, geom)) FROM buildings WHERE footprint IS NOT NULL")
        )
    assert addressed > 500 and footprint_ok
    assert kinds["school"] == 19 and kinds["kindergarten"] >= 6  # restaurants, benches, parking are not facilities
    assert sum(kinds.values()) < 100 and report(reports, "facilities").extra["other_pois_skipped"] > 400
    expected = independent_assignment(points, towns)
    mismatches = [(bid, got.get(bid), code) for bid, code in expected.items() if got.get(bid) != code]
    assert not mismatches, mismatches[:10]
    assert sum(code is not None for code in expected.values()) > 8900


def independent_assignment(points, towns: gpd.GeoDataFrame) -> dict[int, str | None]:
    """Grid of each building by plain Shapely covers on the source polygons; ties go to the lowest code."""
    pts = shapely.points(points["x"].to_numpy(), points["y"].to_numpy())
    codes = towns["code"].to_numpy()
    out: dict[int, str | None] = {}
    for bid, point in zip(points["id"].to_numpy(), pts, strict=True):
        covering = sorted(c for c, g in zip(codes, towns.geometry, strict=True) if g.covers(point))
        out[int(bid)] = covering[0] if covering else None
    return out


def test_osm_reimport_updates_instead_of_duplicating(empty_db):
    pbf = shared_data("liechtenstein-osm/liechtenstein-2015.osm.pbf")
    with empty_db.begin() as conn:
        import_osm(conn, pbf, network=False)
    with empty_db.begin() as conn:
        again = import_osm(conn, pbf, network=False)
    buildings = report(again, "buildings")
    assert (buildings.inserted, buildings.updated) == (0, 8996)
    with empty_db.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM buildings")) == 8996
