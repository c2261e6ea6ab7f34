"""Coordinate systems: CGCS2000/WGS84 storage, GCJ-02 and BD-09 input, metric CRS for measures.

GCJ-02 (Amap, Tencent) and BD-09 (Baidu) are not in PROJ, and the scalar libraries that implement them
are too slow for a million points, so the published formulas are vectorised here with NumPy; tests
check them against the independent ``prcoords`` package.
"""

from __future__ import annotations

import math

import numpy as np
from pyproj import CRS

from geogrid.errors import GeogridError
from geogrid.i18n import t
from geogrid.settings import get_settings

STORAGE_EPSG = 4326
ALIASES = {
    "wgs84": "EPSG:4326",
    "cgcs2000": "EPSG:4490",
    "epsg:4326": "EPSG:4326",
    "epsg:4490": "EPSG:4490",
}
OFFSET_SYSTEMS = ("gcj02", "bd09")

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0


def normalise(crs: str | None) -> str:
    """Canonical name of a CRS given by a user: ``gcj02``, ``bd09`` or a PROJ string such as ``EPSG:4490``."""
    if crs is None or not str(crs).strip():
        return "EPSG:4326"
    key = str(crs).strip().lower().replace("-", "").replace("_", "")
    if key in OFFSET_SYSTEMS:
        return key
    if key in ALIASES:
        return ALIASES[key]
    try:
        return CRS.from_user_input(crs).to_string()
    except Exception:
        raise GeogridError(
            t("unknown CRS '{crs}': use wgs84, cgcs2000, gcj02, bd09 or an EPSG code such as EPSG:4547", crs=crs)
        ) from None


def check_horizontal(crs: str | None) -> str:
    """The canonical name of a CRS that has two horizontal axes; geocentric and 3D systems are refused.

    ``EPSG:4978`` (geocentric X/Y/Z in metres) read as lon/lat once stored a building at latitude 90.
    """
    name = normalise(crs)
    if name in OFFSET_SYSTEMS or name in ("EPSG:4326", "EPSG:4490"):
        return name
    found = CRS.from_user_input(name)
    if found.is_geocentric or len(found.axis_info) != 2:
        raise GeogridError(
            t(
                "CRS '{crs}' is not a two-dimensional (horizontal) system: geocentric and 3D systems are refused",
                crs=crs,
            )
        )
    return name


def _out_of_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = lon - 105.0, lat - 35.0
    sq = np.sqrt(np.abs(x))
    dlat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * sq
        + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * sq
        + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    )
    rad = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    outside = _out_of_china(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def wgs84_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    dlon, dlat = _gcj_delta(lon, lat)
    return lon + dlon, lat + dlat


def _invert(forward, lon, lat, iterations: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Invert an offset transform by fixed-point iteration: four rounds leave under a millimetre."""
    tlon, tlat = np.asarray(lon, float), np.asarray(lat, float)
    wlon, wlat = tlon.copy(), tlat.copy()
    for _ in range(iterations):
        flon, flat = forward(wlon, wlat)
        wlon, wlat = wlon + (tlon - flon), wlat + (tlat - flat)
    return wlon, wlat


def gcj02_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    return _invert(wgs84_to_gcj02, lon, lat)


def gcj02_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(lon, float), np.asarray(lat, float)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(lon, float) - 0.0065, np.asarray(lat, float) - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def wgs84_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    return _invert(wgs84_to_bd09, lon, lat)


TO_WGS84 = {"gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}
FROM_WGS84 = {"gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}


def to_wgs84_xy(lon, lat, crs: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Convert coordinate arrays in any supported CRS to WGS84 lon/lat."""
    name = normalise(crs)
    if name in TO_WGS84:
        return TO_WGS84[name](lon, lat)
    if name in ("EPSG:4326", "EPSG:4490"):
        return np.asarray(lon, float), np.asarray(lat, float)
    from pyproj import Transformer

    return Transformer.from_crs(name, STORAGE_EPSG, always_xy=True).transform(
        np.asarray(lon, float), np.asarray(lat, float)
    )


def to_wgs84(geoms, crs: str | None):
    """Convert Shapely geometries (array-like) from ``crs`` to WGS84, vertex by vertex."""
    import shapely

    name = normalise(crs)
    if name in ("EPSG:4326", "EPSG:4490"):
        return geoms

    def convert(coords: np.ndarray) -> np.ndarray:
        x, y = to_wgs84_xy(coords[:, 0], coords[:, 1], name)
        return np.column_stack([x, y])

    return shapely.transform(geoms, convert)


def from_wgs84(geoms, crs: str | None):
    """Convert Shapely geometries from WGS84 to ``crs`` (for map layers over GCJ-02 or BD-09 tiles)."""
    import shapely

    name = normalise(crs)
    if name in FROM_WGS84:
        fn = FROM_WGS84[name]
        return shapely.transform(geoms, lambda c: np.column_stack(fn(c[:, 0], c[:, 1])))
    if name in ("EPSG:4326", "EPSG:4490"):
        return geoms
    from pyproj import Transformer

    t = Transformer.from_crs(STORAGE_EPSG, name, always_xy=True)
    return shapely.transform(geoms, lambda c: np.column_stack(t.transform(c[:, 0], c[:, 1])))


def utm_epsg(lon: float, lat: float) -> int:
    """EPSG code of the WGS84 UTM zone that contains a point."""
    zone = int((lon + 180) // 6) + 1
    return (32600 if lat >= 0 else 32700) + min(max(zone, 1), 60)


def metric_epsg(lon: float, lat: float) -> int:
    """The projected CRS used for metres around a place: the ``GEOGRID_METRIC_CRS`` setting, else UTM."""
    setting = get_settings().metric_crs
    if setting and setting.lower() != "auto":
        return CRS.from_user_input(setting).to_epsg() or utm_epsg(lon, lat)
    return utm_epsg(lon, lat)
