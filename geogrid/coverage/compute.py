"""Service areas for every facility: a straight-line circle and the area reachable along the walking network.

All facilities are searched at once: one multi-source ``scipy.sparse.csgraph.dijkstra`` call per chunk
(each facility a virtual node tied to its nearest network node by its snap distance) with ``limit`` set
to the circle radius. Each area is then the reachable edges (partial edges cut at the remaining distance)
buffered by an access offset for the walk from path to door, clipped to the straight-line circle: no
walk can reach further than the crow flies, so network coverage never exceeds circle coverage.

Drawing the polygons (GEOS unions of buffers) costs more than the search: edges are joined into few
long strokes first, simplified by ``GEOGRID_AREA_SIMPLIFY`` metres.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from sqlalchemy import Connection, text

from geogrid.crs import metric_epsg
from geogrid.db.bulk import copy_frame, query_frame
from geogrid.network import WalkGraph, load_graph
from geogrid.settings import get_settings

MODES = ("circle", "network")
BUFFER_QUAD_SEGS = 3  # segments per quarter circle of the access buffer
MAX_GROUP = 512  # sources per Dijkstra call
DENSE_CELLS = 20_000_000  # distances held per Dijkstra call (sources × nodes of their block; 160 MB)
BLOCK_NODES = 3000
STRAIGHT_VERTICES = 3.5  # mean vertices per line below which a source's lines are buffered at once


def radius_m(minutes: int) -> float:
    """Walking distance of a circle: the GB 50180 radius from settings, else minutes × walking pace."""
    settings = get_settings()
    return float(settings.circle_radius_m.get(int(minutes), minutes * settings.walk_speed_m_per_min))


def circle_areas(xy: np.ndarray, radius: float) -> np.ndarray:
    """Straight-line circles (metric polygons) around metric points ``xy`` (n, 2)."""
    return shapely.buffer(shapely.points(xy), radius, quad_segs=16)


def _segments(graph: WalkGraph, dist: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Reached pieces of edges for each row of ``dist`` (sources × nodes): (row index, (m, 2, 2) coords)."""
    du, dv = dist[:, graph.u], dist[:, graph.v]  # small: the graph is the block around these sources
    rows, edges = np.nonzero(np.isfinite(du) | np.isfinite(dv))
    length = np.maximum(graph.length[edges], 1e-9)
    tu = np.clip((radius - du[rows, edges]) / length, 0.0, 1.0)  # inf distance → 0
    tv = np.clip((radius - dv[rows, edges]) / length, 0.0, 1.0)
    pu, pv = graph.xy[graph.u[edges]], graph.xy[graph.v[edges]]
    whole = tu + tv >= 1.0
    out_rows, out_coords = [rows[whole]], [np.stack([pu[whole], pv[whole]], axis=1)]
    for t, a, b in ((tu, pu, pv), (tv, pv, pu)):
        part = ~whole & (t > 0)
        start = a[part]
        out_rows.append(rows[part])
        out_coords.append(np.stack([start, start + t[part, None] * (b[part] - start)], axis=1))
    return np.concatenate(out_rows), np.concatenate(out_coords)


def _tile_size(graph: WalkGraph, radius: float) -> float:
    """Tiles whose 3 × 3 block holds about ``BLOCK_NODES`` nodes on average, never smaller than the radius.

    Small blocks keep each search and its distance matrix small; large enough blocks keep the number of
    searches (and their fixed cost) low on sparse networks. The radius floor keeps every node a walk can
    reach inside the block around the source's tile.
    """
    extent = np.ptp(graph.xy, axis=0) + radius
    density = graph.n / max(extent[0] * extent[1], 1.0)
    return float(max(radius, np.sqrt(BLOCK_NODES / (9 * max(density, 1e-12)))))


def reached_segments(graph: WalkGraph, xy: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Pieces of the network within ``radius`` metres of each source: (source index, (m, 2, 2) coords), sorted.

    Sources are grouped by tile (side = radius); each group runs one multi-source Dijkstra on the block of
    3 × 3 tiles around it, which holds every node a walk of ``radius`` can reach from there.
    """
    n_src = len(xy)
    snap, d0 = graph.snap(xy)
    tiles = graph.tiles(_tile_size(graph, radius))
    cells = tiles.cells(xy)
    order = np.lexsort((cells[:, 1], cells[:, 0]))
    bounds = np.flatnonzero(np.any(np.diff(cells[order], axis=0) != 0, axis=1)) + 1
    rows_all, coords_all = [], []
    for group in np.split(order, bounds):
        block = np.union1d(tiles.block(*cells[group[0]]), snap[group])
        sub, local = graph.subgraph(block)
        step = max(1, min(MAX_GROUP, DENSE_CELLS // (sub.n + len(group))))
        for start in range(0, len(group), step):
            idx = group[start:start + step]
            matrix = _with_sources(sub, np.searchsorted(local, snap[idx]), d0[idx])
            dist = dijkstra(matrix, directed=True, indices=sub.n + np.arange(len(idx)), limit=radius)[:, :sub.n]
            rows, coords = _segments(sub, dist, radius)
            rows_all.append(idx[rows])
            coords_all.append(coords)
    # The access walk from each facility to its network node (cut at the radius) keeps every area non-empty.
    reach = np.clip(radius / np.maximum(d0, 1e-9), 0.0, 1.0)[:, None]
    rows_all.append(np.arange(n_src))
    coords_all.append(np.stack([xy, xy + reach * (graph.xy[snap] - xy)], axis=1))
    rows, coords = np.concatenate(rows_all), np.concatenate(coords_all)
    order = np.argsort(rows, kind="stable")
    return rows[order], coords[order]


def network_areas(graph: WalkGraph, xy: np.ndarray, radius: float, offset: float | None = None) -> np.ndarray:
    """Areas reachable within ``radius`` metres along ``graph`` from metric points ``xy``, buffered by the offset."""
    settings = get_settings()
    offset = settings.access_offset_m if offset is None else offset
    if not (offset > 0 and settings.area_simplify_m >= 0):
        from geogrid.errors import GeogridError

        raise GeogridError(f"GEOGRID_ACCESS_OFFSET must be more than 0 metres (got {offset}) and "
                           f"GEOGRID_AREA_SIMPLIFY 0 or more (got {settings.area_simplify_m})")
    if len(xy) == 0:
        return np.empty(0, dtype=object)
    parts, index = strokes(*reached_segments(graph, xy, radius))
    # Each path moves by at most the tolerance: fewer vertices to buffer, collinear ones dropped.
    parts = shapely.simplify(parts, settings.area_simplify_m)
    # No thread pool: shapely holds the GIL in union_all (measured: two threads, one core's speed).
    return _buffer(parts, index, offset, xy, radius)


def strokes(rows: np.ndarray, coords: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reached pieces (sorted by source, every source present) joined into few lines: (lines, source index).

    Pieces are first merged into chains between junctions, then chains heading the same way (two classes
    of direction, split at ±45°) are merged through junctions: a street crossing a street becomes two
    lines instead of four. The union of their buffers is the same area, and the union (not the buffering)
    is the cost: 1.3× less work on Liechtenstein's paths, 1.8× less on a street grid.
    """
    lines = shapely.multilinestrings(shapely.linestrings(coords), indices=rows)
    parts, index = shapely.get_parts(shapely.line_merge(lines), return_index=True)
    if len(parts) == 0:  # every source stands on a node with nothing to walk
        return parts, index
    xy, end = shapely.get_coordinates(parts), np.cumsum(shapely.get_num_coordinates(parts))
    d = xy[end - 1] - xy[end - shapely.get_num_coordinates(parts)]  # last minus first point of each chain
    layer = (np.mod(np.arctan2(d[:, 1], d[:, 0]) + np.pi / 4, np.pi) >= np.pi / 2).astype(np.int64)
    key = 2 * index + layer
    order = np.argsort(key, kind="stable")
    keys, dense = np.unique(key[order], return_inverse=True)
    merged = shapely.line_merge(shapely.multilinestrings(parts[order], indices=dense))
    parts, group = shapely.get_parts(merged, return_index=True)
    return parts, keys[group] // 2


def _buffer(parts: np.ndarray, index: np.ndarray, offset: float, xy: np.ndarray, radius: float) -> np.ndarray:
    """Buffer each source's paths (``parts`` of source ``index``) by the access offset, union, clip to the circle.

    GEOS buffers a multi-line in one pass, which beats a union of buffers when the lines are straight
    (street grids: 1.5× less work) and loses when they are winding paths, close together (Liechtenstein:
    twice the work). So sources whose lines average at most ``STRAIGHT_VERTICES`` take the one pass; the
    others buffer each line and union them.
    """
    # Sources that kept no line (standing exactly on a node) get a disc around the door.
    out = shapely.buffer(shapely.points(xy), offset, quad_segs=BUFFER_QUAD_SEGS)
    count = np.bincount(index, minlength=len(xy))
    vertices = np.bincount(index, shapely.get_num_coordinates(parts), minlength=len(xy))
    straight = (count > 0) & (vertices <= STRAIGHT_VERTICES * count)
    one_pass, pick = np.flatnonzero(straight), straight[index]
    if len(one_pass):
        lines = shapely.multilinestrings(parts[pick], indices=np.searchsorted(one_pass, index[pick]))
        out[one_pass] = shapely.buffer(lines, offset, quad_segs=BUFFER_QUAD_SEGS)
    parts, index = parts[~pick], index[~pick]
    if len(parts):
        buffered = shapely.buffer(parts, offset, quad_segs=BUFFER_QUAD_SEGS)
        starts = np.flatnonzero(np.r_[True, np.diff(index) != 0])
        for source, group in zip(index[starts], np.split(buffered, starts[1:]), strict=True):
            out[source] = shapely.union_all(group)
    return shapely.intersection(out, circle_areas(xy, radius))


def _with_sources(graph: WalkGraph, snap: np.ndarray, d0: np.ndarray) -> csr_matrix:
    """The network plus one leaf node per source, joined to its nearest node by the snap distance."""
    base = graph.matrix(extra=len(snap)).tocoo()
    src = graph.n + np.arange(len(snap))
    w = np.maximum(d0, 1e-3)
    rows = np.concatenate([base.row, src, snap])
    cols = np.concatenate([base.col, snap, src])
    data = np.concatenate([base.data, w, w])
    return csr_matrix((data, (rows, cols)), shape=base.shape)


def load_facilities(conn: Connection, where: str = "TRUE") -> pd.DataFrame:
    """Facilities (``id, kind, circle_minutes, candidate, lon, lat``) matching an SQL condition."""
    return query_frame(
        conn,
        "SELECT id, kind, circle_minutes, candidate, ST_X(geom) AS lon, ST_Y(geom) AS lat "
        f"FROM facilities WHERE {where} ORDER BY id"
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


def areas_for(conn: Connection, facilities: pd.DataFrame, mode: str, graph: WalkGraph | None = None,
              epsg: int | None = None) -> tuple[np.ndarray, int]:
    """Metric service areas of ``facilities`` (each at its ``circle_minutes``) in one mode, and the EPSG used."""
    if mode not in MODES:
        from geogrid.errors import GeogridError

        raise GeogridError(f"unknown mode '{mode}': use circle or network")
    if mode == "network":
        graph = graph or load_graph(conn, epsg)
        epsg = graph.epsg
    epsg = epsg or metric_epsg(float(facilities["lon"].mean()), float(facilities["lat"].mean()))
    xy = to_metric(facilities["lon"].to_numpy(), facilities["lat"].to_numpy(), epsg)
    out = np.empty(len(facilities), dtype=object)
    for minutes in np.unique(facilities["circle_minutes"].to_numpy()):
        sel = np.flatnonzero(facilities["circle_minutes"].to_numpy() == minutes)
        radius = radius_m(int(minutes))
        out[sel] = circle_areas(xy[sel], radius) if mode == "circle" else network_areas(graph, xy[sel], radius)
    return out, epsg


def compute_service_areas(conn: Connection, modes: tuple[str, ...] = MODES) -> dict[str, int]:
    """Recompute ``service_areas`` for every facility at its circle, in each mode; returns rows per mode.

    A missing walking network skips ``network`` mode (the circle areas are still written).
    """
    from geogrid.errors import GeogridError

    facilities = load_facilities(conn)
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
        rows = pd.DataFrame({
            "facility_id": facilities["id"].to_numpy(), "minutes": facilities["circle_minutes"].to_numpy(),
            "mode": mode, "geom": to_storage(areas, epsg),
        })
        written[mode] = copy_frame(conn, "service_areas", rows)
    conn.execute(text("ANALYZE service_areas"))
    return written
