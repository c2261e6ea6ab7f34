"""The walking network: import from OpenStreetMap into ``walk_nodes``/``walk_edges`` and load it as a graph.

The stored network is undirected (people walk both ways along one-way streets). Loaded, it is node
coordinates in a metric CRS and edges as node pairs with lengths (a SciPy sparse matrix on demand), searched
for every facility at once by :mod:`geogrid.coverage.walk` and :mod:`geogrid.stations`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.sparse import csr_matrix
from scipy.spatial import cKDTree
from sqlalchemy import Connection, text

from geogrid.crs import metric_epsg
from geogrid.db.bulk import copy_frame, fetch_points, next_ids
from geogrid.errors import GeogridError, InputError
from geogrid.i18n import t


def read_osm_walking(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Nodes (``id, lon, lat``) and edges (``source, target, length_m, geom``) of an ``.osm.pbf`` walking graph."""
    path = Path(path)
    if not path.is_file():
        raise InputError(t("file not found"), file=str(path))
    import pyrosm

    try:
        nodes, edges = pyrosm.OSM(str(path)).get_network("walking", nodes=True)
    except Exception as exc:
        raise InputError(t("cannot read the walking network: {error}", error=exc), file=str(path)) from None
    if nodes is None or edges is None or len(edges) == 0:
        raise InputError(t("no walkable ways (highway=footway/path/residential/...) in this file"), file=str(path))
    nodes = pd.DataFrame({"id": nodes["id"].astype("int64"), "lon": nodes["lon"], "lat": nodes["lat"]})
    nodes = nodes.drop_duplicates("id")
    edges = pd.DataFrame({
        "source": edges["u"].astype("int64").to_numpy(),
        "target": edges["v"].astype("int64").to_numpy(),
        "length_m": edges["length"].astype(float).to_numpy(),
        "geom": edges.geometry.to_numpy(),
    })
    edges = edges[edges["source"] != edges["target"]]
    return nodes, edges.reset_index(drop=True)


def replace_network(conn: Connection, nodes: pd.DataFrame, edges: pd.DataFrame) -> tuple[int, int]:
    """Replace the stored network with these nodes and edges, in the caller's transaction.

    The walks to the nearest station were measured on the old network: they go too (``geogrid compute``
    measures them again; until then lookups give straight-line distances).
    """
    conn.execute(text("TRUNCATE walk_edges, walk_nodes, station_walks"))
    node_rows = pd.DataFrame({"id": nodes["id"], "geom": shapely.points(nodes["lon"], nodes["lat"])})
    copy_frame(conn, "walk_nodes", node_rows)
    edge_rows = edges[["source", "target", "length_m", "geom"]].copy()
    edge_rows.insert(0, "id", next_ids(conn, "walk_edges", len(edge_rows)))
    copy_frame(conn, "walk_edges", edge_rows)
    conn.execute(text("ANALYZE walk_nodes; ANALYZE walk_edges"))
    return len(node_rows), len(edge_rows)


def import_osm_network(conn: Connection, path: str | Path) -> tuple[int, int]:
    """Read the walking network of an ``.osm.pbf`` file and store it; returns (nodes, edges) written."""
    nodes, edges = read_osm_walking(path)
    return replace_network(conn, nodes, edges)


@dataclass
class WalkGraph:
    """The stored network in metres: node coordinates, edge endpoints (as node indexes) and lengths."""

    epsg: int
    node_ids: np.ndarray
    xy: np.ndarray  # (n, 2) metric coordinates of nodes
    u: np.ndarray  # edge start, index into node arrays
    v: np.ndarray
    length: np.ndarray  # metres
    tree: cKDTree | None = field(repr=False)

    @property
    def n(self) -> int:
        return len(self.node_ids)

    def matrix(self, extra: int = 0) -> csr_matrix:
        """Symmetric sparse adjacency in metres, with ``extra`` spare node slots (parallel edges merged at load)."""
        size = self.n + extra
        rows = np.concatenate([self.u, self.v])
        cols = np.concatenate([self.v, self.u])
        # Zero-length edges would vanish from a sparse matrix; a millimetre keeps them connected.
        weights = np.maximum(np.concatenate([self.length, self.length]), 1e-3)
        return csr_matrix((weights, (rows, cols)), shape=(size, size))

    def snap(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest node index and its distance in metres for metric points ``xy`` (n, 2)."""
        dist, idx = self.tree.query(xy)
        return idx.astype(np.int64), dist


def load_graph(conn: Connection, epsg: int | None = None) -> WalkGraph:
    """Load ``walk_nodes``/``walk_edges`` as a :class:`WalkGraph`; edges to unknown nodes are dropped."""
    nodes = fetch_points(conn, "SELECT id, ST_X(geom), ST_Y(geom) FROM walk_nodes ORDER BY id")
    if nodes.empty:
        raise GeogridError(t("no walking network stored: import one with 'geogrid import osm FILE' or "
                             "'geogrid demo'"))

    edges = conn.execute(text("SELECT source, target, length_m FROM walk_edges")).all()
    frame = pd.DataFrame(edges, columns=["source", "target", "length_m"])
    ids = nodes["id"].to_numpy()
    epsg = epsg or metric_epsg(float(nodes["x"].mean()), float(nodes["y"].mean()))
    mx, my = Transformer.from_crs(4326, epsg, always_xy=True).transform(nodes["x"].to_numpy(), nodes["y"].to_numpy())
    xy = np.column_stack([mx, my])
    u = np.searchsorted(ids, frame["source"].to_numpy())
    v = np.searchsorted(ids, frame["target"].to_numpy())
    u, v = np.minimum(u, len(ids) - 1), np.minimum(v, len(ids) - 1)
    ok = (ids[u] == frame["source"].to_numpy()) & (ids[v] == frame["target"].to_numpy())
    u, v, length = _shortest_parallel(u[ok], v[ok], frame["length_m"].to_numpy(dtype=float)[ok])
    return WalkGraph(epsg, ids, xy, u, v, length, cKDTree(xy))


def _shortest_parallel(u: np.ndarray, v: np.ndarray, length: np.ndarray) -> tuple[np.ndarray, ...]:
    """Drop loops and keep the shortest of parallel edges (the network is undirected)."""
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    order = np.lexsort((length, hi, lo))
    lo, hi, length = lo[order], hi[order], length[order]
    keep = (lo != hi) & np.r_[True, (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])]
    return lo[keep], hi[keep], length[keep]
