"""OpenStreetMap extracts (``.osm.pbf``, read offline with pyrosm): buildings, POIs and the walking network.

OpenStreetMap is mapped by volunteers, so a broken feature is repaired rather than failing the import:
an open building outline becomes a point on it, an invalid footprint goes through ``make_valid``. POIs
whose tags map to a facility kind become facility *candidates*; the others are counted and skipped.
Source ids look like ``osm:way/123``; re-importing updates by them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection

from geogrid.basemap import import_osm_base
from geogrid.errors import InputError
from geogrid.i18n import t
from geogrid.importers.buildings import write_buildings
from geogrid.importers.facilities import DEFAULT_MINUTES, write_facilities
from geogrid.importers.osm_addresses import import_osm_addresses
from geogrid.importers.upsert import ImportReport

POI_KINDS = {
    "amenity": {
        "school": "school",
        "kindergarten": "kindergarten",
        "childcare": "kindergarten",
        "marketplace": "market",
        "clinic": "health_station",
        "doctors": "health_station",
        "health_post": "health_station",
        "community_centre": "service_center",
        "townhall": "service_center",
        "social_facility": "elderly_care",
        "nursing_home": "elderly_care",
        "social_centre": "service_station",
        "canteen": "canteen",
        "shelter": "rest_station",
    },
    "shop": {"supermarket": "market", "greengrocer": "market"},
    "healthcare": {"*": "health_station"},
}


def read_osm(path: str | Path):
    import pyrosm

    path = Path(path)
    if not path.exists():
        raise InputError(t("file not found"), file=str(path))
    try:
        return pyrosm.OSM(str(path))
    except Exception as exc:
        raise InputError(t("not a readable OpenStreetMap extract: {error}", error=exc), file=str(path)) from None


def source_ids(frame: pd.DataFrame) -> np.ndarray:
    kinds = frame["osm_type"].fillna("node") if "osm_type" in frame else pd.Series("node", index=frame.index)
    return (("osm:" + kinds.astype(str)) + "/" + frame["id"].astype("int64").astype(str)).to_numpy(dtype=object)


def osm_buildings(osm) -> pd.DataFrame:
    """Buildings as rows of :data:`geogrid.importers.buildings.COLUMNS`."""
    frame = osm.get_buildings()
    if frame is None or frame.empty:
        return pd.DataFrame(columns=["source_id", "name", "address", "floors", "households", "geom", "footprint"])
    geoms = np.asarray(frame.geometry.array, dtype=object)
    footprints = _footprints(geoms)
    has = footprints != None  # noqa: E711
    points = np.empty(len(geoms), dtype=object)
    points[has] = shapely.point_on_surface(footprints[has])
    points[~has] = shapely.point_on_surface(geoms[~has])
    street, number = _col(frame, "addr:street"), _col(frame, "addr:housenumber")
    address = (street.fillna("") + " " + number.fillna("")).str.strip().replace("", None)
    levels = pd.to_numeric(_col(frame, "building:levels"), errors="coerce").round()
    floors = levels.where((levels > 0) & (levels < 500)).astype("Int64")
    return pd.DataFrame(
        {
            "source_id": source_ids(frame),
            "name": _col(frame, "name").to_numpy(dtype=object),
            "address": address.to_numpy(dtype=object),
            "floors": floors.array,
            "households": 0,
            "geom": points,
            "footprint": footprints,
            "building": _col(frame, "building").to_numpy(dtype=object),
        }
    )


def _footprints(geoms: np.ndarray) -> np.ndarray:
    """MultiPolygon footprints; closed rings become polygons, anything without area gives None."""
    out = np.full(len(geoms), None, dtype=object)
    geoms = geoms.copy()
    rings = np.flatnonzero((shapely.get_type_id(geoms) == 1) & shapely.is_closed(geoms))
    for r in rings:
        if len(geoms[r].coords) >= 4:
            geoms[r] = shapely.Polygon(geoms[r].coords)
    for i, g in enumerate(shapely.make_valid(geoms)):
        polys = [p for p in shapely.get_parts(g) if p.geom_type == "Polygon" and not p.is_empty]
        if polys:
            out[i] = shapely.MultiPolygon(polys)
    return out


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    if name not in frame:
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)
    column = frame[name].astype(object)
    return column.where(column.notna(), None)


def tag_kinds(extra: dict[str, dict[str, str]] | None) -> dict[str, dict[str, str]]:
    """:data:`POI_KINDS` with a user's ``{key: {value: kind}}`` mapping laid over it (``--tag-kind``)."""
    kinds = {key: dict(values) for key, values in POI_KINDS.items()}
    for key, values in (extra or {}).items():
        kinds.setdefault(key, {}).update(values)
    return kinds


def osm_facilities(osm, extra: dict[str, dict[str, str]] | None = None) -> tuple[pd.DataFrame, int]:
    """POIs whose tags map to a facility kind (:data:`POI_KINDS` and ``extra``), as candidates; and how many
    were skipped."""
    mapping_of = tag_kinds(extra)
    frame = osm.get_pois(custom_filter={key: True for key in mapping_of})
    if frame is None or frame.empty:
        return pd.DataFrame(), 0
    kinds = pd.Series(None, index=frame.index, dtype=object)
    for key, mapping in mapping_of.items():
        values = _col(frame, key)
        mapped = values.map(lambda v, m=mapping: m.get(v, m.get("*")) if isinstance(v, str) else None)
        kinds = kinds.where(kinds.notna(), mapped)
    keep = kinds.notna().to_numpy()
    frame, kinds = frame[keep], kinds[keep]
    geoms = shapely.point_on_surface(shapely.make_valid(np.asarray(gpd.GeoSeries(frame.geometry).array, dtype=object)))
    street, number = _col(frame, "addr:street"), _col(frame, "addr:housenumber")
    return pd.DataFrame(
        {
            "source_id": source_ids(frame),
            "name": _col(frame, "name").fillna(kinds).to_numpy(dtype=object),
            "kind": kinds.to_numpy(dtype=object),
            "circle_minutes": kinds.map(lambda k: DEFAULT_MINUTES.get(k, 5)),
            "address": (street.fillna("") + " " + number.fillna(""))
            .str.strip()
            .replace("", None)
            .to_numpy(dtype=object),
            "candidate": True,
            "geom": geoms,
        }
    ), int((~keep).sum())


def import_osm(
    conn: Connection,
    path: str | Path,
    *,
    network: bool = True,
    replace_network: bool = False,
    tag_kind: dict[str, dict[str, str]] | None = None,
    tick: Callable[[str], None] | None = None,
) -> list[ImportReport]:
    """Import buildings, facility candidates and (when ``geogrid.network`` exists) the walking network."""
    tick = tick or (lambda step: None)
    osm = read_osm(path)
    tick(t("buildings"))
    buildings = osm_buildings(osm)
    # OpenStreetMap has no households and often no name: a re-import keeps the figures and names others imported.
    reports = [
        write_buildings(
            conn,
            buildings,
            update=["name", "address", "floors", "geom", "footprint"],
            keep_existing=("name", "address", "floors"),
        )
    ]
    tick(t("facility candidates"))
    facilities, skipped = osm_facilities(osm, tag_kind)
    if len(facilities):
        # A promoted candidate stays promoted, with its kind and circle: only place, name and address follow OSM.
        report = write_facilities(conn, facilities, update=["name", "address", "geom"], keep_existing=("address",))
        report.extra["other_pois_skipped"] = skipped
        reports.append(report)
    tick(t("addresses and places"))
    reports += import_osm_addresses(conn, osm)
    tick(t("base map"))
    reports.append(ImportReport(t("base map (roads, water, railways)"), import_osm_base(conn, osm)))
    from geogrid.partition.osm import import_layers  # compounds, roads for blocks, household estimates

    reports += import_layers(conn, osm, buildings)
    if network:
        tick(t("walking network"))
        reports.append(_network(conn, path, replace_network))
    return reports


def _network(conn: Connection, path: str | Path, replace: bool = False) -> ImportReport:
    from geogrid.network import import_osm_network

    result = import_osm_network(conn, str(path), replace=replace)
    report = ImportReport(t("walking network (replaced)") if replace else t("walking network (merged)"), 0)

    if isinstance(result, dict):
        report.extra.update({k: int(v) for k, v in result.items() if isinstance(v, int | np.integer)})
    elif isinstance(result, tuple) and len(result) == 2:
        report.extra.update(nodes=int(result[0]), edges=int(result[1]))
    return report
