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
    edges = pd.DataFrame(
        {
            "source": edges["u"].astype("int64").to_numpy(),
            "target": edges["v"].astype("int64").to_numpy(),
            "length_m": edges["length"].astype(float).to_numpy(),
            "geom": edges.geometry.to_numpy(),
        }
    )
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


def merge_network(conn: Connection, nodes: pd.DataFrame, edges: pd.DataFrame) -> tuple[int, int]:
    """Add these nodes and edges to the stored network, in the caller's transaction; returns (nodes, edges) added.

    OpenStreetMap node ids are global, so adjacent extracts meet at the nodes they share (a way crossing the
    border is in both, with the same ids): nodes already stored are kept, an edge already stored between the same
    two nodes (either way round) is not added twice. Before, each ``import osm`` replaced the network, and three
    adjacent extracts left only the last one's. The walks to the nearest station go (the network changed).
    """
    conn.execute(text("TRUNCATE station_walks"))
    conn.execute(
        text(
            "DROP TABLE IF EXISTS new_walk_nodes, new_walk_edges; "
            "CREATE TEMP TABLE new_walk_nodes (LIKE walk_nodes) ON COMMIT DROP; "
            "CREATE TEMP TABLE new_walk_edges (LIKE walk_edges) ON COMMIT DROP"
        )
    )
    copy_frame(
        conn, "new_walk_nodes", pd.DataFrame({"id": nodes["id"], "geom": shapely.points(nodes["lon"], nodes["lat"])})
    )
    added_nodes = conn.execute(
        text("INSERT INTO walk_nodes SELECT * FROM new_walk_nodes ON CONFLICT (id) DO NOTHING")
    ).rowcount
    edge_rows = edges[["source", "target", "length_m", "geom"]].copy()
    edge_rows.insert(0, "id", 0)
    copy_frame(conn, "new_walk_edges", edge_rows)
    fresh = conn.execute(
        text(
            "SELECT DISTINCT ON (least(source, target), greatest(source, target)) source, target, length_m, "
            "ST_AsBinary(geom) FROM new_walk_edges n WHERE NOT EXISTS (SELECT 1 FROM walk_edges e WHERE "
            "(e.source = n.source AND e.target = n.target) OR (e.source = n.target AND e.target = n.source))"
        )
    ).all()
    if fresh:
        rows = pd.DataFrame(fresh, columns=["source", "target", "length_m", "geom"])
        rows["geom"] = shapely.from_wkb([bytes(g) if g is not None else None for g in rows["geom"]])
        rows.insert(0, "id", next_ids(conn, "walk_edges", len(rows)))
        copy_frame(conn, "walk_edges", rows)
    conn.execute(text("ANALYZE walk_nodes; ANALYZE walk_edges"))
    return added_nodes, len(fresh)


def import_osm_network(conn: Connection, path: str | Path, replace: bool = False) -> dict[str, int]:
    """Read the walking network of an ``.osm.pbf`` file and merge it into the stored one (``replace``: instead of
    it); returns the nodes and edges added and the network's size after."""
    nodes, edges = read_osm_walking(path)
    added = replace_network(conn, nodes, edges) if replace else merge_network(conn, nodes, edges)
    total = conn.execute(
        text("SELECT (SELECT count(*) FROM walk_nodes) AS nodes, (SELECT count(*) FROM walk_edges) AS edges")
    ).one()
    return {
        "new_nodes": added[0],
        "new_edges": added[1],
        "network_nodes": int(total.nodes),
        "network_edges": int(total.edges),
    }


@dataclass
class WalkGraph:
    """The stored network in metres: node coordinates, edge endpoints (as node indexes) and lengths."""

    epsg: int
    node_ids: np.ndarray
    xy: np.ndarray  # (n, 2) metric coordinates of nodes
    u: np.ndarray  # edge start, index into node arrays
    v: np.ndarray
    length: np.ndarray  # metres
    tree: cKDTree = field(repr=False)

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
        raise GeogridError(t("no walking network stored: import one with 'geogrid import osm FILE' or 'geogrid demo'"))

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
