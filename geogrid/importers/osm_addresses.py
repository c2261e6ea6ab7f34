"""Every address and name an OpenStreetMap extract holds, read offline with pyrosm.

Buildings alone leave most addresses out: on the Haidian extracts, POIs carry the street numbers
(成府路 43…101), universities carry ``addr:housenumber=丁11``, gates are ``entrance=*`` nodes and dormitories
``addr:housename``. Each element with a door number (``addr:housenumber`` with ``addr:street`` or
``addr:place``, or ``addr:full``) becomes a ``door`` row; a named entrance an ``entrance`` row; any other named
element that is not a road a ``place`` row (its outline kept, so a campus answers the grids it covers);
``name:en``, ``name:zh_pinyin``, ``alt_name``… become aliases. Named roads go to ``roads`` with their lines.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection

from geogrid.address import normalise_many
from geogrid.i18n import t
from geogrid.importers.addresses import address_frame, building_ids, write_address_points
from geogrid.importers.upsert import ImportReport, merge, stage

ALIAS_KEYS = (
    "name:zh",
    "name:en",
    "name:zh_pinyin",
    "alt_name",
    "old_name",
    "short_name",
    "official_name",
    "addr:housename",
)
_KEYS = ("name", "addr:housenumber", "addr:full", "addr:housename", "entrance")
ROAD_COLUMNS = ("source_id", "name", "norm", "aliases", "geom")


def osm_elements(osm) -> pd.DataFrame:
    """Elements carrying a name, a door number, a full address, a house name or an entrance, each once,
    with all their tags as one dict (pyrosm splits them between columns and a JSON ``tags`` column)."""
    frames = []
    for key in _KEYS:
        frame = osm.get_data_by_custom_criteria(
            custom_filter={key: True}, keep_nodes=True, keep_ways=True, keep_relations=True
        )
        if frame is not None and len(frame):
            frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["source_id", "tags", "geometry"])
    frame = pd.concat(frames, ignore_index=True)
    frame["osm_type"] = frame["osm_type"].fillna("node") if "osm_type" in frame else "node"
    frame = frame.drop_duplicates(["osm_type", "id"]).reset_index(drop=True)
    return pd.DataFrame(
        {
            "source_id": "osm:" + frame["osm_type"].astype(str) + "/" + frame["id"].astype(str),
            "tags": [_tags(row) for row in frame.to_dict("records")],
            "geometry": np.asarray(frame.geometry.array, dtype=object),
        }
    )


def _tags(row: dict) -> dict[str, str]:
    tags: dict[str, str] = {}
    raw = row.get("tags")
    if isinstance(raw, str):
        tags.update(json.loads(raw))
    elif isinstance(raw, dict):
        tags.update(raw)
    skip = {"id", "tags", "geometry", "osm_type", "lon", "lat", "visible", "version", "timestamp", "changeset"}
    tags.update({k: str(v) for k, v in row.items() if k not in skip and isinstance(v, str) and v})
    return tags


def _kind(tags: dict[str, str]) -> str | None:
    """What a caller can name this element by, or None (a road, an unnamed entrance, a bare name of a route)."""
    if tags.get("addr:housenumber") and (tags.get("addr:street") or tags.get("addr:place")) or tags.get("addr:full"):
        return "door"
    if "entrance" in tags:
        return "entrance" if tags.get("name") or tags.get("addr:housename") else None
    if tags.get("highway") or tags.get("route") or tags.get("type") in ("route", "route_master"):
        return None
    if tags.get("name") or tags.get("addr:housename"):
        return "place"
    return None


def osm_addresses(osm) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``address_points`` rows and ``roads`` rows of an extract."""
    elements = osm_elements(osm)
    kinds = np.array([_kind(tags) for tags in elements["tags"]], dtype=object)
    geoms = elements["geometry"].to_numpy(dtype=object)
    valid = shapely.make_valid(geoms)
    polygonal = np.isin(shapely.get_type_id(valid), (3, 6))
    keep = (
        (kinds != None)  # noqa: E711  (NumPy: elementwise)
        & ~shapely.is_empty(valid)
        & (polygonal | (shapely.get_type_id(valid) == 0) | (kinds == "door"))
    )
    places = _address_rows(elements[keep], kinds[keep], valid[keep], polygonal[keep])
    roads = _road_rows(elements, valid)
    return places, roads


def _address_rows(elements: pd.DataFrame, kinds: np.ndarray, geoms: np.ndarray, polygonal: np.ndarray) -> pd.DataFrame:
    tags = elements["tags"].tolist()
    road = np.array([x.get("addr:street") or x.get("addr:place") for x in tags], dtype=object)
    door = np.array([x.get("addr:housenumber") for x in tags], dtype=object)
    full = np.array(
        [
            x.get("addr:full") or ((r or "") + (d or "") if d else None) or x.get("name") or x.get("addr:housename")
            for x, r, d in zip(tags, road, door, strict=True)
        ],
        dtype=object,
    )
    outlines = np.array(
        [shapely.MultiPolygon(shapely.get_parts(g)) if p else None for g, p in zip(geoms, polygonal, strict=True)],
        dtype=object,
    )
    parts = {
        "road": road,
        "door": door,
        "name": np.array([x.get("name") for x in tags], dtype=object),
        "district": np.array([x.get("addr:district") for x in tags], dtype=object),
    }
    aliases = [sorted({x[k] for k in ALIAS_KEYS if x.get(k) and x[k] != x.get("name")}) or None for x in tags]
    return address_frame(
        full,
        shapely.point_on_surface(geoms),
        source="osm",
        kind=kinds,
        source_ids=elements["source_id"].to_numpy(dtype=object),
        parts=parts,
        aliases=aliases,
        outlines=outlines,
    )


def _road_rows(elements: pd.DataFrame, geoms: np.ndarray) -> pd.DataFrame:
    tags = elements["tags"].tolist()
    lines = np.isin(shapely.get_type_id(geoms), (1, 5))
    keep = np.array([bool(x.get("highway") and x.get("name")) for x in tags]) & lines
    names = [x["name"] for x, k in zip(tags, keep, strict=True) if k]
    aliases = [
        sorted({x[k] for k in ALIAS_KEYS if x.get(k) and x[k] != x["name"]}) or None
        for x, k in zip(tags, keep, strict=True)
        if k
    ]
    geoms = np.array([shapely.MultiLineString(shapely.get_parts(g)) for g in geoms[keep]], dtype=object)
    return pd.DataFrame(
        {
            "source_id": elements["source_id"].to_numpy(dtype=object)[keep],
            "name": names,
            "norm": normalise_many(names),
            "aliases": aliases,
            "geom": geoms,
        }
    )


def import_osm_addresses(conn: Connection, osm) -> list[ImportReport]:
    """Write an extract's addresses, places and named roads (updated by OSM id on a re-import)."""
    places, roads = osm_addresses(osm)
    if len(places):
        places["building_id"] = _building_ids(conn, places["source_id"])
    reports = [write_address_points(conn, places, t("addresses and places"))] if len(places) else []
    if len(roads):
        temp = stage(conn, "roads", roads[list(ROAD_COLUMNS)], geometry=("geom",))
        updated, inserted = merge(conn, "roads", temp, "source_id", ROAD_COLUMNS)
        reports.append(ImportReport(t("named roads"), len(roads), updated, inserted))
    return reports


def _building_ids(conn: Connection, source_ids: pd.Series) -> pd.array:
    ids = building_ids(conn, source_ids.tolist())
    return pd.array([ids.get(s) for s in source_ids], dtype="Int64")
