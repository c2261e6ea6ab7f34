"""The offline base map under a community or street map: roads by class, water, railways, building footprints,
compound outlines and labels for named main roads, read from ``base_features``/``buildings``/``compounds``.

Small maps embed it as GeoJSON (a written file works with no server); city-scale pages draw
``/tiles/base`` vector tiles instead (:mod:`maps.tiles`). Features are clipped to the scope's extent plus a
margin, so a community map never reads the city. Road labels are one point per road name, in the middle
of its longest piece, for major and secondary roads only: enough to orient by, never a clutter of names.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection

from geogrid.db.bulk import fetch_geoms
from maps import data, geojson

MARGIN_DEGREES = 0.003  # about 300 m around the scope's grids
LABELLED = ("major", "secondary")

EXTENT = f"""
SELECT ST_SetSRID(ST_Expand(ST_Extent(sg.geom)::geometry, {MARGIN_DEGREES}), 4326) AS box FROM ({data.SCOPED_GRIDS}) sg
"""
BASE_SQL = f"""
WITH x AS ({EXTENT})
SELECT b.layer, b.kind, coalesce(b.name, '') AS name, ST_AsBinary(ST_Intersection(b.geom, x.box))
FROM base_features b, x WHERE b.geom && x.box
UNION ALL
SELECT 'compound', 'compound', coalesce(c.name, ''), ST_AsBinary(c.geom) FROM compounds c, x WHERE c.geom && x.box
UNION ALL
SELECT 'building', 'footprint', '', ST_AsBinary(b.footprint) FROM buildings b, x WHERE b.footprint && x.box
"""
ORDER = {"compound": 0, "building": 1, "water": 2, "railway": 3, "road": 4, "label": 5}
ROAD_ORDER = {"path": 0, "street": 1, "secondary": 2, "major": 3}


def base_frame(conn: Connection, scope: data.Scope) -> pd.DataFrame:
    """``layer, kind, name, geom`` of the scope's surroundings, drawing order first (areas below lines)."""
    frame = fetch_geoms(conn, BASE_SQL, scope.place.params())
    if frame.empty:
        return frame
    frame.columns = ["layer", "kind", "name", "geom"]
    frame = frame[~shapely.is_empty(frame["geom"].to_numpy())]
    frame = pd.concat([frame, road_labels(frame)], ignore_index=True)
    rank = frame["layer"].map(ORDER) * 10 + frame["kind"].map(ROAD_ORDER).fillna(0)
    return frame.assign(rank=rank).sort_values("rank", kind="stable").drop(columns="rank").reset_index(drop=True)


def road_labels(frame: pd.DataFrame) -> pd.DataFrame:
    """One label point per named major or secondary road, halfway along its longest piece."""
    roads = frame[(frame["layer"] == "road") & frame["kind"].isin(LABELLED) & (frame["name"] != "")]
    if roads.empty:
        return pd.DataFrame(columns=["layer", "kind", "name", "geom"])
    roads = roads.assign(length=shapely.length(roads["geom"].to_numpy()))
    longest = roads.sort_values("length", ascending=False).drop_duplicates("name")
    lines = np.asarray(longest["geom"].to_numpy(), dtype=object)
    points = shapely.line_interpolate_point(shapely.line_merge(lines), 0.5, normalized=True)
    points = np.where(shapely.is_empty(points), shapely.point_on_surface(lines), points)
    return pd.DataFrame(
        {"layer": "label", "kind": longest["kind"].to_numpy(), "name": longest["name"].to_numpy(), "geom": points}
    )


def base_json(conn: Connection, scope: data.Scope, *, crs: str | None = None) -> str:
    """The base map of a scope as GeoJSON (``layer``, ``kind``, ``name``), coordinates to about 1 m."""
    frame = base_frame(conn, scope)
    return geojson.layer_geojson(frame, ["layer", "kind", "name"], crs=crs, simplify_m=0.5, precision=6)


def has_base(conn: Connection) -> bool:
    """True when anything can be drawn as a base map (imported roads, water, railways or footprints)."""
    from sqlalchemy import text

    return bool(
        conn.scalar(
            text(
                "SELECT EXISTS (SELECT 1 FROM base_features) "
                "OR EXISTS (SELECT 1 FROM buildings WHERE footprint IS NOT NULL)"
            )
        )
    )
