"""Per-grid figures, written once: households, buildings, residents, party members, special groups, staff.

Stats, export, the read API, maps, plan previews and validation all ask "how many households does this
grid have"; they all read it here, so the same question gets the same answer everywhere. "Households" of
a grid is the sum of ``buildings.households`` of the buildings assigned to it (``building_assignments``).

:func:`grid_figures_sql` is the one query (grids chosen by a SQL condition on ``g``, usually
:meth:`geogrid.scope.Scope.where`); :data:`HOUSEHOLDS_SQL` is its households part alone, for rules that
need only that; :func:`coverage_by_grid` sums per-building coverage into the same per-grid shape.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from geogrid.db.bulk import query_frame
from geogrid.model import SPECIAL_GROUPS
from geogrid.scope import Scope

# Buildings and households per grid, for the grids of ``{grids}`` (a query returning ``id``), with how many of
# them are estimates (``buildings.households_estimated``: OSM footprints, until real figures are imported).
HOUSEHOLDS_SQL = """
SELECT a.grid_id, count(*) AS buildings, coalesce(sum(bl.households), 0) AS households,
       count(*) FILTER (WHERE bl.households_estimated) AS estimated_buildings,
       coalesce(sum(bl.households) FILTER (WHERE bl.households_estimated), 0) AS estimated_households
  FROM building_assignments a JOIN buildings bl ON bl.id = a.building_id
 WHERE a.grid_id IN ({grids}) GROUP BY a.grid_id
"""

_FIGURES_SQL = """
WITH sg AS (SELECT g.id FROM grids g WHERE {where}),
b AS ({households}),
r AS (
    SELECT a.grid_id, count(*) AS residents, count(*) FILTER (WHERE r.party_member) AS party_members,
           {group_counts}
      FROM residents r JOIN building_assignments a ON a.building_id = r.building_id
     WHERE a.grid_id IN (SELECT id FROM sg) GROUP BY a.grid_id
), s AS (
    SELECT grid_id, count(DISTINCT staff_id) AS staff,
           count(*) FILTER (WHERE role = 'full_time_worker') AS full_time_workers
      FROM staff_assignments WHERE grid_id IN (SELECT id FROM sg) AND end_date IS NULL GROUP BY grid_id
)
SELECT g.id AS grid_id, g.code, g.name, g.kind, g.version, g.source_id, g.valid_to,
       c.code AS community_code, c.name AS community_name, st.code AS street_code, st.name AS street_name,
       coalesce(b.buildings, 0)::int AS buildings, coalesce(b.households, 0)::int AS households,
       coalesce(b.estimated_buildings, 0) > 0 AS households_estimated,
       coalesce(b.estimated_buildings, 0)::int AS estimated_buildings,
       coalesce(b.estimated_households, 0)::int AS estimated_households,
       coalesce(r.residents, 0)::int AS residents, coalesce(r.party_members, 0)::int AS party_members,
       {group_columns},
       coalesce(s.staff, 0)::int AS staff, coalesce(s.full_time_workers, 0)::int AS full_time_workers,
       EXISTS (SELECT 1 FROM party_orgs p WHERE p.grid_id = g.id) AS party_org
  FROM sg JOIN grids g ON g.id = sg.id
  LEFT JOIN admin_areas c ON c.id = g.community_id LEFT JOIN admin_areas st ON st.id = c.parent_id
  LEFT JOIN b ON b.grid_id = g.id LEFT JOIN r ON r.grid_id = g.id LEFT JOIN s ON s.grid_id = g.id
"""

FIGURE_COLUMNS = (
    "buildings",
    "households",
    "households_estimated",
    "estimated_buildings",
    "estimated_households",
    "residents",
    "party_members",
    *SPECIAL_GROUPS,
    "staff",
    "full_time_workers",
    "party_org",
)


def grid_figures_sql(where: str) -> str:
    """The per-grid figures of the grids matching ``where`` (a condition on ``grids g``), one row each.

    Columns: ``grid_id, code, name, kind, version, source_id, valid_to``, community and street code and
    name, then :data:`FIGURE_COLUMNS` (``households_estimated`` is true when any of the grid's households is an
    estimate; ``estimated_buildings`` and ``estimated_households`` say how many). Unordered: wrap it to order, join geometry or render GeoJSON.
    """
    counts = ", ".join(f"count(*) FILTER (WHERE '{g}' = ANY(r.special_groups)) AS {g}" for g in SPECIAL_GROUPS)
    columns = ", ".join(f"coalesce(r.{g}, 0)::int AS {g}" for g in SPECIAL_GROUPS)
    return _FIGURES_SQL.format(
        where=where,
        households=HOUSEHOLDS_SQL.format(grids="SELECT id FROM sg"),
        group_counts=counts,
        group_columns=columns,
    )


def grid_figures(conn: Connection, scope: Scope) -> pd.DataFrame:
    """One row per grid in force in the scope, ordered by code (see :func:`grid_figures_sql`)."""
    sql = f"SELECT * FROM ({grid_figures_sql(f'g.valid_to IS NULL AND {scope.where()}')}) f ORDER BY code"
    return query_frame(conn, sql, scope.params())


def grid_figures_by_id(conn: Connection, grid_ids: list[int]) -> pd.DataFrame:
    """Figures of these grids (in force or not: a plan preview measures grids it just wrote), indexed by id."""
    sql = grid_figures_sql("g.id = ANY(CAST(:ids AS int[]))")
    return query_frame(conn, sql, {"ids": grid_ids}).set_index("grid_id", drop=False)


def coverage_by_grid(buildings: pd.DataFrame, counts: tuple[str, ...] = ("households",)) -> pd.DataFrame:
    """Per-building counts and a boolean ``covered`` summed per ``grid_id``: ``{count}`` and ``{count}_covered``.

    ``buildings`` holds one row per building (``grid_id`` NaN when unassigned: left out).
    """
    assigned = buildings.dropna(subset=["grid_id"])
    covered = assigned["covered"].to_numpy(dtype=bool)
    sums = {c: assigned[c].to_numpy() for c in counts}
    sums |= {f"{c}_covered": np.where(covered, assigned[c].to_numpy(), 0) for c in counts}
    frame = pd.DataFrame({"grid_id": assigned["grid_id"].astype("int64").to_numpy(), **sums})
    return frame.groupby("grid_id", sort=True).sum().astype("int64")


def share(covered: pd.Series, total: pd.Series, digits: int = 3) -> pd.Series:
    """``covered / total`` rounded, NaN where the total is 0 (no people: no share, not 0 %)."""
    denominator = total.astype(float)
    return (covered / denominator.where(denominator > 0)).round(digits)
