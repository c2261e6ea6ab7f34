"""The offline base map: roads by class, water and railways, kept in ``base_features`` (revision ``0012_maps``).

An intranet rarely reaches a tile server, and grids on a blank background give nobody a street to orient by.
What an OpenStreetMap extract already holds (``highway``, ``waterway``/``natural=water``, ``railway``) is
stored here when the extract is imported, and the demo writes its own streets, river and railway; the maps
draw them under the grids and ``/tiles/base`` serves them. Building footprints and compound outlines are
not copied: they are read from ``buildings``/``compounds`` where they already live.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, text

from geogrid.db.bulk import copy_frame, next_ids

COLUMNS = ["layer", "kind", "name", "geom", "source_id"]

# OSM highway values -> the four road classes the maps draw (widest first); other values are not drawn.
ROAD_CLASSES = {
    **dict.fromkeys(("motorway", "trunk", "primary", "motorway_link", "trunk_link", "primary_link"), "major"),
    **dict.fromkeys(("secondary", "tertiary", "secondary_link", "tertiary_link"), "secondary"),
    **dict.fromkeys(("residential", "unclassified", "living_street", "service", "road"), "street"),
    **dict.fromkeys(("footway", "path", "pedestrian", "steps", "cycleway", "track"), "path"),
}
RAILWAYS = ("rail", "subway", "light_rail", "tram", "narrow_gauge", "monorail")
WATERWAYS = ("river", "canal", "stream", "ditch", "drain")


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name not in frame:
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)
    column = frame[name].astype(object)
    return column.where(column.notna(), None)


def _source_ids(frame: pd.DataFrame) -> np.ndarray:
    kinds = _column(frame, "osm_type").fillna("way")
    return ("osm:" + kinds.astype(str) + "/" + frame["id"].astype("int64").astype(str)).to_numpy(dtype=object)


def _rows(frame: pd.DataFrame | None, layer: str, kinds: pd.Series) -> pd.DataFrame:
    if frame is None or frame.empty:
        return pd.DataFrame(columns=COLUMNS)
    geoms = shapely.make_valid(np.asarray(frame.geometry.array, dtype=object))
    out = pd.DataFrame(
        {
            "layer": layer,
            "kind": kinds.to_numpy(dtype=object),
            "name": _column(frame, "name").to_numpy(dtype=object),
            "geom": geoms,
            "source_id": _source_ids(frame),
        }
    )
    keep = out["kind"].notna() & ~shapely.is_empty(geoms) & ~shapely.is_missing(geoms)
    return out[keep.to_numpy()]


def osm_base(osm) -> pd.DataFrame:
    """Roads, water and railways of a ``pyrosm.OSM`` extract as rows of :data:`COLUMNS`."""
    roads = osm.get_data_by_custom_criteria(
        custom_filter={"highway": list(ROAD_CLASSES)}, keep_nodes=False, keep_relations=False
    )
    rails = osm.get_data_by_custom_criteria(
        custom_filter={"railway": list(RAILWAYS)}, keep_nodes=False, keep_relations=False
    )
    water_ways = osm.get_data_by_custom_criteria(
        custom_filter={"waterway": list(WATERWAYS)}, keep_nodes=False, keep_relations=False
    )
    # closed ways only: an extract cuts multipolygon relations, and pyrosm closes a cut one into a bogus area
    water_areas = osm.get_data_by_custom_criteria(
        custom_filter={"natural": ["water"]}, keep_nodes=False, keep_relations=False
    )
    parts = [
        _rows(roads, "road", _column(roads, "highway").map(ROAD_CLASSES) if roads is not None else None),
        _rows(rails, "railway", _column(rails, "railway") if rails is not None else None),
        _rows(water_ways, "water", _column(water_ways, "waterway") if water_ways is not None else None),
        _rows(water_areas, "water", pd.Series("lake", index=water_areas.index) if water_areas is not None else None),
    ]
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS)


def write_base(conn: Connection, frame: pd.DataFrame) -> int:
    """Store base features, replacing any earlier ones with the same ``source_id`` (a re-import updates)."""
    if frame.empty:
        return 0
    ids = [s for s in frame["source_id"].dropna().unique().tolist()]
    if ids:
        conn.execute(text("DELETE FROM base_features WHERE source_id = ANY(:ids)"), {"ids": ids})
    rows = frame[COLUMNS].assign(id=next_ids(conn, "base_features", len(frame)))
    return copy_frame(conn, "base_features", rows)


def import_osm_base(conn: Connection, osm) -> int:
    """Read and store the base layer of an OSM extract; the number of features stored."""
    return write_base(conn, osm_base(osm))
