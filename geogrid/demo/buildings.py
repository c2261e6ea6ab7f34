"""Compounds and buildings: positions on a jittered slot lattice inside each cell, households per grid.

Households are decided per grid first (a target inside the basic band) and then shared among the grid's
buildings, so every basic grid lands in 300–500 households whatever its shape or building count.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from geogrid.demo.areas import HOSPITAL_NAME, SCHOOL_NAME
from geogrid.demo.geometry import BARRIER_CLEARANCE_M, Lattice, bilinear
from geogrid.demo.names import compound_names, road_names

HOUSEHOLD_TARGET = (330, 470)  # per basic grid: inside 300–500 with room for street-front buildings
SLOT_MARGIN = 0.15  # buildings keep 15% of a cell away from its edges (streets and pavements)
BOUNDARY_HOUSEHOLDS, OUTSIDE_HOUSEHOLDS = 6, 8


def grid_targets(rng: np.random.Generator, grids: pd.DataFrame, total: int | None) -> pd.DataFrame:
    """Households and building count per grid; ``total`` spreads that many buildings evenly (scaled cities)."""
    n = len(grids)
    special = grids["special"].to_numpy()
    per_grid = None
    if total is not None:  # the hospital's three buildings are placed apart from the cells
        share = special != "hospital"
        per_grid = np.full(n, 3)
        per_grid[share] = np.diff(np.linspace(0, total - 3, share.sum() + 1).round().astype(int))
    households = rng.integers(HOUSEHOLD_TARGET[0], HOUSEHOLD_TARGET[1] + 1, n)
    high_rise = rng.random(n) < 0.5
    per_building = np.where(high_rise, rng.uniform(70, 110, n), rng.uniform(30, 40, n))
    count = np.maximum(3, np.round(households / per_building)).astype(int) if per_grid is None else per_grid
    households = np.where(special == "school", 0, np.where(special == "hospital", 40, households))
    if per_grid is None:
        count = np.where(special == "school", 4, np.where(special == "hospital", 3, count))
    units = np.where(high_rise, 3, 2) if per_grid is None else np.ones(n, dtype=int)
    return grids.assign(households=households, buildings=count, units=units)


def cell_counts(grids: pd.DataFrame, ncells: int) -> tuple[np.ndarray, np.ndarray]:
    """Buildings per cell and the grid row of each cell (the hospital places its own buildings)."""
    counts, owner = np.zeros(ncells, dtype=int), np.full(ncells, -1)
    for row, (cells, n, special) in enumerate(zip(grids["cells"], grids["buildings"], grids["special"], strict=True)):
        if special == "hospital":
            continue
        shares = np.diff(np.linspace(0, n, len(cells) + 1).round().astype(int))
        counts[cells], owner[cells] = shares, row
    return counts, owner


def place(
    rng: np.random.Generator, lat: Lattice, cells: pd.DataFrame, counts: np.ndarray, obstacles: shapely.Geometry
) -> pd.DataFrame:
    """Choose ``counts[c]`` slots per cell away from ``obstacles``; rows come out in reading order per cell."""
    m = int(np.ceil(np.sqrt(max(counts.max(), 1) * 2.0))) + 1
    col, row = np.meshgrid(np.arange(m), np.arange(m), indexing="xy")
    span = 1 - 2 * SLOT_MARGIN
    u = SLOT_MARGIN + span * (col.ravel() + 0.5) / m
    v = 1 - SLOT_MARGIN - span * (row.ravel() + 0.5) / m  # slot 0 is the north-west corner
    jitter = rng.uniform(-0.25, 0.25, (len(cells), m * m, 2)) * span / m
    ci, cj = cells["i"].to_numpy()[:, None], cells["j"].to_numpy()[:, None]
    pts = bilinear(
        lat,
        np.broadcast_to(ci, (len(cells), m * m)),
        np.broadcast_to(cj, (len(cells), m * m)),
        u[None, :] + jitter[..., 0],
        v[None, :] + jitter[..., 1],
    )
    valid = np.ones((len(cells), m * m), dtype=bool)
    near = np.flatnonzero(shapely.intersects(cells["geom"].to_numpy(), obstacles.buffer(BARRIER_CLEARANCE_M)))
    if len(near):
        valid[near] = ~shapely.dwithin(shapely.points(pts[near]), obstacles, BARRIER_CLEARANCE_M)
    counts = _fit(counts, valid.sum(axis=1))
    keys = np.where(valid, rng.random(valid.shape), np.inf)
    rank = np.argsort(np.argsort(keys, axis=1), axis=1)
    cell, slot = np.nonzero(valid & (rank < counts[:, None]))
    xy = pts[cell, slot]
    return pd.DataFrame({"cell": cell, "x": xy[:, 0], "y": xy[:, 1]})


def _fit(counts: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Move buildings that do not fit a cell (slots lost to the river or railway) to cells with room,
    so a scaled city has exactly the buildings asked for."""
    fitted = np.minimum(counts, capacity)
    short = int(counts.sum() - fitted.sum())
    while short > 0:
        room = np.flatnonzero(capacity > fitted)[:short]
        if not len(room):
            break
        fitted[room] += 1
        short -= len(room)
    return fitted


def compounds(cells: pd.DataFrame, residential: np.ndarray, obstacles: shapely.Geometry) -> pd.DataFrame:
    """One compound per residential cell: the cell inset by 12 m, minus river, railway and hospital."""
    idx = np.flatnonzero(residential)
    geoms = shapely.difference(
        shapely.buffer(cells["geom"].to_numpy()[idx], -12.0, join_style="mitre"),
        obstacles.buffer(BARRIER_CLEARANCE_M - 5),
    )
    roads = np.asarray(road_names(int(cells["j"].max()) + 1, east_west=True), dtype=object)
    i, j = cells["i"].to_numpy()[idx], cells["j"].to_numpy()[idx]
    frame = pd.DataFrame({"cell": idx, "name": compound_names(len(idx)), "road": roads[j], "road_number": 8 * i + 2})
    frame["address"] = frame["road"] + frame["road_number"].astype(str) + "号"
    frame["geom"] = [shapely.multipolygons(shapely.get_parts(g)) for g in geoms]
    return frame


def building_frame(
    rng: np.random.Generator,
    lat: Lattice,
    cells: pd.DataFrame,
    grids: pd.DataFrame,
    obstacles: shapely.Geometry,
    hole: shapely.Geometry,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Compounds and buildings (metres), with the street-front and outside buildings of the edge cases."""
    counts, owner = cell_counts(grids, len(cells))
    special_by_cell = pd.Series(grids["special"].to_numpy()[owner], index=np.arange(len(cells)))
    homes = compounds(cells, special_by_cell.to_numpy() != "school", obstacles | hole.buffer(10))
    b = place(rng, lat, cells, counts, obstacles | hole.buffer(15))
    b["grid"] = owner[b["cell"]]
    b["number"] = b.groupby("cell").cumcount() + 1
    b = b.merge(
        homes[["cell", "name", "address"]].reset_index().rename(columns={"index": "compound"}), on="cell", how="left"
    )
    b["compound"] = b["compound"].astype("Int64")
    school = special_by_cell.to_numpy()[b["cell"]] == "school"
    b.loc[school, "name"] = SCHOOL_NAME
    b.loc[school, "address"] = "学府路1号"
    b = pd.concat([b, _hospital(grids, hole), _extras(lat)], ignore_index=True)
    b["number"] = b["number"].astype("Int64")
    b["label"] = b["name"] + b["number"].astype(str) + "号楼"
    has_label = b["number"].notna() & b["kind"].isna()
    b.loc[has_label, "address"] = b["address"] + " " + b["label"]
    b.loc[has_label, "name"] = b["label"]
    b["households"] = _share_households(rng, b, grids)
    per_floor = 2 * grids["units"].to_numpy()[b["grid"].clip(lower=0)]
    b["floors"] = np.where(
        b["households"] > 0, np.maximum(2, np.ceil(b["households"] / per_floor)), rng.integers(3, 6, len(b))
    ).astype(int)
    b["units"] = grids["units"].to_numpy()[b["grid"].clip(lower=0)]
    return homes, b.drop(columns=["label"])


def _hospital(grids: pd.DataFrame, hole: shapely.Geometry) -> pd.DataFrame:
    row = int(np.flatnonzero(grids["special"] == "hospital")[0])
    c = hole.centroid
    xy = np.array([[c.x - 18, c.y + 10], [c.x + 15, c.y + 12], [c.x, c.y - 20]])
    return pd.DataFrame(
        {
            "cell": -1,
            "x": xy[:, 0],
            "y": xy[:, 1],
            "grid": row,
            "number": [1, 2, 3],
            "name": HOSPITAL_NAME,
            "address": "长湖街88号",
        }
    )


def _extras(lat: Lattice) -> pd.DataFrame:
    """Street-front shops exactly on shared grid boundaries, and three buildings south of the street."""
    roads = road_names(lat.ny + 1, east_west=True)
    on_edge = np.array([lat.corners[1, 1], lat.corners[3, 1], lat.ns_mid[1, 3]])
    outside = np.array([lat.corners[i, 0] - (0, 70 + 15 * k) for k, i in enumerate((2, 4, 6))])
    return pd.DataFrame(
        {
            "cell": -1,
            "x": np.r_[on_edge[:, 0], outside[:, 0]],
            "y": np.r_[on_edge[:, 1], outside[:, 1]],
            "grid": -1,
            "kind": ["boundary"] * 3 + ["outside"] * 3,
            "name": ["沿街商铺"] * 3 + ["长湖街外商住楼"] * 3,
            "address": [f"{roads[1]}{n}号" for n in (9, 25)]
            + [f"{roads[3]}15号"]
            + [f"{roads[0]}{n}号" for n in (17, 33, 49)],
            "households": [BOUNDARY_HOUSEHOLDS] * 3 + [OUTSIDE_HOUSEHOLDS] * 3,
        }
    )


def _share_households(rng: np.random.Generator, b: pd.DataFrame, grids: pd.DataFrame) -> np.ndarray:
    """Split each grid's household target among its buildings (random weights, exact sum)."""
    out = b["households"].fillna(0).to_numpy(dtype=np.int64)
    inside = np.flatnonzero(b["grid"].to_numpy() >= 0)
    g = b["grid"].to_numpy()[inside]
    w = rng.uniform(0.7, 1.3, len(inside))
    total = np.bincount(g, weights=w, minlength=len(grids))
    target = grids["households"].to_numpy()[g]
    share = np.floor(w / total[g] * target).astype(np.int64)
    deficit = target - np.bincount(g, weights=share, minlength=len(grids))[g]
    rank = pd.Series(g).groupby(g).cumcount().to_numpy()
    out[inside] = share + (rank < deficit)
    return out
