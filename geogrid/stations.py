"""The walk to the nearest service station (党群服务站) from every node of the walking network, for lookups.

One multi-source Dijkstra (SciPy's ``min_only``) from all stations at once: each station is a leaf tied to
its nearest node by its own straight walk, so a node's distance includes the station's few metres to the
path, and ``sources`` says which station it is. A lookup adds the straight walk from the point to its
nearest node, as the network service areas do.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from sqlalchemy import Connection, text

from geogrid.coverage.compute import load_facilities, to_metric
from geogrid.db.bulk import copy_frame
from geogrid.model import SERVICE_STATION
from geogrid.network import WalkGraph, load_graph


def nearest_station_walks(graph: WalkGraph, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every node: metres along the network to the nearest of the stations at metric ``xy``, and its index.

    Nodes no station can reach (another component) get ``inf`` and index -1.
    """
    snap, d0 = graph.snap(xy)
    n, k = graph.n, len(xy)
    base = graph.matrix(extra=k).tocoo()
    leaves = n + np.arange(k)
    weight = np.maximum(d0, 1e-3)  # a station on a node still needs a nonzero edge to stay in the matrix
    matrix = csr_matrix(
        (
            np.concatenate([base.data, weight, weight]),
            (np.concatenate([base.row, leaves, snap]), np.concatenate([base.col, snap, leaves])),
        ),
        shape=base.shape,
    )
    dist, _, source = dijkstra(matrix, indices=leaves, min_only=True, return_predecessors=True)
    dist, source = dist[:n], source[:n]
    return dist, np.where(np.isfinite(dist), source - n, -1)


def store_station_walks(conn: Connection) -> int:
    """Refill ``station_walks`` (node, nearest station, metres) from the stored network and stations."""
    conn.execute(text("TRUNCATE station_walks"))
    stations = load_facilities(conn, f"kind = '{SERVICE_STATION}' AND NOT candidate")
    if stations.empty or not conn.scalar(text("SELECT EXISTS (SELECT 1 FROM walk_nodes)")):
        return 0
    graph = load_graph(conn)
    dist, which = nearest_station_walks(graph, to_metric(stations["lon"], stations["lat"], graph.epsg))
    reached = which >= 0
    rows = pd.DataFrame(
        {
            "node_id": graph.node_ids[reached],
            "station_id": stations["id"].to_numpy()[which[reached]],
            "walk_m": dist[reached],
        }
    )
    written = copy_frame(conn, "station_walks", rows)
    conn.execute(text("ANALYZE station_walks"))
    return written
