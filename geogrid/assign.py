"""Bulk assignment: every building to the grid that contains it, facilities likewise.

Reading a million points out packed in one value per page range (read in parallel), testing them against
the grids in memory and writing the narrow ``building_assignments`` table back with binary COPY is several
times faster than an ``UPDATE buildings ... FROM grids`` join, which rewrites every building row and its
spatial indexes. Where the time went at 1M buildings, and what each step saved: making a Point object per
building (about a second: the cells and ``intersects_xy`` test coordinates), the server's sort of the points
(sorted here), hex-encoded WKB of the grids (read binary), and the COPY waiting for the tests (they overlap).

Boundary rule (shared with lookup and planning): a point on the boundary of several grids, or in their
overlap, belongs to the covering grid with the lowest code. A building in no grid gets the nearest grid
and its distance in metres.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from sqlalchemy import Connection, text

from geogrid.crs import metric_epsg
from geogrid.db.bulk import binary_rows, copy_binary, fetch_geoms, fetch_point_table, fetch_points, query_frame

CURRENT_GRIDS_SQL = "SELECT id, code, ST_AsBinary(geom) AS wkb FROM grids WHERE valid_to IS NULL ORDER BY code"


@dataclass(frozen=True)
class _Cells:
    """Grid boxes registered in a regular lattice of cells: the candidate grids of a point without Point objects.

    Making a million Shapely points costs about a second here, more than the tests themselves; a point's cell is
    two divisions, and ``intersects_xy`` tests coordinates directly against the prepared polygons.
    """

    x0: float
    y0: float
    w: float
    h: float
    nx: int
    ny: int
    start: np.ndarray  # offsets into ``grid`` per cell (nx * ny + 1)
    grid: np.ndarray  # grid indices registered in each cell, ascending (code order)
    boxes: tuple[np.ndarray, ...]  # minx, miny, maxx, maxy of ``grid``'s boxes, one array each (gathers fast)

    MAX_CELLS_PER_GRID = 64

    @classmethod
    def build(cls, bounds: np.ndarray) -> _Cells:
        """Cells half the median grid box on each side: a box spans about nine, a cell holds two or three boxes."""
        usable = np.flatnonzero(~np.isnan(bounds).any(axis=1))
        b = bounds[usable]
        if not len(b):
            return cls(0.0, 0.0, 1.0, 1.0, 0, 0, np.zeros(1, np.int64), usable, tuple(bounds.T))
        x0, y0 = float(b[:, 0].min()), float(b[:, 1].min())
        span_x, span_y = float(b[:, 2].max()) - x0, float(b[:, 3].max()) - y0
        w = max(float(np.median(b[:, 2] - b[:, 0])) / 2, span_x / 4096, 1e-9)
        h = max(float(np.median(b[:, 3] - b[:, 1])) / 2, span_y / 4096, 1e-9)
        grow = math.sqrt(max(1.0, (span_x / w + 1) * (span_y / h + 1) / (cls.MAX_CELLS_PER_GRID * len(b) + 4096)))
        w, h = w * grow, h * grow  # grids scattered far apart: fewer, larger cells
        gx0, gx1 = _cell(b[:, 0], x0, w), _cell(b[:, 2], x0, w)
        gy0, gy1 = _cell(b[:, 1], y0, h), _cell(b[:, 3], y0, h)
        nx, ny = int(gx1.max()) + 1, int(gy1.max()) + 1
        wide = gx1 - gx0 + 1
        count = wide * (gy1 - gy0 + 1)
        owner = np.repeat(np.arange(len(b)), count)
        local = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        cell = (gy0[owner] + local // wide[owner]) * nx + gx0[owner] + local % wide[owner]
        order = np.lexsort((owner, cell))  # by cell, then by grid: code order within a cell
        start = np.zeros(nx * ny + 1, dtype=np.int64)
        np.cumsum(np.bincount(cell, minlength=nx * ny), out=start[1:])
        grid = usable[owner[order]]
        return cls(x0, y0, w, h, nx, ny, start, grid, tuple(np.ascontiguousarray(bounds[grid].T)))

    def candidates(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pairs (point, grid) whose grid box holds the point (edges included), by point, then by grid."""
        fx, fy = np.floor((x - self.x0) / self.w), np.floor((y - self.y0) / self.h)
        pts = np.flatnonzero((fx >= 0) & (fx < self.nx) & (fy >= 0) & (fy < self.ny))  # NaN fails every test
        cell = fy[pts].astype(np.int64) * self.nx + fx[pts].astype(np.int64)
        first = self.start[cell]
        count = self.start[cell + 1] - first
        pts = np.repeat(pts, count)
        at = np.arange(len(pts)) + np.repeat(first - (np.cumsum(count) - count), count)
        minx, miny, maxx, maxy = self.boxes
        px, py = x[pts], y[pts]
        boxed = np.flatnonzero((minx[at] <= px) & (px <= maxx[at]) & (miny[at] <= py) & (py <= maxy[at]))
        return pts[boxed], self.grid[at[boxed]]


def _cell(v: np.ndarray, origin: float, size: float) -> np.ndarray:
    """Cell numbers along one axis; monotonic in ``v``, so a point inside a box falls in the box's cells."""
    return np.floor((v - origin) / size).astype(np.int64)


@dataclass
class GridIndex:
    """Current grids sorted by code, their polygons prepared; cells for containment, an STRtree for nearest."""

    ids: np.ndarray
    codes: np.ndarray
    geoms: np.ndarray

    @classmethod
    def load(cls, conn: Connection) -> GridIndex:
        grids = fetch_geoms(conn, CURRENT_GRIDS_SQL, binary=True)
        geoms = grids["geom"].to_numpy() if len(grids) else np.empty(0, dtype=object)
        return cls(grids["id"].to_numpy(dtype=np.int64), grids["code"].to_numpy(dtype=object), geoms)

    @cached_property
    def tree(self) -> shapely.STRtree:
        return shapely.STRtree(self.geoms)

    @cached_property
    def cells(self) -> _Cells:
        shapely.prepare(self.geoms)
        return _Cells.build(shapely.bounds(self.geoms).reshape(-1, 4))

    def containing(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Index (into this GridIndex) of the grid covering each point, -1 where none does.

        GEOS releases the GIL, so the points are split across the machine's cores.
        """
        out = np.full(len(x), -1, dtype=np.int64)
        if len(x) == 0 or len(self.ids) == 0:
            return out
        cells = self.cells
        cuts = np.linspace(0, len(x), max(1, min(os.cpu_count() or 1, len(x) // 50_000)) + 1).astype(np.int64)
        spans = list(zip(cuts[:-1], cuts[1:], strict=True))
        with ThreadPoolExecutor(len(spans)) as pool:
            for (lo, hi), found in zip(
                spans, pool.map(lambda s: self._containing(cells, x[s[0] : s[1]], y[s[0] : s[1]]), spans), strict=True
            ):
                out[lo:hi] = found
        return out

    def _containing(self, cells: _Cells, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        out = np.full(len(x), -1, dtype=np.int64)
        pts, grids = cells.candidates(x, y)
        hit = shapely.intersects_xy(self.geoms[grids], x[pts], y[pts])  # boundary included, as ST_Intersects
        pts, grids = pts[hit], grids[hit]
        # Candidates come by point, then by grid index (code order): the first hit of a point is its lowest code.
        first = np.flatnonzero(np.diff(pts, prepend=-1))
        out[pts[first]] = grids[first]
        return out

    def ids_or_zero(self, index: np.ndarray) -> np.ndarray:
        """Grid ids for indices into this GridIndex, 0 where the index is -1 (a NULL in the caller's mask)."""
        if not len(self.ids):
            return np.zeros(len(index), dtype=np.int64)
        return np.where(index >= 0, self.ids[np.maximum(index, 0)], 0)

    def ids_at(self, index: np.ndarray) -> list[int | None]:
        """Grid ids for indices into this GridIndex, None where the index is -1."""
        return [int(self.ids[i]) if i >= 0 else None for i in index]

    def nearest(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Index of the nearest grid and the distance in metres, measured in a projected CRS."""
        if len(x) == 0 or len(self.ids) == 0:
            return np.full(len(x), -1, dtype=np.int64), np.full(len(x), np.nan)
        epsg = metric_epsg(float(np.mean(x)), float(np.mean(y)))
        to_metric = Transformer.from_crs(4326, epsg, always_xy=True)
        mx, my = to_metric.transform(x, y)
        projected = shapely.transform(self.geoms, lambda c: np.column_stack(to_metric.transform(c[:, 0], c[:, 1])))
        pts, grids = shapely.STRtree(projected).query_nearest(
            shapely.points(mx, my), return_distance=False, all_matches=False
        )
        distance = np.full(len(x), np.nan)
        index = np.full(len(x), -1, dtype=np.int64)
        index[pts] = grids
        distance[pts] = shapely.distance(shapely.points(mx[pts], my[pts]), projected[grids])
        return index, distance


@dataclass
class AssignmentReport:
    buildings: int
    assigned: int
    outside: pd.DataFrame  # building_id, source_id, address, nearest_grid_code, distance_m
    facilities: int
    facilities_assigned: int


SLICE = 131_072  # buildings tested at a time: the server stores one slice while the next is tested
COLUMNS = ("building_id", "grid_id", "nearest_grid_id", "distance_m")


@dataclass
class _Found:
    """What the assignment found for every building (index into the GridIndex, -1: none), filled slice by slice."""

    inside: np.ndarray
    outside: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    near: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    distance: np.ndarray = field(default_factory=lambda: np.empty(0))


def assign_buildings(conn: Connection, grids: GridIndex | None = None) -> pd.DataFrame:
    """Recompute ``building_assignments`` for every building; returns the rows written."""
    grids = grids or GridIndex.load(conn)
    # Buildings may be read but not changed until the new assignment is written.
    conn.execute(text("LOCK TABLE buildings IN SHARE MODE"))
    pts = fetch_point_table(conn, "buildings")
    ids = pts["id"].to_numpy()
    found = _Found(np.full(len(ids), -1, dtype=np.int64))
    _clear_assignments(conn)
    copy_binary(
        conn, "building_assignments", COLUMNS, _rows(grids, ids, pts["x"].to_numpy(), pts["y"].to_numpy(), found)
    )
    _index_assignments(conn)
    ins = np.flatnonzero(found.inside >= 0)
    return _rows_written(ids[ins], grids.ids[found.inside[ins]], ids[found.outside], grids, found)


def _rows(grids: GridIndex, ids: np.ndarray, x: np.ndarray, y: np.ndarray, found: _Found) -> Iterator[bytes]:
    """Binary COPY rows: the buildings inside a grid slice by slice (each sent while the next is tested), then
    those outside with their nearest grid and distance (NULL where there is no grid at all)."""
    for lo in range(0, len(ids), SLICE):
        part = slice(lo, lo + SLICE)
        found.inside[part] = grids.containing(x[part], y[part])
        ins = np.flatnonzero(found.inside[part] >= 0)
        grid_ids = grids.ids[found.inside[part][ins]]
        cols = {"building_id": ("int8", ids[part][ins]), "grid_id": ("int4", grid_ids)}
        yield binary_rows({**cols, "nearest_grid_id": ("int4", grid_ids), "distance_m": ("float8", np.zeros(len(ins)))})
    found.outside = out = np.flatnonzero(found.inside < 0)
    found.near, found.distance = grids.nearest(x[out], y[out])
    none = np.ones(len(out), dtype=bool)
    yield binary_rows(
        {
            "building_id": ("int8", ids[out]),
            "grid_id": ("int4", np.zeros(len(out), dtype=np.int64)),
            "nearest_grid_id": ("int4", grids.ids_or_zero(found.near)),
            "distance_m": ("float8", found.distance),
        },
        nulls={"grid_id": none, "nearest_grid_id": found.near < 0, "distance_m": np.isnan(found.distance)},
    )


def _rows_written(
    building_ids: np.ndarray, grid_ids: np.ndarray, outside_ids: np.ndarray, grids: GridIndex, found: _Found
) -> pd.DataFrame:
    """Buildings inside a grid, then those outside, as one frame (built from arrays: a million rows at once)."""
    n, m = len(building_ids), len(outside_ids)
    inside_mask = np.zeros(n, dtype=bool)
    return pd.DataFrame(
        {
            "building_id": np.concatenate([building_ids, outside_ids]),
            "grid_id": pd.arrays.IntegerArray(
                np.concatenate([grid_ids, np.zeros(m, dtype=np.int64)]), np.concatenate([inside_mask, np.ones(m, bool)])
            ),
            "nearest_grid_id": pd.arrays.IntegerArray(
                np.concatenate([grid_ids, grids.ids_or_zero(found.near)]), np.concatenate([inside_mask, found.near < 0])
            ),
            "distance_m": np.concatenate([np.zeros(n), found.distance]),
        }
    )


def _clear_assignments(conn: Connection) -> None:
    """Empty the table and drop its indexes and foreign key: rows are COPYed in bare, the indexes built once after.

    Checking the foreign key row by row costs more than the spatial work. TRUNCATE holds the table
    exclusively and the buildings are share-locked, so every id we write exists: the key is re-added
    ``NOT VALID`` (enforced for every later write) instead of re-checking a million rows.
    """
    conn.execute(
        text(
            "TRUNCATE building_assignments; "
            "ALTER TABLE building_assignments DROP CONSTRAINT IF EXISTS building_assignments_building_id_fkey, "
            "DROP CONSTRAINT IF EXISTS building_assignments_pkey; "
            "DROP INDEX IF EXISTS ix_building_assignments_grid_id"
        )
    )


def _index_assignments(conn: Connection) -> None:
    conn.execute(
        text(
            "ALTER TABLE building_assignments ADD CONSTRAINT building_assignments_pkey PRIMARY KEY (building_id), "
            "ADD CONSTRAINT building_assignments_building_id_fkey FOREIGN KEY (building_id) "
            "REFERENCES buildings (id) ON DELETE CASCADE NOT VALID; "
            "CREATE INDEX ix_building_assignments_grid_id ON building_assignments (grid_id); "
            "ANALYZE building_assignments"
        )
    )


def assign_facilities(conn: Connection, grids: GridIndex | None = None) -> tuple[int, int]:
    """Set ``facilities.grid_id`` for every facility; returns (facilities, assigned)."""
    grids = grids or GridIndex.load(conn)
    pts = fetch_points(conn, "SELECT id, ST_X(geom), ST_Y(geom) FROM facilities")
    inside = grids.containing(pts["x"].to_numpy(), pts["y"].to_numpy())
    grid_ids = grids.ids_at(inside)
    conn.execute(
        text(
            "UPDATE facilities f SET grid_id = v.grid_id FROM unnest(CAST(:ids AS bigint[]), CAST(:grids AS int[])) "
            "AS v(id, grid_id) WHERE f.id = v.id AND f.grid_id IS DISTINCT FROM v.grid_id"
        ),
        {"ids": pts["id"].tolist(), "grids": grid_ids},
    )
    return len(pts), int((inside >= 0).sum())


def outside_report(conn: Connection) -> pd.DataFrame:
    """Buildings in no grid, with the nearest grid and its distance in metres."""
    return query_frame(
        conn,
        "SELECT b.id AS building_id, b.source_id, b.address, g.code AS nearest_grid_code, a.distance_m "
        "FROM building_assignments a JOIN buildings b ON b.id = a.building_id "
        "LEFT JOIN grids g ON g.id = a.nearest_grid_id WHERE a.grid_id IS NULL ORDER BY a.distance_m DESC",
    )


def assign_all(conn: Connection) -> AssignmentReport:
    """Assign buildings (residents follow their building) and facilities to the grids in force."""
    grids = GridIndex.load(conn)
    rows = assign_buildings(conn, grids)
    facilities, facilities_assigned = assign_facilities(conn, grids)
    return AssignmentReport(
        buildings=len(rows),
        assigned=int(rows["grid_id"].notna().sum()),
        outside=outside_report(conn),
        facilities=facilities,
        facilities_assigned=facilities_assigned,
    )
