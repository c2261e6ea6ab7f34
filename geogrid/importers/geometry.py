"""Geometry checks shared by the importers: polygons for areas and grids, points or footprints for the rest.

Repair policy: an invalid polygon is repaired with ``make_valid`` only when the repair keeps the area its
rings describe (within :data:`REPAIR_TOLERANCE`): duplicate vertices, self-touching rings, a hole touching
its shell. A bow-tie or a ring that crosses itself changes area when repaired, so the repair would be a
guess at the shape: such rows are rejected with their row number.
"""

from __future__ import annotations

import numpy as np
import shapely

from geogrid.i18n import t
from geogrid.importers.read import Source

REPAIR_TOLERANCE = 1e-3  # relative change of area that a repair may make
POLYGONAL = ("Polygon", "MultiPolygon")


def polygons(source: Source) -> np.ndarray:
    """Every row's geometry as a valid MultiPolygon; a non-polygon or an unsafe repair fails the import."""
    geoms = source.geoms
    kinds = shapely.get_type_id(geoms)
    source.first_bad(
        ~np.isin(kinds, (3, 6)), lambda i: t("expected a polygon, got {kind}", kind=geoms[i].geom_type), "geometry"
    )
    return _as_multi(_repaired(source, geoms))


def points_and_footprints(source: Source) -> tuple[np.ndarray, np.ndarray]:
    """A point per row and the footprint (MultiPolygon or None) for rows given as polygons.

    A footprint's point is its representative point, which always lies inside it (a centroid may not,
    for an L-shaped building), so the building is assigned to the grid its footprint stands in.
    """
    geoms = source.geoms
    kinds = shapely.get_type_id(geoms)
    is_point, is_poly = kinds == 0, np.isin(kinds, (3, 6))
    source.first_bad(
        ~(is_point | is_poly),
        lambda i: t("expected a point or a polygon, got {kind}", kind=geoms[i].geom_type),
        "geometry",
    )
    footprints = np.full(len(geoms), None, dtype=object)
    if is_poly.any():
        footprints[is_poly] = _as_multi(_repaired(source, geoms, only=is_poly))[is_poly]
    points = geoms.copy()
    points[is_poly] = shapely.point_on_surface(footprints[is_poly])
    return points, footprints


def _repaired(source: Source, geoms: np.ndarray, only: np.ndarray | None = None) -> np.ndarray:
    out = geoms.copy()
    invalid = ~shapely.is_valid(geoms)
    if only is not None:
        invalid &= only
    if not invalid.any():
        return out
    fixed = shapely.make_valid(geoms[invalid])
    fixed = np.asarray([_polygonal_part(g) for g in fixed], dtype=object)
    before, after = shapely.area(geoms[invalid]), shapely.area(fixed)
    unsafe = (after == 0) | (np.abs(after - np.abs(before)) > REPAIR_TOLERANCE * np.maximum(after, np.abs(before)))
    rows = np.flatnonzero(invalid)
    reasons = shapely.is_valid_reason(geoms[invalid])
    bad = np.zeros(len(geoms), dtype=bool)
    bad[rows[unsafe]] = True
    lookup = dict(zip(rows, reasons, strict=True))
    source.first_bad(
        bad, lambda i: t("invalid geometry that cannot be repaired safely ({reason})", reason=lookup[i]), "geometry"
    )

    out[rows] = fixed
    return out


def _polygonal_part(geom: shapely.Geometry) -> shapely.Geometry:
    """The polygons of a repaired geometry (make_valid may add stray lines or points)."""
    if geom.geom_type in POLYGONAL:
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in POLYGONAL]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _as_multi(geoms: np.ndarray) -> np.ndarray:
    """Polygons become one-part MultiPolygons (the column type), MultiPolygons are kept as they are."""
    out = geoms.copy()
    single = shapely.get_type_id(geoms) == 3
    out[single] = [shapely.MultiPolygon([g]) for g in geoms[single]]
    return out
