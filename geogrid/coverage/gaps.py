"""Where coverage fails: uncovered buildings grouped into clusters, and grids no station serves.

Clusters are single-linkage groups of uncovered buildings closer than ``link_m`` to each other (DBSCAN with
one point per core), found with a KD-tree and SciPy connected components in metres.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pyproj import Transformer
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from sqlalchemy import Connection, text

from geogrid.coverage.stats import Query, grids, with_coverage
from geogrid.crs import metric_epsg

GRID_REACH_SQL = """
SELECT g.id AS grid_id,
       (SELECT count(*) FROM facilities f WHERE f.grid_id = g.id AND NOT f.candidate
          AND (CAST(:kind AS text) IS NULL OR f.kind = :kind)) AS stations_inside,
       EXISTS (SELECT 1 FROM service_areas s JOIN facilities f ON f.id = s.facility_id
               WHERE s.minutes = :minutes AND s.mode = :mode AND NOT f.candidate
                 AND (CAST(:kind AS text) IS NULL OR f.kind = :kind) AND ST_Intersects(s.geom, g.geom)) AS reached
FROM grids g WHERE g.valid_to IS NULL
"""


def uncovered(conn: Connection, q: Query) -> pd.DataFrame:
    """Uncovered buildings with households, in the query's grids (all buildings in a grid when no filter)."""
    frame = with_coverage(conn, q)
    in_scope = grids(conn, q.community)
    frame = frame[~frame["covered"] & (frame["households"] > 0) & frame["grid_id"].isin(in_scope["grid_id"])]
    codes = in_scope.set_index("grid_id")["code"]
    return frame.assign(grid_code=frame["grid_id"].map(codes)).reset_index(drop=True)


def cluster(frame: pd.DataFrame, link_m: float) -> tuple[np.ndarray, np.ndarray, int]:
    """Cluster label per building (single linkage at ``link_m`` metres), the metric xy and the EPSG used."""
    if frame.empty:
        return np.empty(0, dtype=np.int64), np.empty((0, 2)), 4326
    epsg = metric_epsg(float(frame["x"].mean()), float(frame["y"].mean()))
    mx, my = Transformer.from_crs(4326, epsg, always_xy=True).transform(frame["x"].to_numpy(), frame["y"].to_numpy())
    xy = np.column_stack([mx, my])
    pairs = cKDTree(xy).query_pairs(link_m, output_type="ndarray")
    n = len(xy)
    adjacency = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    return connected_components(adjacency, directed=False)[1], xy, epsg


def clusters(frame: pd.DataFrame, labels: np.ndarray, xy: np.ndarray, epsg: int) -> list[dict]:
    """Clusters of uncovered buildings, most households first, each with its centre and extent in metres."""
    if not len(labels):
        return []
    h = frame["households"].to_numpy(dtype=float)
    weight = np.maximum(h, 1e-9)
    count = np.bincount(labels)
    cx = np.bincount(labels, xy[:, 0] * weight) / np.bincount(labels, weight)
    cy = np.bincount(labels, xy[:, 1] * weight) / np.bincount(labels, weight)
    spread = np.zeros(len(count))
    np.maximum.at(spread, labels, np.hypot(xy[:, 0] - cx[labels], xy[:, 1] - cy[labels]))
    lon, lat = Transformer.from_crs(epsg, 4326, always_xy=True).transform(cx, cy)
    codes = frame.groupby(labels)["grid_code"].agg(lambda s: sorted(set(s.dropna())))
    out = [
        {
            "cluster": int(i),
            "buildings": int(count[i]),
            "households": int(np.bincount(labels, h)[i]),
            "residents": int(np.bincount(labels, frame["residents"].to_numpy(dtype=float))[i]),
            "lon": round(float(lon[i]), 6),
            "lat": round(float(lat[i]), 6),
            "radius_m": round(float(spread[i]), 1),
            "grids": codes.loc[i],
        }
        for i in range(len(count))
    ]
    return sorted(out, key=lambda c: (-c["households"], c["cluster"]))


def grid_flags(conn: Connection, q: Query) -> list[dict]:
    """Grids with no station of the kind inside them, or that no service area reaches at all."""
    scope = grids(conn, q.community)
    params = {"kind": q.kind, "minutes": q.minutes, "mode": q.mode}
    reach = pd.DataFrame(
        conn.execute(text(GRID_REACH_SQL), params).mappings().all(), columns=["grid_id", "stations_inside", "reached"]
    )
    merged = scope.merge(reach, on="grid_id")
    flagged = merged[(merged["stations_inside"] == 0) | ~merged["reached"]]
    return [
        {
            "code": r.code,
            "name": r.name,
            "stations_inside": int(r.stations_inside),
            "reached": bool(r.reached),
            "no_station": r.stations_inside == 0,
        }
        for r in flagged.itertuples()
    ]


def gaps(conn: Connection, q: Query, link_m: float = 100.0, limit: int = 1000) -> dict:
    """Uncovered buildings (up to ``limit``, most households first), their clusters, and flagged grids."""
    q = q.resolved(conn)
    frame = uncovered(conn, q)
    labels, xy, epsg = cluster(frame, link_m)
    groups = clusters(frame, labels, xy, epsg)
    listed = frame.assign(cluster=labels).sort_values(["households", "id"], ascending=[False, True]).head(limit)
    return {
        "query": {"minutes": q.minutes, "mode": q.mode, "kind": q.kind, "community": q.community, "link_m": link_m},
        "summary": {
            "buildings": len(frame),
            "households": int(frame["households"].sum()),
            "residents": int(frame["residents"].sum()),
            "clusters": len(groups),
        },
        "clusters": groups,
        "buildings": [
            {
                "id": int(r.id),
                "lon": round(r.x, 6),
                "lat": round(r.y, 6),
                "households": int(r.households),
                "residents": int(r.residents),
                "grid": r.grid_code,
                "cluster": int(r.cluster),
            }
            for r in listed.itertuples()
        ],
        "grids": grid_flags(conn, q),
    }
