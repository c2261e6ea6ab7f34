"""`geogrid stats --json` on the demo city against counts made here in plain SQL: grid membership by the polygon
that covers each building (lowest code wins), not by geogrid's stored assignment; residents, party members,
every special group, current staff, full-time workers and party organisations from the raw tables."""

from __future__ import annotations

import json

from sqlalchemy import text
from typer.testing import CliRunner

from geogrid.cli import application
from geogrid.model import SPECIAL_GROUPS

# Each building's grid found again here: the grid in force whose polygon covers it, lowest code first.
HOME = """
SELECT DISTINCT ON (b.id) b.id AS building_id, g.id AS grid_id
  FROM buildings b JOIN grids g ON g.valid_to IS NULL AND ST_Covers(g.geom, b.geom)
 ORDER BY b.id, g.code
"""
INDEPENDENT = f"""
WITH home AS ({HOME})
SELECT g.code,
       (SELECT count(*) FROM residents r JOIN home h ON h.building_id = r.building_id WHERE h.grid_id = g.id)
           AS residents,
       (SELECT count(*) FROM residents r JOIN home h ON h.building_id = r.building_id
         WHERE h.grid_id = g.id AND r.party_member) AS party_members,
       {
    ", ".join(
        f"(SELECT count(*) FROM residents r JOIN home h ON h.building_id = r.building_id "
        f"WHERE h.grid_id = g.id AND '{grp}' = ANY(r.special_groups)) AS {grp}"
        for grp in SPECIAL_GROUPS
    )
},
       (SELECT count(DISTINCT staff_id) FROM staff_assignments WHERE grid_id = g.id AND end_date IS NULL) AS staff,
       (SELECT count(*) FROM staff_assignments
         WHERE grid_id = g.id AND end_date IS NULL AND role = 'full_time_worker') AS full_time_workers,
       EXISTS (SELECT 1 FROM party_orgs WHERE grid_id = g.id) AS party_org
  FROM grids g WHERE g.valid_to IS NULL ORDER BY g.code
"""
FIELDS = ["residents", "party_members", *SPECIAL_GROUPS, "staff", "full_time_workers", "party_org"]


def test_stats_figures_match_counts_made_here(demo_city, database):
    result = CliRunner().invoke(application(), ["stats", "--json"], env={"GEOGRID_LANG": "en"})
    assert result.exit_code == 0, result.output
    got = {r["code"]: {k: r[k] for k in FIELDS} for r in json.loads(result.stdout)}
    with database.connect() as conn:
        want = {r["code"]: {k: r[k] for k in FIELDS} for r in conn.execute(text(INDEPENDENT)).mappings()}
    assert got == want
    totals = {k: sum(v[k] for v in want.values()) for k in FIELDS}
    # the demo has all of these, so the comparison above means something for each
    assert all(totals[k] > 0 for k in ("residents", "party_members", "elderly_alone", "staff", "party_org")), totals
    assert totals["full_time_workers"] > 0
