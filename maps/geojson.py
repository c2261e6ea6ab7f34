"""Compact GeoJSON for map layers: shifted to the base map's datum, simplified, coordinates rounded.

Grid polygons are simplified as a coverage (``shapely.coverage_simplify``) so neighbouring grids keep
sharing their edges: per-polygon simplification would open slivers between them at city scale.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import shapely

from geogrid.crs import from_wgs84
from geogrid.settings import get_settings

METRES_PER_DEGREE = 111_320.0
GCJ02_TILE_HOSTS = ("amap", "autonavi", "gaode", "gtimg", "qq.com", "tencent")
BD09_TILE_HOSTS = ("baidu", "bdimg", "bdstatic")


def display_crs(tile_url: str | None = None) -> str | None:
    """The datum layers must be drawn in to line up with the base map: ``gcj02``, ``bd09`` or None (WGS84)."""
    url = (tile_url if tile_url is not None else get_settings().tile_url or "").lower()
    if any(host in url for host in GCJ02_TILE_HOSTS):
        return "gcj02"
    if any(host in url for host in BD09_TILE_HOSTS):
        return "bd09"
    return None


def prepare(
    geoms: np.ndarray, *, crs: str | None, simplify_m: float = 0.0, precision: int = 6, coverage: bool = False
) -> np.ndarray:
    """Shift to ``crs``, simplify by about ``simplify_m`` metres, round to ``precision`` decimals."""
    geoms = np.asarray(geoms, dtype=object)
    if crs:
        geoms = from_wgs84(geoms, crs)
    if simplify_m > 0 and len(geoms):
        tolerance = simplify_m / METRES_PER_DEGREE
        if coverage:
            simplified = shapely.coverage_simplify(geoms, tolerance)
            geoms = np.where(shapely.is_valid(simplified) & ~shapely.is_empty(simplified), simplified, geoms)
        else:
            geoms = _simplify(geoms, tolerance)
    factor = 10.0**precision
    return shapely.transform(geoms, lambda c: np.round(c * factor) / factor)


def _simplify(geoms: np.ndarray, tolerance: float) -> np.ndarray:
    """Douglas–Peucker (GEOS repairs what it breaks), GEOS's topology-preserving form where still invalid.

    Ten times faster on a city's service areas (1.8M vertices: 0.2 s against 2.2 s). A repair may fill or
    open a hole narrower than a few tolerances: invisible at the city scale these layers are drawn at.
    """
    fast = shapely.simplify(geoms, tolerance, preserve_topology=False)
    bad = ~shapely.is_valid(fast) | (shapely.is_empty(fast) & ~shapely.is_empty(geoms))
    if bad.any():
        fast[bad] = shapely.simplify(geoms[bad], tolerance, preserve_topology=True)
    return fast


def _clean(value):
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def feature_collection(frame: pd.DataFrame, geoms: np.ndarray, properties: list[str]) -> str:
    """A FeatureCollection string from prepared geometries and the named frame columns."""
    parts = []
    geo = shapely.to_geojson(np.asarray(geoms, dtype=object))
    records = frame[properties].to_dict("records") if properties else [{}] * len(frame)
    for rec, g in zip(records, geo, strict=True):
        props = json.dumps({k: _clean(v) for k, v in rec.items()}, ensure_ascii=False, separators=(",", ":"))
        parts.append(f'{{"type":"Feature","properties":{props},"geometry":{g}}}')
    return '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"


def grids_geojson(frame: pd.DataFrame, *, crs: str | None, simplify_m: float, precision: int) -> str:
    """Grid polygons with their measures and a label point (inside the polygon) for the grid code."""
    if frame.empty:
        return feature_collection(frame, np.empty(0, dtype=object), [])
    geoms = prepare(frame["geom"].to_numpy(), crs=crs, simplify_m=simplify_m, precision=precision, coverage=True)
    labels = prepare(shapely.point_on_surface(frame["geom"].to_numpy()), crs=crs, precision=precision)
    frame = frame.assign(lx=shapely.get_x(labels), ly=shapely.get_y(labels))
    props = [
        "code",
        "name",
        "community_name",
        "worker",
        "buildings",
        "households",
        "covered_households",
        "coverage",
        "party_members",
        "special",
        "lx",
        "ly",
    ]
    return feature_collection(frame, geoms, props)


def layer_geojson(
    frame: pd.DataFrame, properties: list[str], *, crs: str | None, simplify_m: float = 0.0, precision: int = 6
) -> str:
    """Points or polygons other than grids (facilities, service areas, buildings)."""
    if frame.empty:
        return feature_collection(frame, np.empty(0, dtype=object), [])
    geoms = prepare(frame["geom"].to_numpy(), crs=crs, simplify_m=simplify_m, precision=precision)
    return feature_collection(frame, geoms, [p for p in properties if p in frame])
