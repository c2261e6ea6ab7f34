"""The demo's walking network: streets along every cell edge, a path through each compound, and a river
and a railway that only a few bridges and underpasses cross (walking coverage < straight-line coverage)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from geogrid.demo.geometry import BRIDGE_EVERY, UNDERPASS_EVERY, Lattice


def _ids(shape: tuple[int, int], offset: int) -> np.ndarray:
    return offset + np.arange(shape[0] * shape[1]).reshape(shape)


def walk_network(
    lat: Lattice, homes: pd.DataFrame, cells: pd.DataFrame, river: shapely.Geometry, rail: shapely.Geometry
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Nodes (0-based ``node``, x, y) and undirected edges (source, target, length_m, geom) in metres."""
    nx, ny = lat.nx, lat.ny
    corner = _ids((nx + 1, ny + 1), 0)
    ew = _ids((nx, ny + 1), corner.size)
    ns = _ids((nx + 1, ny), corner.size + ew.size)
    centre_pts = shapely.point_on_surface(homes["geom"].to_numpy())
    centre = corner.size + ew.size + ns.size + np.arange(len(homes))
    xy = np.concatenate(
        [
            lat.corners.reshape(-1, 2),
            lat.ew_mid.reshape(-1, 2),
            lat.ns_mid.reshape(-1, 2),
            shapely.get_coordinates(centre_pts),
        ]
    )

    hi, hj = np.meshgrid(np.arange(nx), np.arange(ny + 1), indexing="ij")
    vi, vj = np.meshgrid(np.arange(nx + 1), np.arange(ny), indexing="ij")
    ci, cj = cells["i"].to_numpy()[homes["cell"]], cells["j"].to_numpy()[homes["cell"]]
    parts = [
        (corner[hi, hj], ew[hi, hj], "ew", hj),
        (ew[hi, hj], corner[hi + 1, hj], "ew", hj),
        (corner[vi, vj], ns[vi, vj], "ns", vi),
        (ns[vi, vj], corner[vi, vj + 1], "ns", vi),
        (ew[ci, cj], centre, "path", ci),
        (centre, ew[ci, cj + 1], "path", ci),
    ]
    edges = pd.concat(
        [
            pd.DataFrame({"source": s.ravel(), "target": t.ravel(), "kind": k, "line": line.ravel()})
            for s, t, k, line in parts
        ],
        ignore_index=True,
    )
    lines = shapely.linestrings(np.stack([xy[edges["source"]], xy[edges["target"]]], axis=1))
    kind, line = edges["kind"].to_numpy(), edges["line"].to_numpy()
    bridge = (kind == "ns") & (line % BRIDGE_EVERY == 1)
    underpass = (kind == "ew") & (line % UNDERPASS_EVERY == 0)
    keep = (~shapely.intersects(lines, river) | bridge) & (~shapely.intersects(lines, rail) | underpass)
    edges = edges.assign(geom=lines, length_m=shapely.length(lines))[keep].reset_index(drop=True)
    nodes = pd.DataFrame({"node": np.arange(len(xy)), "x": xy[:, 0], "y": xy[:, 1]})
    return nodes, edges[["source", "target", "length_m", "geom", "kind"]]
