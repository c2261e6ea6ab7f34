"""Reading what a partition needs from PostGIS: the community, its buildings, compounds, barrier lines and
dedicated sites, all transformed to metres (:func:`geogrid.crs.metric_epsg` at the community's centre)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import overload

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from sqlalchemy import Connection, text

from geogrid.crs import metric_epsg
from geogrid.errors import InputError, NotFound
from geogrid.i18n import t
from geogrid.partition.units import AreaInput
from geogrid.settings import get_settings


@dataclass
class Community:
    """A community (or a street office drawn as one) with its polygon in lon/lat and the metric transforms."""

    id: int | None  # None: drawn by this partition, not stored yet
    code: str
    name: str
    geom: shapely.Geometry  # EPSG:4326
    epsg: int

    @property
    def saved_id(self) -> int:
        """The id of a community in the database (a drawn one has none: it is read from its input, not SQL)."""
        if self.id is None:
            raise RuntimeError(f"community {self.code!r} is not written yet")
        return self.id

    @overload
    def to_metric(self, geoms: np.ndarray) -> np.ndarray: ...
    @overload
    def to_metric(self, geoms: shapely.Geometry) -> shapely.Geometry: ...
    def to_metric(self, geoms: np.ndarray | shapely.Geometry) -> np.ndarray | shapely.Geometry:
        """Geometries (or an array of them) from lon/lat to this community's metres, same shape back."""
        return _transform(Transformer.from_crs(4326, self.epsg, always_xy=True), geoms)

    @overload
    def to_lonlat(self, geoms: np.ndarray) -> np.ndarray: ...
    @overload
    def to_lonlat(self, geoms: shapely.Geometry) -> shapely.Geometry: ...
    def to_lonlat(self, geoms: np.ndarray | shapely.Geometry) -> np.ndarray | shapely.Geometry:
        """Geometries (or an array of them) from this community's metres back to lon/lat."""
        return _transform(Transformer.from_crs(self.epsg, 4326, always_xy=True), geoms)


def _transform(crs: Transformer, geoms: np.ndarray | shapely.Geometry) -> np.ndarray | shapely.Geometry:
    return shapely.transform(geoms, lambda c: np.column_stack(crs.transform(c[:, 0], c[:, 1])))


AREA_SQL = "SELECT id, code, name, level, ST_AsBinary(geom) AS wkb FROM admin_areas WHERE (code = :c OR name = :c)"

BUILDINGS_SQL = """
SELECT b.id, ST_X(b.geom) AS lon, ST_Y(b.geom) AS lat, b.households, b.households_estimated AS estimated,
       CASE WHEN b.compound_id IS NOT NULL THEN 'c' || b.compound_id END AS compound
FROM buildings b, admin_areas a WHERE a.id = :a AND ST_Intersects(a.geom, b.geom) ORDER BY b.id
"""

COMPOUNDS_SQL = """
SELECT 'c' || c.id AS key, c.name, ST_AsBinary(ST_Intersection(c.geom, a.geom)) AS geom
FROM compounds c, admin_areas a WHERE a.id = :a AND c.geom IS NOT NULL AND ST_Intersects(a.geom, c.geom)
ORDER BY c.id
"""

LINES_SQL = """
SELECT ST_AsBinary(l.geom) AS wkb FROM barrier_lines l, admin_areas a
WHERE a.id = :a AND ST_Intersects(a.geom, l.geom) ORDER BY l.id
"""

# Without imported barrier lines, the walking network's edges stand in for roads (demo cities have no others).
WALK_SQL = """
SELECT ST_AsBinary(e.geom) AS wkb FROM walk_edges e, admin_areas a
WHERE a.id = :a AND e.geom IS NOT NULL AND ST_Intersects(a.geom, e.geom) ORDER BY e.id
"""

DEDICATED_SQL = """
SELECT f.kind, f.name, ST_X(f.geom) AS lon, ST_Y(f.geom) AS lat FROM facilities f, admin_areas a
WHERE a.id = :a AND f.kind = ANY(:kinds) AND ST_Intersects(a.geom, f.geom) ORDER BY f.id
"""


def find_area(conn: Connection, code: str, level: str) -> Community:
    """The community or street with this code or name; NotFound, or InputError when it has no polygon."""
    row = conn.execute(text(AREA_SQL + " AND level = :l ORDER BY id LIMIT 1"), {"c": str(code), "l": level}).first()
    if row is None:
        raise NotFound(t("no {level} with code or name '{code}'", level=level, code=code))
    if row.wkb is None:
        raise InputError(t("{level} {code} has no boundary to partition", level=level, code=row.code), field=level)
    geom = shapely.from_wkb(bytes(row.wkb))
    centre = geom.centroid
    return Community(id=row.id, code=row.code, name=row.name, geom=geom, epsg=metric_epsg(centre.x, centre.y))


def communities_of(conn: Connection, street: Community) -> list[Community]:
    """Communities of a street office with a boundary, in code order."""
    rows = conn.execute(
        text(
            "SELECT id, code, name, ST_AsBinary(geom) AS wkb FROM admin_areas WHERE level = 'community' "
            "AND parent_id = :p AND geom IS NOT NULL ORDER BY code"
        ),
        {"p": street.saved_id},
    ).all()
    return [
        Community(id=r.id, code=r.code, name=r.name, geom=shapely.from_wkb(bytes(r.wkb)), epsg=street.epsg)
        for r in rows
    ]


def _lines(conn: Connection, area_id: int) -> list[shapely.Geometry]:
    rows = conn.execute(text(LINES_SQL), {"a": area_id}).all() or conn.execute(text(WALK_SQL), {"a": area_id}).all()
    return [shapely.from_wkb(bytes(r.wkb)) for r in rows]


def load_input(conn: Connection, area: Community) -> AreaInput:
    """Everything inside ``area`` (a community, or a street office when drawing communities), in metres."""
    area_id = area.saved_id
    b = pd.read_sql_query(text(BUILDINGS_SQL), conn, params={"a": area_id})
    pts = area.to_metric(shapely.points(b["lon"].to_numpy(float), b["lat"].to_numpy(float))) if len(b) else []
    b["x"], b["y"] = (shapely.get_x(pts), shapely.get_y(pts)) if len(b) else ([], [])
    b["compound"] = b["compound"].astype(object).where(b["compound"].notna(), None)
    comp = pd.DataFrame(conn.execute(text(COMPOUNDS_SQL), {"a": area_id}).all(), columns=["key", "name", "geom"])
    if len(comp):
        geoms = shapely.from_wkb([bytes(g) for g in comp["geom"]])
        comp["geom"] = list(area.to_metric(shapely.make_valid(geoms)))
    lines = np.asarray(area.to_metric(np.asarray(_lines(conn, area_id), dtype=object)), dtype=object)
    ded = pd.DataFrame(
        conn.execute(text(DEDICATED_SQL), {"a": area_id, "kinds": list(get_settings().dedicated_kinds)}).all(),
        columns=["kind", "name", "lon", "lat"],
    )
    if len(ded):
        p = area.to_metric(shapely.points(ded["lon"].to_numpy(float), ded["lat"].to_numpy(float)))
        ded["x"], ded["y"] = shapely.get_x(p), shapely.get_y(p)
    else:
        ded = pd.DataFrame(columns=["kind", "name", "x", "y"])
    return AreaInput(area.to_metric(shapely.make_valid(area.geom)), lines, b, comp, ded)
