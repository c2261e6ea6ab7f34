"""Plans and their previews: who changes grid, before/after figures, validation after the change.

The preview runs the very writes :func:`geogrid.planning.apply.write_changes` would make (but the version
history, which nothing it measures reads), inside a savepoint that is then rolled back: what a planner sees is
exactly what applying would do, and nothing is left behind.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import Future
from decimal import Decimal
from typing import Any, NamedTuple

import shapely
from sqlalchemy import Connection, RowMapping, text

from geogrid.codes import codes_by_id
from geogrid.coverage import FIVE_MINUTE_BASIS
from geogrid.errors import InputError, NotFound
from geogrid.figures import grid_figures_sql
from geogrid.i18n import join, t
from geogrid.planning import budget
from geogrid.planning.apply import lock_and_check, write_changes
from geogrid.planning.aside import on_snapshot, untouched
from geogrid.planning.edits import Changes, compute_changes, typed_edits
from geogrid.planning.painting import unit_label
from geogrid.planning.validate import summary, validate
from geogrid.settings import get_settings

# A building inside a 5-minute service area of a station or facility (not a proposed site) on the basis.
IN_AREA = """EXISTS (SELECT 1 FROM service_areas sa JOIN facilities f ON f.id = sa.facility_id
                      WHERE NOT f.candidate AND sa.minutes = 5 AND sa.mode = :basis
                        AND ST_Intersects(sa.geom, bl.geom))"""

# Everything a preview shows of some grids, in one statement: the counts come from :mod:`geogrid.figures` (as
# everywhere else), then shape, coverage, facilities and people. Coverage is tested only for buildings not in
# ``known`` (tested already: those in ``covered`` are covered): the few 5-minute areas near them are the outer side
# and the buildings the inner one, so each area is tested against the points in a row and PostGIS prepares it
# once (3× faster at 1M than probing the areas once per building). The ids tested come back per grid.
STATS_SQL = """
WITH f AS ({figures}),
b AS MATERIALIZED (SELECT a.grid_id, bl.id, bl.geom, bl.households,
                          bl.id IN (SELECT unnest(CAST(:known AS bigint[]))) AS known
                     FROM building_assignments a JOIN buildings bl ON bl.id = a.building_id
                    WHERE a.grid_id = ANY(CAST(:ids AS int[])) AND CAST(:basis AS text) IS NOT NULL),
sa AS MATERIALIZED (SELECT sa.geom FROM service_areas sa JOIN facilities f ON f.id = sa.facility_id
                     WHERE NOT f.candidate AND sa.minutes = 5 AND sa.mode = :basis
                       AND sa.geom && (SELECT ST_Extent(geom) FROM b WHERE NOT known)),
hit AS (SELECT b.id FROM sa JOIN b ON NOT b.known AND ST_Intersects(sa.geom, b.geom)
        UNION SELECT unnest(CAST(:covered AS bigint[]))),
cov AS (SELECT b.grid_id, sum(b.households) FILTER (WHERE h.id IS NOT NULL) AS covered,
               array_agg(b.id) AS tested, array_agg(b.id) FILTER (WHERE h.id IS NOT NULL) AS hit
          FROM b LEFT JOIN hit h ON h.id = b.id GROUP BY b.grid_id)
SELECT f.grid_id AS id, {figure_columns},
       round(m.area::numeric, 1) AS area_m2, ST_NumGeometries(g.geom) AS parts,
       round((4 * pi() * m.area / nullif(m.perimeter, 0) ^ 2)::numeric, 3) AS compactness,
       CASE WHEN CAST(:basis AS text) IS NOT NULL THEN coalesce(cov.covered, 0) END AS covered_households,
       (SELECT count(*) FROM facilities fa WHERE fa.grid_id = g.id) AS facilities,
       (SELECT coalesce(json_agg(json_build_object('role', s.role, 'name', st.name) ORDER BY s.role, st.name), '[]')
          FROM staff_assignments s JOIN staff st ON st.id = s.staff_id
         WHERE s.grid_id = g.id AND s.end_date IS NULL AND s.building_id IS NULL) AS staff_list,
       (SELECT coalesce(json_agg(json_build_object('name', p.name, 'level', p.level) ORDER BY p.id), '[]')
          FROM party_orgs p WHERE p.grid_id = g.id AND p.building_id IS NULL) AS party_orgs,
       coalesce(cov.tested, '{{}}') AS tested, coalesce(cov.hit, '{{}}') AS hit
FROM f JOIN grids g ON g.id = f.grid_id
CROSS JOIN LATERAL (SELECT ST_Area(g.geom::geography) AS area, ST_Perimeter(g.geom::geography) AS perimeter) m
LEFT JOIN cov ON cov.grid_id = g.id
"""
FIGURES = (
    "code",
    "name",
    "kind",
    "buildings",
    "households",
    "households_estimated",
    "estimated_households",
    "residents",
    "full_time_workers",
    "party_org",
)
GRID_STATS_SQL = STATS_SQL.format(
    figures=grid_figures_sql("g.id = ANY(CAST(:ids AS int[]))"), figure_columns=", ".join(f"f.{c}" for c in FIGURES)
)
_GRID_STATS = text(GRID_STATS_SQL)  # parsed for its parameters once (5 KB of SQL), run on the data every call

MOVED_BUILDINGS_SQL = """
SELECT b.id, b.source_id, b.address, b.households,
       (SELECT count(*) FROM residents r WHERE r.building_id = b.id) AS residents, b.name,
       CASE WHEN b.address IS NULL AND b.name IS NULL THEN
            (SELECT r.name FROM roads r ORDER BY r.geom <-> b.geom LIMIT 1) END AS road
FROM buildings b WHERE b.id = ANY(:ids) ORDER BY b.id
"""


def coverage_basis(conn: Connection) -> str | None:
    """Which 5-minute areas count as coverage: 'network', else 'circle', None when none are computed."""
    return conn.scalar(text(f"SELECT {FIVE_MINUTE_BASIS}"))


UNKNOWN = "?"  # a coverage basis not read yet (None means: no 5-minute areas)


class Covered(NamedTuple):
    """Coverage of buildings already tested: every id in ``known``, covered when also in ``covered``."""

    known: list[int]
    covered: list[int]


def grid_stats(conn: Connection, ids: list[int], basis: str | None) -> dict[int, dict]:
    """Figures of the given grids (area in m², compactness, buildings, households and those within a 5-minute
    service area of ``basis``, residents, staff...): a boundary moves buildings, and who is covered with them."""
    return measure(conn, ids, basis)[0]


def measure(
    conn: Connection, ids: list[int], basis: str | None, tested: Covered = Covered([], [])
) -> tuple[dict[int, dict], Covered]:
    """:func:`grid_stats` in one statement, and the buildings whose coverage it tested (with those of ``tested``,
    not tested again: a building's coverage does not change with its grid, and testing it is the costly part)."""
    out = {}
    known, covered_ids = list(tested.known), list(tested.covered)
    params = {"ids": ids, "basis": basis, "known": tested.known, "covered": tested.covered}
    for row in conn.execute(_GRID_STATS, params).mappings():
        covered = None if row["covered_households"] is None else int(row["covered_households"])
        households = row["households"]
        out[row["id"]] = {k: row[k] for k in FIGURES} | {
            "area_m2": _float(row["area_m2"]),
            "parts": row["parts"],
            "compactness": _float(row["compactness"]),
            "covered_households": covered,
            "facilities": row["facilities"],
            "coverage": round(covered / households, 3) if covered is not None and households else None,
            "staff_list": row["staff_list"],
            "party_orgs": row["party_orgs"],
        }
        known += row["tested"]
        covered_ids += row["hit"]
    return out, Covered(known, covered_ids)


def _float(value: Decimal | None) -> float | None:
    """A rounded numeric from SQL as the float JSON shows."""
    return None if value is None else float(value)


# How the people of a grid follow a plan (geogrid/planning/apply.py: _hand_over_merged, _hand_back).
STAFF_RULE = lambda: t(  # noqa: E731
    "Staff and party organisations stay with a grid that keeps its code; a merged grid takes those of the grids "
    "it replaces; grids cut out by a split start with no worker until assigned (the retired grid keeps its "
    "people on record, so undoing the split gives them back)."
)


def _features(geoms: dict[str, shapely.Geometry]) -> dict:
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"code": code}, "geometry": json.loads(shapely.to_geojson(g))}
            for code, g in geoms.items()
        ],
    }


def _moved(conn: Connection, written, codes: dict[int, str]) -> dict:
    """The buildings (with households and residents) and facilities that change grid, by code."""
    moves = {int(r.building_id): (r.from_grid, r.to_grid) for r in written.buildings.itertuples()}
    buildings = []
    for row in conn.execute(text(MOVED_BUILDINGS_SQL), {"ids": list(moves)}).mappings():
        src, dst = moves[row["id"]]
        plain = {k: v for k, v in row.items() if k not in ("name", "road")}
        label = unit_label("building", None, row["address"] or row["name"], 1, row["road"])
        buildings.append({**plain, "label": label, "from": codes.get(src), "to": codes.get(dst)})
    facilities = []
    if len(written.facilities):
        rows = conn.execute(
            text("SELECT id, name, kind FROM facilities WHERE id = ANY(:i) ORDER BY id"),
            {"i": [int(i) for i in written.facilities["facility_id"]]},
        ).mappings()
        fmoves = {int(r.facility_id): (r.from_grid, r.to_grid) for r in written.facilities.itertuples()}
        facilities = [{**r, "from": codes.get(fmoves[r["id"]][0]), "to": codes.get(fmoves[r["id"]][1])} for r in rows]
    return {
        "buildings": buildings,
        "facilities": facilities,
        "totals": {
            "buildings": len(buildings),
            "households": sum(b["households"] or 0 for b in buildings),
            "residents": sum(b["residents"] for b in buildings),
            "facilities": len(facilities),
        },
    }


# Grids whose boundary cuts a stored unit (more than 2 % of it on each side): drawn free-hand, not painted.
CUT_UNITS_SQL = """
SELECT g.code, count(*) AS cut FROM grids g
JOIN partition_units u ON u.community_id = g.community_id AND ST_Intersects(u.geom, g.geom)
     AND NOT ST_CoveredBy(u.geom, g.geom)  -- most units lie wholly in a grid: not cut, told without an overlay
CROSS JOIN LATERAL (SELECT ST_Area(u.geom::geography) AS whole,
                           ST_Area(ST_Intersection(u.geom, g.geom)::geography) AS inside) a
WHERE g.id = ANY(:ids) AND a.inside > greatest(:tol, 0.02 * a.whole) AND a.inside < a.whole - greatest(:tol, 0.02 * a.whole)
GROUP BY g.code ORDER BY g.code
"""


def _off_units(conn: Connection, ids: list[int]) -> list[dict]:
    """Grids (just written) whose boundary does not follow the units of their community."""
    rows = conn.execute(text(CUT_UNITS_SQL), {"ids": ids, "tol": get_settings().area_tolerance_m2 * 5}).all()
    return [
        {
            "grid": code,
            "units_cut": int(n),
            "message": t("boundary of grid {code} does not follow units: it cuts {n} unit(s)", code=code, n=int(n)),
        }
        for code, n in rows
    ]


def _codes(conn: Connection, written, old_ids: list[int], after: dict[int, dict]) -> dict[int, str]:
    """Codes of the grids a preview names, as written: those just measured are known (their code read in the
    same state), the others (retired grids, mostly) are read."""
    ids = {
        *old_ids,
        *written.created,
        *written.buildings["from_grid"].dropna(),
        *written.buildings["to_grid"].dropna(),
        *written.facilities["from_grid"].dropna(),
        *written.facilities["to_grid"].dropna(),
    }
    known = {int(i): after[int(i)]["code"] for i in ids if int(i) in after}
    missing = [int(i) for i in ids if int(i) not in known]
    return known | (codes_by_id(conn, missing) if missing else {})


def _communities(changes: Changes) -> list[int]:
    return sorted({g.community_id for g in changes.grids.values() if g.community_id is not None})


def simulate(
    conn: Connection,
    changes: Changes,
    author: str | None,
    compare: bool = False,
    basis: str | None = UNKNOWN,
    aside: bool = False,
) -> dict:
    """Write the changes in a savepoint, measure everything, roll back: the impact of a plan.

    ``compare`` also validates the affected grids before the change, for a before/after count per rule; with
    ``aside`` (the transaction had written nothing before the preview) on a second connection, meanwhile
    (:mod:`geogrid.planning.aside`). ``basis`` is :func:`coverage_basis` when the caller read it already.
    """
    old_ids = [g.saved_id for g in changes.touched]
    if basis == UNKNOWN:
        basis = coverage_basis(conn)
    cids = _communities(changes)
    check = bool(cids and compare)
    steps: list[Callable[[Connection], Any]] = [lambda c: measure(c, old_ids, basis)]
    if check:
        steps.append(lambda c: validate(c, cids=cids, grid_ids=old_ids))
    if aside:
        pending = on_snapshot(conn, steps)
    else:
        pending = [Future() for _ in steps]
        for step, future in zip(steps, pending, strict=True):
            future.set_result(step(conn))
    savepoint = conn.begin_nested()
    try:
        written = write_changes(conn, changes, author, None, history=False)
        ids = written.changed + written.created
        before, tested = pending[0].result()
        after, _ = measure(conn, ids, basis, tested)
        codes = _codes(conn, written, old_ids, after)
        moved = _moved(conn, written, codes)
        off_units = _off_units(conn, written.changed + written.created)
        problems = validate(conn, cids=cids, grid_ids=written.changed + written.created) if cids else []
    finally:
        savepoint.rollback()
    before_problems = pending[1].result() if check else None
    restored = {g.id for g in changes.touched if not g.in_force}
    grids = [
        {
            "code": before[i]["code"],
            "status": "retired" if i in written.retired else "restored" if i in restored else "changed",
            "before": before[i],
            "after": after.get(i),
        }
        for i in old_ids
    ]
    grids += [
        {"code": after[i]["code"], "status": "new", "provisional_code": True, "before": None, "after": after[i]}
        for i in written.created
    ]
    return {
        "grids": grids,
        "staff_rule": STAFF_RULE(),
        "moved": moved,
        "repairs": changes.repairs,  # invalid polygons repaired because the edit asked for it
        "handed_back": changes.handed_back,  # a revert's given-up area, back to the grids that held it
        "units": changes.units_moved,  # painted units (move_units, move_buildings): by name, from, to
        "off_units": off_units,  # boundaries that do not follow units (a free-hand redraw)
        "validation": {
            "before": None if before_problems is None else summary(before_problems),
            "after": summary(problems),
            "problems": problems,
        },
        "geometry": {
            "before": _features({g.saved_code: changes.original[g.saved_id] for g in changes.touched}),
            "after": _features({g.saved_code: g.geom for g in changes.touched + changes.new if not g.retired}),
        },
    }


# A new draft, in one round trip with the expiry of stale drafts and the coverage basis its preview measures with.
INSERT_PLAN_SQL = f"""
WITH expired AS ({budget.EXPIRE_SQL})
INSERT INTO plans (status, author, edits, base_versions) VALUES ('draft', :a, CAST(:e AS jsonb), CAST(:b AS jsonb))
RETURNING id, ({FIVE_MINUTE_BASIS}) AS basis
"""


def create_plan(
    conn: Connection,
    edits: list,
    base_versions: dict[str, int] | None = None,
    author: str | None = None,
    compare: bool = False,
    locked: list[str] | None = None,
) -> dict:
    """Store a draft plan with its preview. ``base_versions`` are the versions the planner saw (409 if stale);
    ``locked`` grids must not change (422 naming them otherwise).

    ``compare`` adds problem counts before the change (``validation.before``); off by default, it costs
    a quarter of the preview.
    """
    if base_versions is not None and not isinstance(base_versions, dict):
        raise InputError(t("expected an object {{grid code: version}}"), field="base_versions")
    aside = untouched(conn)  # before any lock or write of ours
    if base_versions:
        lock_and_check(conn, {str(k): int(v) for k, v in base_versions.items()})
    edits = typed_edits(edits)
    stored = json.dumps([e.model_dump(mode="json", exclude_none=True) for e in edits])
    budget.check_plan_size(stored)
    with budget.preview_budget(conn):
        changes = compute_changes(conn, edits)
        hit = sorted({g.code for g in changes.touched if g.code in set(locked or [])})
        if hit:
            raise InputError(t("grid {codes} is locked: the edit would change it", codes=join(hit)), field="locked")
        base = {**changes.versions(), **{str(k): int(v) for k, v in (base_versions or {}).items()}}
        plan_id, basis = conn.execute(
            text(INSERT_PLAN_SQL), {"a": author, "e": stored, "b": json.dumps(base), "ttl_s": budget.ttl_seconds()}
        ).one()
        preview = simulate(conn, changes, author, compare, basis, aside)
    row = (
        conn.execute(  # the plan as get_plan reads it, in the same round trip as the write
            text(f"UPDATE plans SET preview = CAST(:p AS jsonb) WHERE id = :i RETURNING {PLAN_COLUMNS}"),
            {"p": json.dumps(preview, default=str), "i": plan_id},
        )
        .mappings()
        .one()
    )
    return _plan(row)


PLAN_COLUMNS = "id, status, author, edits, base_versions, preview, created_at, applied_at"


def get_plan(conn: Connection, plan_id: int) -> dict:
    row = conn.execute(text(f"SELECT {PLAN_COLUMNS} FROM plans WHERE id = :i"), {"i": plan_id}).mappings().first()
    if row is None:
        raise NotFound(t("no plan {plan}", plan=plan_id))
    return _plan(row)


def _plan(row: RowMapping) -> dict:
    """A plan row as callers see it (``plan`` = its id)."""
    return {"plan": row["id"], **{k: v for k, v in row.items() if k != "id"}}
