"""Validation: the rules the grids of a community must follow, each problem located for a map.

Every rule is one SQL query over the grids in force (optionally of some communities), run by PostGIS
next to the data: the spatial indexes answer overlaps and gaps without reading the city into Python.
Areas and perimeters are measured as geography, in metres.

A problem is ``{rule, severity, grids, community, message, location (GeoJSON), value}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import lru_cache

from sqlalchemy import Connection, TextClause, text

from geogrid.figures import HOUSEHOLDS_SQL
from geogrid.i18n import t
from geogrid.planning.suspects import overlap_suspects
from geogrid.scope import resolve_scope
from geogrid.settings import get_settings

SCOPE = """scope AS (
    SELECT g.*, c.code AS community_code FROM grids g LEFT JOIN admin_areas c ON c.id = g.community_id
    WHERE g.valid_to IS NULL AND (CAST(:cids AS int[]) IS NULL OR g.community_id = ANY(CAST(:cids AS int[])))
      AND (CAST(:gids AS int[]) IS NULL OR g.id = ANY(CAST(:gids AS int[])))
)"""
COLUMNS = "(codes, community, args, location, value)"


def _lost_message(a: dict) -> str:
    if a["nearest"] is None:
        return t("{n} building(s) in no grid", n=a["n"])
    return t("{n} building(s) in no grid, nearest grid {nearest}", **a)


def _band_message(a: dict) -> str:
    kind = {"basic": t("basic grid"), "dedicated": t("dedicated grid")}.get(a["kind"], a["kind"])
    return t("grid {code} has {n} households, outside the {kind} band {low}–{high}", **{**a, "kind": kind})


@dataclass(frozen=True)
class Rule:
    """One rule, all in one place: its name, severity, message (in the user's language, from the JSON
    arguments the SQL builds) and SQL returning ``codes, community, args, location (GeoJSON), value``."""

    name: str
    severity: str
    message: Callable[[dict], str]
    sql: str


# Adding a rule is adding one record here.
RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        Rule(
            "invalid_geometry",
            "error",
            lambda a: t("grid {code} has an invalid boundary: {reason}", **a),
            """
        SELECT ARRAY[code], community_code, json_build_object('code', code, 'reason', ST_IsValidReason(geom)),
               ST_AsGeoJSON(coalesce((ST_IsValidDetail(geom)).location, ST_PointOnSurface(geom))), NULL::float
        FROM scope WHERE NOT ST_IsValid(geom) OR ST_IsEmpty(geom)""",
        ),
        Rule(
            "outside_community",
            "error",
            lambda a: t("grid {code} extends {m2:.0f} m² outside community {community}", **a),
            """
        SELECT ARRAY[s.code], s.community_code,
               json_build_object('code', s.code, 'm2', round(d.m2), 'community', s.community_code),
               ST_AsGeoJSON(d.geom), d.m2
        FROM scope s JOIN admin_areas c ON c.id = s.community_id AND c.geom IS NOT NULL
        CROSS JOIN LATERAL (SELECT x AS geom, ST_Area(x::geography) AS m2
                            FROM ST_Difference(ST_MakeValid(s.geom), ST_MakeValid(c.geom)) x) d
        WHERE NOT ST_CoveredBy(s.geom, c.geom) AND d.m2 > :tol""",
        ),
        Rule(
            "overlap",
            "error",
            lambda a: t("grids {a} and {b} overlap by {m2:.0f} m²", **a),
            """
        SELECT ARRAY[a.code, b.code], a.community_code,
               json_build_object('a', a.code, 'b', b.code, 'm2', round(i.m2)),
               ST_AsGeoJSON(i.geom), i.m2
        FROM scope a JOIN grids b ON b.valid_to IS NULL AND b.id <> a.id AND ST_Intersects(a.geom, b.geom)
             AND (b.code > a.code OR b.id NOT IN (SELECT id FROM scope))
             -- neighbours that only touch are most pairs: DE-9IM tells them (valid grids) at half an overlay's cost
             AND CASE WHEN ST_IsValid(a.geom) AND ST_IsValid(b.geom) THEN ST_Relate(a.geom, b.geom, '2********')
                      ELSE true END
        CROSS JOIN LATERAL (SELECT x AS geom, ST_Area(x::geography) AS m2 FROM ST_CollectionExtract(
                            ST_Intersection(ST_MakeValid(a.geom), ST_MakeValid(b.geom)), 3) x) i
        WHERE i.m2 > :tol AND (CAST(:ovl AS int[]) IS NULL OR a.id = ANY(CAST(:ovl AS int[])))""",
        ),
        Rule(
            "gap",
            "error",
            lambda a: t("{m2:.0f} m² of community {community} is in no grid", **a),
            """
        WITH cover AS (
            SELECT c.id, c.code, c.geom, ST_Union(ST_MakeValid(s.geom)) AS grids
            FROM admin_areas c LEFT JOIN grids s ON s.community_id = c.id AND s.valid_to IS NULL
            WHERE c.level = 'community' AND c.geom IS NOT NULL
              AND (CAST(:cids AS int[]) IS NULL OR c.id = ANY(CAST(:cids AS int[])))
            GROUP BY c.id
        ), holes AS (
            SELECT cover.id, cover.code, (ST_Dump(CASE WHEN grids IS NULL THEN ST_MakeValid(geom)
                   ELSE ST_Difference(ST_MakeValid(geom), grids) END)).geom AS geom FROM cover
        )
        SELECT coalesce((SELECT array_agg(s.code ORDER BY s.code) FROM grids s WHERE s.valid_to IS NULL
                         AND s.community_id = h.id AND ST_DWithin(s.geom, h.geom, 1e-7)), '{}'),
               h.code, json_build_object('m2', round(ST_Area(h.geom::geography)), 'community', h.code),
               ST_AsGeoJSON(h.geom), ST_Area(h.geom::geography)
        FROM holes h WHERE ST_Dimension(h.geom) = 2 AND ST_Area(h.geom::geography) > :tol""",
        ),
        Rule(
            "building_in_no_grid",
            "error",
            _lost_message,
            """
        WITH lost AS (  -- per community through the spatial index, else one pass over the whole table
            SELECT DISTINCT b.id, b.geom, a.nearest_grid_id FROM admin_areas c
            JOIN buildings b ON ST_Intersects(c.geom, b.geom)
            LEFT JOIN building_assignments a ON a.building_id = b.id
            WHERE c.id = ANY(CAST(:cids AS int[])) AND a.grid_id IS NULL
              -- those held by the communities' own grids (read by grid) are not looked up one by one
              AND b.id NOT IN (SELECT h.building_id FROM grids hg JOIN building_assignments h ON h.grid_id = hg.id
                               WHERE hg.community_id = ANY(CAST(:cids AS int[])))
            UNION ALL
            SELECT b.id, b.geom, a.nearest_grid_id FROM buildings b
            LEFT JOIN building_assignments a ON a.building_id = b.id
            WHERE CAST(:cids AS int[]) IS NULL AND a.grid_id IS NULL
        )
        SELECT CASE WHEN g.code IS NULL THEN '{}' ELSE ARRAY[g.code] END, c.code,
               json_build_object('n', count(*), 'nearest', g.code),
               ST_AsGeoJSON(ST_Collect((array_agg(l.geom ORDER BY l.id))[1:CAST(:max_points AS int)])), count(*)
        FROM lost l LEFT JOIN grids g ON g.id = l.nearest_grid_id LEFT JOIN admin_areas c ON c.id = g.community_id
        GROUP BY g.code, c.code""",
        ),
        Rule(
            "household_band",
            "warning",
            _band_message,
            """
        SELECT ARRAY[s.code], s.community_code,
               json_build_object('code', s.code, 'n', coalesce(h.households, 0), 'kind', s.kind, 'low', band.low,
                                 'high', band.high),
               ST_AsGeoJSON(ST_PointOnSurface(s.geom)), coalesce(h.households, 0)
        FROM scope s JOIN jsonb_to_recordset(CAST(:bands AS jsonb)) AS band(kind text, low int, high int)
             ON band.kind = s.kind
        LEFT JOIN ("""
            + HOUSEHOLDS_SQL.format(grids="SELECT id FROM scope")
            + """) h ON h.grid_id = s.id
        WHERE coalesce(h.households, 0) NOT BETWEEN band.low AND band.high""",
        ),
        Rule(
            "no_full_time_worker",
            "warning",
            lambda a: t("grid {code} has no full-time grid worker (一人一格)", **a),
            """
        SELECT ARRAY[code], community_code, json_build_object('code', code),
               ST_AsGeoJSON(ST_PointOnSurface(geom)), NULL::float
        FROM scope s WHERE NOT EXISTS (SELECT 1 FROM staff_assignments t
                                       WHERE t.grid_id = s.id AND t.role = 'full_time_worker'
                                         AND t.end_date IS NULL)""",
        ),
        Rule(
            "worker_too_many_grids",
            "warning",
            lambda a: t("{name} covers {n} grids as {role}, more than {max}", **a),
            """
        SELECT array_agg(s.code ORDER BY s.code), min(s.community_code),
               json_build_object('name', min(st.name), 'role', min(a.role), 'n', count(DISTINCT a.grid_id),
                                 'max', CAST(:max_grids AS int)),
               ST_AsGeoJSON(ST_Collect(ST_PointOnSurface(s.geom))), count(DISTINCT a.grid_id)
        FROM staff_assignments a JOIN staff st ON st.id = a.staff_id JOIN scope s ON s.id = a.grid_id
        JOIN (  -- the grids each worker of the scope covers city-wide, counted once (not once per row of a)
            SELECT b.staff_id, b.role FROM staff_assignments b JOIN grids gb ON gb.id = b.grid_id
            WHERE b.end_date IS NULL AND b.building_id IS NULL AND gb.valid_to IS NULL
              AND (b.staff_id, b.role) IN (SELECT c.staff_id, c.role FROM staff_assignments c JOIN scope sc
                                           ON sc.id = c.grid_id WHERE c.end_date IS NULL AND c.building_id IS NULL)
            GROUP BY b.staff_id, b.role HAVING count(DISTINCT b.grid_id) > CAST(:max_grids AS int)
        ) busy ON busy.staff_id = a.staff_id AND busy.role = a.role
        WHERE a.end_date IS NULL AND a.building_id IS NULL
          AND a.role IN ('full_time_worker', 'part_time_worker', 'grid_leader')
        GROUP BY a.staff_id, a.role""",
        ),
        Rule(
            "no_party_org",
            "warning",
            lambda a: t("grid {code} has no party organisation (支部建在网格上)", **a),
            """
        SELECT ARRAY[code], community_code, json_build_object('code', code),
               ST_AsGeoJSON(ST_PointOnSurface(geom)), NULL::float
        FROM scope s WHERE NOT EXISTS (SELECT 1 FROM party_orgs p WHERE p.grid_id = s.id)""",
        ),
        Rule(
            "several_parts",
            "warning",
            lambda a: t("grid {code} is in {n} parts", **a),
            """
        SELECT ARRAY[code], community_code, json_build_object('code', code, 'n', ST_NumGeometries(geom)),
               ST_AsGeoJSON(geom), ST_NumGeometries(geom)
        FROM scope WHERE ST_NumGeometries(geom) > 1""",
        ),
        Rule(
            "non_compact",
            "warning",
            lambda a: t("grid {code} is very non-compact (Polsby–Popper {pp} < {min})", **a),
            """
        SELECT ARRAY[code], community_code,
               json_build_object('code', code, 'pp', round(pp::numeric, 3), 'min', CAST(:min_pp AS float)),
               ST_AsGeoJSON(geom), pp
        FROM (SELECT *, 4 * pi() * ST_Area(geom::geography) / nullif(ST_Perimeter(geom::geography), 0) ^ 2 AS pp
              FROM scope WHERE ST_IsValid(geom)) s
        WHERE pp < :min_pp""",
        ),
    )
}


@dataclass
class Problem:
    rule: str
    severity: str
    grids: list[str]
    community: str | None
    message: str
    location: dict | None
    value: float | None = None


def message(rule: str, a: dict) -> str:
    """A problem in words, in the user's language (``GEOGRID_LANG``); KeyError for an unknown rule."""
    return RULES[rule].message(a)


def community_ids(conn: Connection, community: str | None) -> list[int] | None:
    """Ids of the communities under the place named by code or name (None = all); NotFound when none matches."""
    if community is None:
        return None
    return list(resolve_scope(conn, community).community_ids or ())


def validate(
    conn: Connection,
    community: str | None = None,
    *,
    cids: list[int] | None = None,
    grid_ids: list[int] | None = None,
    rules: list[str] | None = None,
    on_rule: Callable[[str, int, int], None] | None = None,
) -> list[dict]:
    """Problems of the grids in force: all, one community (code or name), or the communities ``cids``.

    ``grid_ids`` narrows the per-grid rules to those grids (a plan's affected grids); gaps and buildings in
    no grid are still checked over the whole of the ``cids`` communities. All rules run as one query, or
    one query per rule with ``on_rule(rule, done, total)`` called after each (for a progress bar).
    """
    names = rules or list(RULES)
    if on_rule is not None:
        out: list[dict] = []
        for done, name in enumerate(names, start=1):
            out += validate(conn, community, cids=cids, grid_ids=grid_ids, rules=[name])
            on_rule(name, done, len(names))
        return sorted(out, key=lambda p: (p["severity"] != "error", p["rule"], p["grids"]))
    if community is not None:
        cids = community_ids(conn, community)
    cfg = get_settings()
    bands = [{"kind": k, "low": lo, "high": hi} for k, (lo, hi) in get_settings().household_bands.items()]
    ovl = overlap_suspects(conn, cids) if "overlap" in names and grid_ids is None else None
    params = {
        "cids": cids,
        "gids": grid_ids,
        "tol": cfg.area_tolerance_m2,
        "min_pp": cfg.min_compactness,
        "bands": json.dumps(bands),
        "max_points": cfg.problem_max_points,
        "ovl": ovl,
        "max_grids": cfg.max_grids_per_worker,
    }
    ctes = ", ".join(f"r_{name}{COLUMNS} AS ({RULES[name].sql})" for name in names)
    union = " UNION ALL ".join(
        f"SELECT '{name}' AS rule, CAST(codes AS text[]) AS codes, CAST(community AS text) AS community, "
        f"CAST(args AS json) AS args, location, CAST(value AS float) AS value "
        f"FROM r_{name}"
        for name in names
    )
    problems = [
        Problem(
            rule=r.rule,
            severity=RULES[r.rule].severity,
            grids=list(r.codes or []),
            community=r.community,
            message=RULES[r.rule].message(r.args),
            location=json.loads(r.location) if r.location else None,
            value=None if r.value is None else float(r.value),
        )
        for r in conn.execute(_statement(f"WITH {SCOPE}, {ctes} {union}"), params)
    ]
    problems.sort(key=lambda p: (p.severity != "error", p.rule, p.grids))
    return [asdict(p) for p in problems]


@lru_cache(maxsize=64)
def _statement(sql: str) -> TextClause:
    """The statement of a set of rules, parsed for its parameters once per process (10 KB of SQL: 0.3 ms a call
    otherwise). Only the text is kept, never a result: every call runs the rules on the data."""
    return text(sql)


def summary(problems: list[dict]) -> dict[str, int]:
    """Problem counts by rule, for before/after comparison in a plan preview."""
    out: dict[str, int] = {}
    for p in problems:
        out[p["rule"]] = out.get(p["rule"], 0) + 1
    return out
