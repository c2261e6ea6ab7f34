"""The demo's base map: named streets along the lattice (every fourth one a main road), the compound paths,
the river and the railway, in the demo's metric frame (``load_demo`` moves them to lon/lat)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

MAIN_EVERY = 4  # every fourth street line is a main road
RIVER_WIDTH_M = 24.0


def _street_lines(points: np.ndarray) -> np.ndarray:
    """One linestring per row of ``points`` (rows, vertices, 2)."""
    return shapely.linestrings(points)


def base_frame(city) -> pd.DataFrame:
    """Rows of :data:`geogrid.basemap.COLUMNS` (geometry in metres) for a demo :class:`~geogrid.demo.city.City`."""
    lat = city.lattice
    ew = np.concatenate([lat.corners[:-1, :, None], lat.ew_mid[:, :, None]], axis=2)  # (nx, ny+1, 2, 2)
    ew_rows = np.concatenate(
        [ew.transpose(1, 0, 2, 3).reshape(lat.ny + 1, -1, 2), lat.corners[-1:, :].transpose(1, 0, 2)], axis=1
    )
    ns = np.concatenate([lat.corners[:, :-1, None], lat.ns_mid[:, :, None]], axis=2)  # (nx+1, ny, 2, 2)
    ns_rows = np.concatenate([ns.reshape(lat.nx + 1, -1, 2), lat.corners[:, -1:]], axis=1)
    j, i = np.arange(lat.ny + 1), np.arange(lat.nx + 1)
    streets = pd.DataFrame(
        {
            "layer": "road",
            "kind": np.concatenate(
                [np.where(j % MAIN_EVERY == 0, "major", "street"), np.where(i % MAIN_EVERY == 0, "major", "street")]
            ),
            "name": [f"纬{n + 1}路" for n in j] + [f"经{n + 1}路" for n in i],
            "geom": np.concatenate([_street_lines(ew_rows), _street_lines(ns_rows)]),
        }
    )
    paths = city.edges.loc[city.edges["kind"] == "path", "geom"].to_numpy()
    others = pd.DataFrame(
        {
            "layer": ["road"] * len(paths) + ["water", "railway"],
            "kind": ["path"] * len(paths) + ["river", "rail"],
            "name": [None] * len(paths) + ["清河", "京包铁路"],
            "geom": [*paths, shapely.buffer(city.river, RIVER_WIDTH_M / 2), city.rail],
        }
    )
    frame = pd.concat([streets, others], ignore_index=True)
    return frame.assign(source_id="demo")
