"""The demo street's places in a local metric frame: a jittered lattice of grid cells, and what it tiles.

Every cell edge is computed once (corner vertices plus a jittered midpoint) and shared by both cells on
it, so grids tile communities and communities tile the street exactly: no gaps, no overlaps, identical
vertices after the transform to lon/lat. Deliberate edge cases sit at fixed cells (see ``EDGE_CELLS``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, Polygon

CELL_M = 250.0  # side of a grid cell in metres
COMMUNITY_CELLS = 3  # a community is a block of 3×3 cells (fewer at the edges)
STREET_COMMUNITIES = 5  # a street office is a block of 5×5 communities (only when scaled)
DEFAULT_CELLS = (8, 5)  # the default city: 8×5 cells, 6 communities, one street
MIN_CELLS = (8, 5)
BARRIER_CLEARANCE_M = 25.0  # no building within this distance of the river or the railway
# Fixed cells of the deliberate edge cases (column i west→east, row j south→north).
MULTI_CELLS = ((0, 0), (2, 0))  # one grid of two separate parts (a MultiPolygon)
HOLE_CELL = (4, 1)  # a basic grid with a hole, filled by the hospital's dedicated grid
SCHOOL_CELL = (7, 0)  # a school's dedicated grid
RIVER_ROW = 2  # the river runs east–west through this row of cells
RAIL_COLUMN = 5  # the railway runs north–south through this column
BRIDGE_EVERY = 6  # a bridge on every 6th north–south street (columns 1, 7, 13 …)
UNDERPASS_EVERY = 5  # an underpass on every 5th east–west street (rows 0, 5, 10 …)


@dataclass
class Lattice:
    """Shared corner vertices and edge midpoints of an ``nx`` × ``ny`` block of cells (metres)."""

    nx: int
    ny: int
    corners: np.ndarray  # (nx+1, ny+1, 2)
    ew_mid: np.ndarray  # (nx, ny+1, 2): midpoints of east–west edges
    ns_mid: np.ndarray  # (nx+1, ny, 2): midpoints of north–south edges

    @property
    def width(self) -> float:
        return self.nx * CELL_M

    @property
    def height(self) -> float:
        return self.ny * CELL_M


def make_lattice(rng: np.random.Generator, nx: int, ny: int) -> Lattice:
    """Corners jittered by up to 12% of a cell, edge midpoints by up to 8% across their edge."""
    gi, gj = np.meshgrid(np.arange(nx + 1), np.arange(ny + 1), indexing="ij")
    corners = np.stack([gi, gj], axis=-1) * CELL_M + rng.uniform(-0.12, 0.12, (nx + 1, ny + 1, 2)) * CELL_M
    ew_mid = (corners[:-1, :] + corners[1:, :]) / 2
    ew_mid[..., 1] += rng.uniform(-0.08, 0.08, ew_mid.shape[:2]) * CELL_M
    ns_mid = (corners[:, :-1] + corners[:, 1:]) / 2
    ns_mid[..., 0] += rng.uniform(-0.08, 0.08, ns_mid.shape[:2]) * CELL_M
    return Lattice(nx, ny, corners, ew_mid, ns_mid)


def cell_rings(lat: Lattice) -> np.ndarray:
    """(nx*ny, 9, 2) closed counter-clockwise rings, cell index ``j * nx + i``."""
    c, e, n = lat.corners, lat.ew_mid, lat.ns_mid
    ring = np.stack(
        [
            c[:-1, :-1],
            e[:, :-1],
            c[1:, :-1],
            n[1:, :],
            c[1:, 1:],
            e[:, 1:],
            c[:-1, 1:],
            n[:-1, :],
            c[:-1, :-1],
        ],
        axis=2,
    )  # (nx, ny, 9, 2)
    return ring.transpose(1, 0, 2, 3).reshape(lat.nx * lat.ny, 9, 2)


def bilinear(lat: Lattice, i: np.ndarray, j: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Points at parameters (u, v) ∈ [0, 1]² of cells (i, j), interpolated between the four corners."""
    c = lat.corners
    u, v = u[..., None], v[..., None]
    return (1 - u) * (1 - v) * c[i, j] + u * (1 - v) * c[i + 1, j] + u * v * c[i + 1, j + 1] + (1 - u) * v * c[i, j + 1]


def barriers(lat: Lattice) -> tuple[LineString, LineString]:
    """A meandering river through row ``RIVER_ROW`` and a straight railway through column ``RAIL_COLUMN``."""
    x = np.linspace(-300, lat.width + 300, 200)
    river = LineString(np.column_stack([x, (RIVER_ROW + 0.5) * CELL_M + 0.15 * CELL_M * np.sin(x / 150)]))
    y0, y1 = -300.0, lat.height + 300
    slope = 0.24 * CELL_M / lat.height
    rail = LineString([((RAIL_COLUMN + 0.5) * CELL_M + slope * (y - lat.height / 2), y) for y in (y0, y1)])
    return river, rail


def hole_polygon(lat: Lattice) -> Polygon:
    """An irregular hexagon (radius ~45 m) in the middle of ``HOLE_CELL``: the hospital."""
    i, j = HOLE_CELL
    centre = bilinear(lat, np.array(i), np.array(j), np.array(0.5), np.array(0.5))
    angles = np.linspace(0, 2 * np.pi, 7)[:-1]
    radius = np.array([48, 42, 50, 44, 46, 40.0])
    return Polygon(np.column_stack([centre[0] + radius * np.cos(angles), centre[1] + radius * np.sin(angles)]))


def cell_frame(lat: Lattice) -> pd.DataFrame:
    """One row per cell: i, j, community block, street block and polygon."""
    gi, gj = np.meshgrid(np.arange(lat.nx), np.arange(lat.ny), indexing="xy")
    i, j = gi.ravel(), gj.ravel()
    ci, cj = i // COMMUNITY_CELLS, j // COMMUNITY_CELLS
    return pd.DataFrame(
        {
            "i": i,
            "j": j,
            "ci": ci,
            "cj": cj,
            "si": ci // STREET_COMMUNITIES,
            "sj": cj // STREET_COMMUNITIES,
            "geom": shapely.polygons(cell_rings(lat)),
        }
    )


def grid_frame(cells: pd.DataFrame, hole: Polygon) -> pd.DataFrame:
    """Grids from cells: one per cell, except the MultiPolygon pair, the holed cell and its hospital grid.

    Columns: ``cells`` (cell indices), ``kind``, ``special`` (None, multi, hole, hospital, school), ``i``/``j``
    of the cell that places it in reading order, ``geom``.
    """
    nx = int(cells["i"].max()) + 1
    index = {(i, j): j * nx + i for i, j in MULTI_CELLS + (HOLE_CELL, SCHOOL_CELL)}
    multi = [index[c] for c in MULTI_CELLS]
    rows = []
    for c in cells.itertuples():
        if c.Index == multi[1]:
            continue
        special, kind, parts, geom = None, "basic", [c.Index], c.geom
        if c.Index == multi[0]:
            special, parts = "multi", multi
            geom = shapely.multipolygons([cells.geom[k] for k in multi])
        elif c.Index == index[HOLE_CELL]:
            special, geom = "hole", Polygon(c.geom.exterior.coords, [hole.exterior.coords])
        elif c.Index == index[SCHOOL_CELL]:
            special, kind = "school", "dedicated"
        rows.append((parts, kind, special, c.i, c.j, c.ci, c.cj, c.si, c.sj, geom))
        if special == "hole":
            rows.append(([c.Index], "dedicated", "hospital", c.i, c.j, c.ci, c.cj, c.si, c.sj, hole))
    grids = pd.DataFrame(rows, columns=["cells", "kind", "special", "i", "j", "ci", "cj", "si", "sj", "geom"])
    grids["geom"] = [shapely.multipolygons(shapely.get_parts(g)) for g in grids["geom"]]
    return grids


def dissolve(geoms: pd.Series, keys: pd.Series) -> pd.Series:
    """Union of polygons per key (cells share exact edges, so the union has no slivers)."""
    return geoms.groupby(keys).agg(lambda g: shapely.union_all(g.to_numpy()))
