"""Export current grids, buildings or areas to GeoJSON or GeoPackage (by extension) for QGIS users.

Buildings carry ``source_id`` and ``grid_code`` from the last assignment (``geogrid assign``); grids carry
their community code and the households and buildings assigned to them.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
from sqlalchemy import Connection

from geogrid.db.bulk import fetch_geoms
from geogrid.errors import GeogridError
from geogrid.figures import grid_figures_sql
from geogrid.i18n import t

DRIVERS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG"}
QUERIES = {
    "grids": (
        "SELECT f.code, f.name, f.kind, f.community_code, f.version, f.source_id, f.households, "
        "f.households_estimated, f.estimated_households, f.estimated_buildings, f.buildings, "
        f"ST_AsBinary(g.geom) FROM ({grid_figures_sql('g.valid_to IS NULL')}) f JOIN grids g ON g.id = f.grid_id "
        "ORDER BY f.code"
    ),
    "buildings": (
        "SELECT b.source_id, b.name, b.address, b.floors, b.households, g.code AS grid_code, ST_AsBinary(b.geom) "
        "FROM buildings b LEFT JOIN building_assignments a ON a.building_id = b.id "
        "LEFT JOIN grids g ON g.id = a.grid_id ORDER BY b.id"
    ),
    "areas": (
        "SELECT a.code, a.name, a.level, p.code AS parent_code, a.source_id, ST_AsBinary(a.geom) "
        "FROM admin_areas a LEFT JOIN admin_areas p ON p.id = a.parent_id ORDER BY a.code"
    ),
}
LAYERS = tuple(QUERIES)
GEOMETRY_TYPES = {"grids": "MultiPolygon", "buildings": "Point", "areas": "MultiPolygon"}  # typed even when empty


def layer_frame(conn: Connection, layer: str) -> gpd.GeoDataFrame:
    """The rows of one layer as a GeoDataFrame in EPSG:4326."""
    if layer not in QUERIES:
        raise GeogridError(t("unknown layer '{layer}': use {layers}", layer=layer, layers=LAYERS))
    frame = fetch_geoms(conn, QUERIES[layer])
    return gpd.GeoDataFrame(frame, geometry="geom", crs=4326)


def export_layer(conn: Connection, layer: str, path: str | Path) -> int:
    """Write one layer to ``path`` (GeoJSON or GeoPackage by extension); returns the number of features."""
    path = Path(path)
    driver = DRIVERS.get(path.suffix.lower())
    if driver is None:
        raise GeogridError(t("cannot export to '{suffix}': use .geojson or .gpkg", suffix=path.suffix))

    frame = layer_frame(conn, layer)
    if path.exists() and driver == "GeoJSON":
        path.unlink()  # GeoJSON cannot hold two layers: replace the file
    options = {"layer": layer} if driver == "GPKG" else {"COORDINATE_PRECISION": 15, "WRITE_NAME": "NO"}
    frame.to_file(path, driver=driver, engine="pyogrio", geometry_type=GEOMETRY_TYPES[layer], **options)
    return len(frame)
