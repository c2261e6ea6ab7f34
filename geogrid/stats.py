"""Per-grid figures a street office reports: households, residents, party members, special groups, staff."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection

from geogrid.db.bulk import query_frame
from geogrid.errors import NotFound
from geogrid.i18n import t
from geogrid.model import SPECIAL_GROUPS

GRID_STATS_SQL = """
WITH b AS (
    SELECT a.grid_id, count(*) AS buildings, sum(bl.households) AS households
    FROM building_assignments a JOIN buildings bl ON bl.id = a.building_id
    WHERE a.grid_id IS NOT NULL GROUP BY a.grid_id
), r AS (
    SELECT a.grid_id, count(*) AS residents, count(*) FILTER (WHERE r.party_member) AS party_members,
           {group_counts}
    FROM residents r JOIN building_assignments a ON a.building_id = r.building_id
    WHERE a.grid_id IS NOT NULL GROUP BY a.grid_id
), s AS (
    SELECT grid_id, count(DISTINCT staff_id) AS staff,
           count(*) FILTER (WHERE role = 'full_time_worker') AS full_time_workers
    FROM staff_assignments WHERE grid_id IS NOT NULL AND end_date IS NULL GROUP BY grid_id
)
SELECT g.code, g.name, g.kind, c.code AS community_code, c.name AS community_name,
       coalesce(b.buildings, 0) AS buildings, coalesce(b.households, 0) AS households,
       coalesce(r.residents, 0) AS residents, coalesce(r.party_members, 0) AS party_members,
       {group_columns},
       coalesce(s.staff, 0) AS staff, coalesce(s.full_time_workers, 0) AS full_time_workers,
       EXISTS (SELECT 1 FROM party_orgs p WHERE p.grid_id = g.id) AS party_org
FROM grids g
LEFT JOIN admin_areas c ON c.id = g.community_id
LEFT JOIN b ON b.grid_id = g.id LEFT JOIN r ON r.grid_id = g.id LEFT JOIN s ON s.grid_id = g.id
WHERE g.valid_to IS NULL AND (CAST(:community AS text) IS NULL OR c.code = :community OR c.name = :community)
ORDER BY g.code
"""


def grid_stats(conn: Connection, community: str | None = None) -> pd.DataFrame:
    """One row per grid in force (optionally of one community, by code or name), ordered by code."""
    counts = ",\n           ".join(
        f"count(*) FILTER (WHERE '{g}' = ANY(r.special_groups)) AS {g}" for g in SPECIAL_GROUPS
    )
    columns = ", ".join(f"coalesce(r.{g}, 0) AS {g}" for g in SPECIAL_GROUPS)
    sql = GRID_STATS_SQL.format(group_counts=counts, group_columns=columns)
    frame = query_frame(conn, sql, {"community": community})
    if community is not None and frame.empty:
        raise NotFound(t("no community with code or name '{community}' has grids in force", community=community))

    return frame
