"""Service areas for every facility: a straight-line circle and the area reachable along the walking network.

Every facility's walk is searched at once (:mod:`walk`, a bounded Dijkstra per facility compiled with
Numba, starting from its nearest node at the snap distance) up to the circle radius. Each area is then
the reached pieces of edges (partial edges cut at the remaining distance) widened by an access offset for
the walk from path to door, inside the straight-line circle (:mod:`raster`, distance fields traced by
contourpy): no walk reaches further than the crow flies, so network coverage never exceeds circle coverage.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from sqlalchemy import Connection, text

from geogrid.coverage.raster import CIRCLE_SIDES, areas_from_pieces
from geogrid.coverage.walk import reached_pieces
from geogrid.crs import metric_epsg
from geogrid.db.bulk import copy_frame, query_frame
from geogrid.errors import GeogridError
from geogrid.i18n import t
from geogrid.network import WalkGraph, load_graph
from geogrid.settings import get_settings

MODES = ("circle", "network")


def radius_m(minutes: int) -> float:
    """Walking distance of a circle: the GB 50180 radius from settings, else minutes × walking pace."""
    settings = get_settings()
    return float(settings.circle_radius_m.get(int(minutes), minutes * settings.walk_speed_m_per_min))


def circle_areas(xy: np.ndarray, radius: float) -> np.ndarray:
    """Straight-line circles (metric polygons) around metric points ``xy`` (n, 2)."""
    return shapely.buffer(shapely.points(xy), radius, quad_segs=CIRCLE_SIDES // 4)


def network_areas(graph: WalkGraph, xy: np.ndarray, radius: float, offset: float | None = None) -> np.ndarray:
    """Areas reachable within ``radius`` metres along ``graph`` from metric points ``xy``, widened by the offset."""
    settings = get_settings()
    offset = settings.access_offset_m if offset is None else offset
    cell = settings.area_cell_m
    if not offset > 0 or not 0 < cell <= offset:
        raise GeogridError(
            t(
                "GEOGRID_ACCESS_OFFSET must be more than 0 metres (got {offset}) and GEOGRID_AREA_CELL "
                "more than 0 and at most the offset (got {cell})",
                offset=offset,
                cell=cell,
            )
        )
    if len(xy) == 0:
        return np.empty(0, dtype=object)
    areas = areas_from_pieces(*reached_pieces(graph, xy, radius), xy, radius, offset, cell)
    empty = shapely.is_missing(areas)  # cannot happen with cell <= offset; a disc at the door if it ever does
    areas[empty] = shapely.buffer(shapely.points(xy[empty]), offset, quad_segs=CIRCLE_SIDES // 4)
    return areas


def load_facilities(conn: Connection, where: str = "TRUE") -> pd.DataFrame:
    """Facilities (``id, kind, circle_minutes, candidate, lon, lat``) matching an SQL condition."""
    return query_frame(
        conn,
        "SELECT id, kind, circle_minutes, candidate, ST_X(geom) AS lon, ST_Y(geom) AS lat "
        f"FROM facilities WHERE {where} ORDER BY id",
    )


def to_metric(lon: np.ndarray, lat: np.ndarray, epsg: int) -> np.ndarray:
    x, y = Transformer.from_crs(4326, epsg, always_xy=True).transform(np.asarray(lon), np.asarray(lat))
    return np.column_stack([x, y])


def to_storage(geoms: np.ndarray, epsg: int) -> np.ndarray:
    """Metric polygons → lon/lat MultiPolygons (the column type of ``service_areas.geom``)."""
    back = Transformer.from_crs(epsg, 4326, always_xy=True)
    geoms = shapely.transform(geoms, lambda c: np.column_stack(back.transform(c[:, 0], c[:, 1])))
    parts, index = shapely.get_parts(geoms, return_index=True)
    polys = shapely.get_type_id(parts) == 3
    out = np.full(len(geoms), None, dtype=object)
    if polys.any():
        multi = shapely.multipolygons(parts[polys], indices=index[polys])
        present = np.unique(index[polys])
        out[present] = multi[present]
    return out


def areas_for(
    conn: Connection, facilities: pd.DataFrame, mode: str, graph: WalkGraph | None = None, epsg: int | None = None
) -> tuple[np.ndarray, int]:
    """Metric service areas of ``facilities`` (each at its ``circle_minutes``) in one mode, and the EPSG used."""
    if mode not in MODES:
        raise GeogridError(t("unknown mode '{mode}': use circle or network", mode=mode))

    network = (graph or load_graph(conn, epsg)) if mode == "network" else None
    if network is not None:
        epsg = network.epsg
    epsg = epsg or metric_epsg(float(facilities["lon"].mean()), float(facilities["lat"].mean()))
    xy = to_metric(facilities["lon"].to_numpy(), facilities["lat"].to_numpy(), epsg)
    out = np.empty(len(facilities), dtype=object)
    for minutes in np.unique(facilities["circle_minutes"].to_numpy()):
        sel = np.flatnonzero(facilities["circle_minutes"].to_numpy() == minutes)
        radius = radius_m(int(minutes))
        out[sel] = circle_areas(xy[sel], radius) if network is None else network_areas(network, xy[sel], radius)
    return out, epsg


def served_circles(facilities: pd.DataFrame) -> pd.DataFrame:
    """One row per facility and circle it serves: its own circle and every larger circle of the settings.

    GB 50180 nests the circles: the 15-minute circle of a neighbourhood includes its 5- and 10-minute
    facilities (a kindergarten 12 minutes away serves the 15-minute circle), so a facility of a smaller circle
    also gets the larger circles' areas. Without this, 15-minute coverage counted only facilities tagged as
    15-minute ones and read 0% in a city whose data tags none.
    """
    own = facilities["circle_minutes"].to_numpy()
    parts = [facilities]
    for minutes in sorted(get_settings().circle_radius_m):
        larger = facilities[own < minutes]
        if len(larger):
            parts.append(larger.assign(circle_minutes=minutes))
    return pd.concat(parts, ignore_index=True)


def compute_service_areas(conn: Connection, modes: tuple[str, ...] = MODES) -> dict[str, int]:
    """Recompute ``service_areas`` for every facility at its circle and each larger one (:func:`served_circles`),
    in each mode; returns rows per mode.

    A missing walking network skips ``network`` mode (the circle areas are still written).
    """
    facilities = served_circles(load_facilities(conn))
    written: dict[str, int] = {}
    for mode in modes:
        conn.execute(text("DELETE FROM service_areas WHERE mode = :m"), {"m": mode})
        if facilities.empty:
            written[mode] = 0
            continue
        try:
            areas, epsg = areas_for(conn, facilities, mode)
        except GeogridError:
            if mode == "network" and not conn.scalar(text("SELECT EXISTS (SELECT 1 FROM walk_nodes)")):
                written[mode] = 0
                continue
            raise
        rows = pd.DataFrame(
            {
                "facility_id": facilities["id"].to_numpy(),
                "minutes": facilities["circle_minutes"].to_numpy(),
                "mode": mode,
                "geom": to_storage(areas, epsg),
            }
        )
        written[mode] = copy_frame(conn, "service_areas", rows)
    conn.execute(text("ANALYZE service_areas"))
    return written
