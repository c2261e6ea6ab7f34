"""Bulk assignment: every building to the grid that contains it, facilities likewise.

Reading a million points out with COPY, testing them against the grids with a Shapely 2 STRtree and
writing the narrow ``building_assignments`` table back with COPY is several times faster than an
``UPDATE buildings ... FROM grids`` join, which rewrites every building row and its spatial indexes.

Boundary rule (shared with lookup and planning): a point on the boundary of several grids, or in their
overlap, belongs to the covering grid with the lowest code. A building in no grid gets the nearest grid
and its distance in metres.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from sqlalchemy import Connection, text

from geogrid.crs import metric_epsg
from geogrid.db.bulk import copy_frame, copy_numeric, fetch_geoms, fetch_points, query_frame

CURRENT_GRIDS_SQL = "SELECT id, code, ST_AsBinary(geom) AS wkb FROM grids WHERE valid_to IS NULL ORDER BY code"


@dataclass
class GridIndex:
    """Current grids sorted by code, with an STRtree over their polygons."""

    ids: np.ndarray
    codes: np.ndarray
    geoms: np.ndarray
    tree: shapely.STRtree = field(repr=False)

    @classmethod
    def load(cls, conn: Connection) -> GridIndex:
        grids = fetch_geoms(conn, CURRENT_GRIDS_SQL)
        geoms = grids["geom"].to_numpy() if len(grids) else np.empty(0, dtype=object)
        return cls(
            grids["id"].to_numpy(dtype=np.int64), grids["code"].to_numpy(dtype=object), geoms, shapely.STRtree(geoms)
        )

    def containing(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Index (into this GridIndex) of the grid covering each point, -1 where none does.

        GEOS releases the GIL, so the points are split across the machine's cores.
        """
        out = np.full(len(x), -1, dtype=np.int64)
        if len(x) == 0 or len(self.ids) == 0:
            return out
        shapely.prepare(self.geoms)
        chunks = np.array_split(np.arange(len(x)), max(1, min(os.cpu_count() or 1, len(x) // 50_000)))
        with ThreadPoolExecutor(len(chunks)) as pool:
            for idx, found in zip(chunks, pool.map(lambda i: self._containing(x[i], y[i]), chunks), strict=True):
                out[idx] = found
        return out

    def _containing(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        out = np.full(len(x), -1, dtype=np.int64)
        points = shapely.points(x, y)
        pts, grids = self.tree.query(points)  # bounding boxes, then the exact test on prepared polygons
        hit = shapely.intersects(self.geoms[grids], points[pts])
        pts, grids = pts[hit], grids[hit]
        # Grids are sorted by code, so the smallest grid index per point is the lowest code.
        order = np.lexsort((grids, pts))
        pts, grids = pts[order], grids[order]
        first = np.unique(pts, return_index=True)[1]
        out[pts[first]] = grids[first]
        return out

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


def assign_buildings(conn: Connection, grids: GridIndex | None = None) -> pd.DataFrame:
    """Recompute ``building_assignments`` for every building; returns the rows written."""
    grids = grids or GridIndex.load(conn)
    # Buildings may be read but not changed until the new assignment is written.
    conn.execute(text("LOCK TABLE buildings IN SHARE MODE"))
    pts = fetch_points(conn, "SELECT id, ST_X(geom), ST_Y(geom) FROM buildings")
    x, y, ids = pts["x"].to_numpy(), pts["y"].to_numpy(), pts["id"].to_numpy()
    inside = grids.containing(x, y)
    ins, out = np.flatnonzero(inside >= 0), np.flatnonzero(inside < 0)
    near, dist = grids.nearest(x[out], y[out])
    outside = pd.DataFrame(
        {
            "building_id": ids[out],
            "grid_id": None,
            "nearest_grid_id": pd.array(grids.ids_at(near), dtype="Int64"),
            "distance_m": dist,
        }
    )
    grid_ids = grids.ids[inside[ins]]
    _rewrite_assignments(
        conn,
        {
            "building_id": ("int8", ids[ins]),
            "grid_id": ("int4", grid_ids),
            "nearest_grid_id": ("int4", grid_ids),
            "distance_m": ("float8", np.zeros(len(ins))),
        },
        outside,
    )
    rows = pd.DataFrame(
        {
            "building_id": ids[ins],
            "grid_id": pd.array(grid_ids, dtype="Int64"),
            "nearest_grid_id": pd.array(grid_ids, dtype="Int64"),
            "distance_m": 0.0,
        }
    )
    return pd.concat([rows, outside], ignore_index=True)


def _rewrite_assignments(conn: Connection, inside: dict, outside: pd.DataFrame) -> None:
    """Replace the whole table: COPY without indexes or the foreign key, then rebuild the indexes once.

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
    copy_numeric(conn, "building_assignments", inside)
    if len(outside):
        copy_frame(conn, "building_assignments", outside, geometry=())
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
