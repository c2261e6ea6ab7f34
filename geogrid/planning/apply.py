"""Writing a plan: new grid versions, retired codes with lineage, and reassignment of affected buildings only.

Everything runs on the caller's connection and transaction: :func:`apply_plan` either commits all of it
or, on any error, nothing. Grids are locked ``FOR UPDATE`` and their versions compared with the ones the
planner saw, so of two planners editing the same grid one wins and the other gets a 409.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pandas as pd
import shapely
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from geogrid.codes import codes_by_id
from geogrid.errors import Conflict, InputError, NotFound
from geogrid.i18n import join, t
from geogrid.planning.budget import check_fresh
from geogrid.planning.edits import Changes, allocate_codes, compute_changes
from geogrid.planning.reach import CANDIDATES_SQL, FACILITY_CANDIDATES_SQL, Reach, reach
from geogrid.planning.validate import RULES, validate

RECORD_VERSION_SQL = """
WITH closed AS (
    UPDATE grid_versions v SET valid_to = coalesce(v.valid_to, :now) FROM grids g
    WHERE g.id = ANY(:ids) AND v.grid_id = g.id AND v.version = g.version RETURNING v.grid_id
)
INSERT INTO grid_versions (grid_id, version, name, kind, community_id, geom, valid_from, valid_to, author)
SELECT id, version, name, kind, community_id, geom, valid_from, :now, author FROM grids g
WHERE id = ANY(:ids) AND id NOT IN (SELECT grid_id FROM closed)
"""

# Candidates come in as an id array (not a subquery) so the planner sees a few hundred rows and uses the
# primary keys; with a subquery it misjudges the count and hash-joins a scan of a million assignments.
NEW_ASSIGNMENT_SQL = """
WITH cand AS (SELECT id, geom FROM buildings WHERE id = ANY(CAST(:ids AS bigint[])))
SELECT c.id, a.grid_id AS old_grid, g.id AS grid_id, coalesce(g.id, n.id) AS nearest_grid_id,
       CASE WHEN g.id IS NOT NULL THEN 0 ELSE ST_Distance(n.geom::geography, c.geom::geography) END AS distance_m,
       a.building_id IS NOT NULL AS had_row
FROM cand c
LEFT JOIN building_assignments a ON a.building_id = c.id
LEFT JOIN LATERAL (SELECT id FROM grids WHERE valid_to IS NULL AND ST_Intersects(geom, c.geom)
                   ORDER BY code LIMIT 1) g ON true
LEFT JOIN LATERAL (SELECT id, geom FROM grids WHERE g.id IS NULL AND valid_to IS NULL
                   ORDER BY geom <-> c.geom LIMIT 1) n ON true
"""

UPSERT_SQL = """
INSERT INTO building_assignments (building_id, grid_id, nearest_grid_id, distance_m)
SELECT * FROM unnest(CAST(:b AS bigint[]), CAST(:g AS int[]), CAST(:n AS int[]), CAST(:d AS float8[]))
ON CONFLICT (building_id) DO UPDATE SET grid_id = EXCLUDED.grid_id, nearest_grid_id = EXCLUDED.nearest_grid_id,
    distance_m = EXCLUDED.distance_m
"""

FACILITIES_SQL = f"""
WITH area AS (SELECT ST_GeomFromWKB(w, 4326) AS geom FROM unnest(CAST(:wkbs AS bytea[])) w),
edge AS (SELECT ST_GeomFromWKB(w, 4326) AS geom FROM unnest(CAST(:edges AS bytea[])) w),
ids AS ({FACILITY_CANDIDATES_SQL}),
cand AS (SELECT f.id, f.geom, f.grid_id FROM ids JOIN facilities f USING (id)), moved AS (
    SELECT c.id, c.grid_id AS old_grid, g.id AS new_grid FROM cand c
    LEFT JOIN LATERAL (SELECT id FROM grids WHERE valid_to IS NULL AND ST_Intersects(geom, c.geom)
                       ORDER BY code LIMIT 1) g ON true
    WHERE c.grid_id IS DISTINCT FROM g.id
), upd AS (UPDATE facilities f SET grid_id = m.new_grid FROM moved m WHERE f.id = m.id RETURNING f.id)
SELECT id AS facility_id, old_grid AS from_grid, new_grid AS to_grid FROM moved
"""


@dataclass
class Written:
    """What :func:`write_changes` did: ids of grids changed, retired and created, and the moves it caused."""

    changed: list[int]
    retired: list[int]
    created: list[int]
    buildings: pd.DataFrame  # building_id, from_grid, to_grid
    facilities: pd.DataFrame  # facility_id, from_grid, to_grid
    handover: list[dict]  # staff/party rows a merge moved: table, id, from (grid id)


def _record_current(conn: Connection, ids: list[int], now: datetime) -> None:
    """Make sure the version in force has its grid_versions row (loaders may not write one), then close it."""
    conn.execute(text(RECORD_VERSION_SQL), {"ids": ids, "now": now})


def _insert_versions(
    conn: Connection, grid_ids: list[int], change_id: int | None, notes: list[str | None] | None = None
) -> None:
    """Record the versions now in force of these grids (written just before), each with its note."""
    conn.execute(
        text(
            "INSERT INTO grid_versions (grid_id, version, name, kind, community_id, geom, valid_from, author, change_id, "
            "note) SELECT g.id, g.version, g.name, g.kind, g.community_id, g.geom, g.valid_from, g.author, :c, v.note "
            "FROM unnest(CAST(:g AS int[]), CAST(:n AS text[])) AS v(id, note) JOIN grids g ON g.id = v.id"
        ),
        {"g": grid_ids, "c": change_id, "n": notes if notes is not None else [None for _ in grid_ids]},
    )


# New grids in one statement each for grids, versions and lineage: the triggers on grids (cards, lookups) then
# run once per plan, not once per new grid.
INSERT_GRIDS_SQL = """
INSERT INTO grids (code, name, kind, community_id, geom, version, valid_from, author)
SELECT v.code, v.name, v.kind, v.c, ST_GeomFromWKB(v.w, 4326), 1, :now, :a
  FROM unnest(CAST(:codes AS text[]), CAST(:names AS text[]), CAST(:kinds AS text[]), CAST(:cs AS int[]),
              CAST(:wkbs AS bytea[])) WITH ORDINALITY AS v(code, name, kind, c, w, n)
 ORDER BY v.n
RETURNING id, code
"""


def _insert_new(
    conn: Connection, changes: Changes, author: str | None, change_id: int | None, now: datetime, history: bool
) -> list[int]:
    """Write the plan's new grids (codes allocated), their first versions and their lineage (with ``history``);
    returns their ids."""
    new = changes.new
    if not new:
        return []
    rows = conn.execute(
        text(INSERT_GRIDS_SQL),
        {
            "codes": [g.code for g in new],
            "names": [g.name for g in new],
            "kinds": [g.kind for g in new],
            "cs": [g.community_id for g in new],
            "wkbs": [shapely.to_wkb(g.geom) for g in new],
            "now": now,
            "a": author,
        },
    )
    ids = {r.code: r.id for r in rows}
    for g in new:
        g.id = ids[g.code]
    created = [g.saved_id for g in new]
    if not history:
        return created
    _insert_versions(conn, created, change_id, [f"from {', '.join(_codes(changes, g.parents))}" for g in new])
    pairs = [(p, g.saved_id) for g in new for p in g.parents]
    conn.execute(
        text(
            "INSERT INTO grid_lineage (parent_id, child_id, change_id) "
            "SELECT p, c, :x FROM unnest(CAST(:p AS int[]), CAST(:c AS int[])) AS v(p, c)"
        ),
        {"p": [p for p, _ in pairs], "c": [c for _, c in pairs], "x": change_id},
    )
    return created


def write_grids(
    conn: Connection, changes: Changes, author: str | None, change_id: int | None, now: datetime, history: bool = True
) -> tuple[list[int], list[int], list[int], list[dict]]:
    """New versions of changed grids, retired parents, new children with lineage.

    Returns the ids changed, retired and created, and the staff/party rows a merge handed over. Without
    ``history`` the versions and lineage (``grid_versions``, ``grid_lineage``) are not written: a preview rolls
    back, and none of what it measures reads them.
    """
    changed = [g for g in changes.touched if not g.retired]
    retired = [g for g in changes.touched if g.retired]
    if history:
        _record_current(conn, [g.saved_id for g in changes.touched], now)
    if changed:  # one statement for all of them: a redraw usually changes the grid and several neighbours
        conn.execute(
            text(
                "UPDATE grids g SET geom = ST_GeomFromWKB(v.w, 4326), name = v.name, kind = v.kind, "
                "version = g.version + 1, valid_from = :now, valid_to = NULL, author = :a "
                "FROM unnest(CAST(:ids AS int[]), CAST(:wkbs AS bytea[]), CAST(:names AS text[]), CAST(:kinds AS text[])) "
                "AS v(id, w, name, kind) WHERE g.id = v.id"
            ),
            {
                "ids": [g.saved_id for g in changed],
                "wkbs": [shapely.to_wkb(g.geom) for g in changed],
                "names": [g.name for g in changed],
                "kinds": [g.kind for g in changed],
                "now": now,
                "a": author,
            },
        )
        if history:
            _insert_versions(conn, [g.saved_id for g in changed], change_id)
    if retired:
        conn.execute(
            text("UPDATE grids SET valid_to = :now WHERE id = ANY(:ids)"),
            {"now": now, "ids": [g.saved_id for g in retired]},
        )
    allocate_codes(conn, changes, lock=change_id is not None)
    created = _insert_new(conn, changes, author, change_id, now, history)
    handover = _hand_over_merged(conn, changes, now.date(), author)
    _hand_back(conn, changes, now.date(), author)
    return [g.saved_id for g in changed], [g.saved_id for g in retired], created, handover


def _codes(changes: Changes, ids: list[int]) -> list[str]:
    return [g.saved_code for g in changes.grids.values() if g.id in ids]


# A current assignment moves to another grid by ending on the day of the change and starting again there:
# the grid it leaves keeps its history, so "who was responsible for grid X on date D" answers for it.
END_SQL = """
UPDATE staff_assignments SET end_date = greatest(CAST(:d AS date), coalesce(start_date, CAST(:d AS date))),
       ended_by = :a
 WHERE grid_id = ANY(:f) AND end_date IS NULL AND (CAST(:ids AS int[]) IS NULL OR id = ANY(CAST(:ids AS int[])))
RETURNING id, staff_id, grid_id, building_id, role, households
"""
# Ended rows ``was`` start again, each on its grid ``to``, in one statement: the card triggers on
# staff_assignments then run once, not once per row (a merge's 7 rows one by one took 45 ms at 1M buildings).
START_SQL = """
INSERT INTO staff_assignments (staff_id, grid_id, building_id, role, start_date, households, author)
SELECT s.staff_id, w.grid_id, s.building_id, s.role, :d, s.households, :a
  FROM unnest(CAST(:was AS int[]), CAST(:to AS int[])) WITH ORDINALITY w(id, grid_id, n)
  JOIN staff_assignments s ON s.id = w.id ORDER BY w.n
RETURNING id, staff_id, building_id, role
"""


def _carry_staff(
    conn: Connection, from_ids: list[int], to_id: int, day: date, author: str | None, ids: list[int] | None = None
) -> list[dict]:
    """End the current assignments on ``from_ids`` (only ``ids`` when given) and start each role again on
    ``to_id`` (once per person, role and building); returns ``{table, id (new row), was (ended row), from}``."""
    ended = sorted(
        conn.execute(text(END_SQL), {"f": from_ids, "d": day, "a": author, "ids": ids}).all(), key=lambda r: r.id
    )
    first: dict[tuple, int] = {}  # (person, building, role) -> the ended row started again for it
    for r in ended:
        first.setdefault((r.staff_id, r.building_id, r.role), r.id)
    started: dict[tuple, int] = {}
    if first:
        was = list(first.values())
        rows = conn.execute(text(START_SQL), {"was": was, "to": [to_id] * len(was), "d": day, "a": author})
        started = {(r.staff_id, r.building_id, r.role): r.id for r in rows}
    return [
        {
            "table": "staff_assignments",
            "id": started[(r.staff_id, r.building_id, r.role)],
            "was": r.id,
            "from": r.grid_id,
        }
        for r in ended
    ]


def _give_back_staff(conn: Connection, records: list[dict], kids: list[int], day: date, author: str | None) -> None:
    """Undo a merge's carry-over: the merged grid's rows end, each ended row starts again on its own grid
    (unless someone ended the merged row since: then nobody is given back)."""
    new_ids = sorted({r["id"] for r in records})
    live = {r.id for r in conn.execute(text(END_SQL), {"f": kids, "d": day, "a": author, "ids": new_ids}).all()}
    back = [rec for rec in records if rec["id"] in live]
    if back:
        conn.execute(
            text(START_SQL), {"was": [r["was"] for r in back], "to": [r["from"] for r in back], "d": day, "a": author}
        )


def _hand_over_merged(conn: Connection, changes: Changes, day: date, author: str | None) -> list[dict]:
    """A merged grid takes its parents' current staff (carried over on the day) and party organisations
    (a split leaves the children to appoint).

    Returns what moved (``table, id, from``) so that undoing the merge can give each back.
    """
    moved = []
    for g in changes.new:
        if len(g.parents) > 1:
            moved += _carry_staff(conn, g.parents, g.saved_id, day, author)
            rows = conn.execute(
                text(
                    "UPDATE party_orgs t SET grid_id = :c FROM (SELECT id, grid_id FROM party_orgs "
                    "WHERE grid_id = ANY(:p)) o WHERE t.id = o.id RETURNING t.id, o.grid_id AS from_grid"
                ),
                {"c": g.id, "p": g.parents},
            ).all()
            moved += [{"table": "party_orgs", "id": r.id, "from": r.from_grid} for r in rows]
    return moved


def _hand_back(conn: Connection, changes: Changes, day: date, author: str | None) -> None:
    """Undoing a split or merge: staff and party organisations go back where the merge took them from;
    the rest of the successors' go to the restored grid when there is only one. Staff go back as dated
    assignments (ended on the successor, started again on the restored grid): history is never rewritten."""
    for kids, parents in changes.undone:
        records = conn.scalars(
            text(
                "SELECT p.preview -> 'handover' FROM plans p WHERE p.id IN "
                "(SELECT change_id FROM grid_lineage WHERE child_id = ANY(:k))"
            ),
            {"k": kids},
        ).all()
        mine = [r for recs in records if recs for r in recs if r["from"] in parents]
        if any("was" in r for r in mine):
            _give_back_staff(conn, [r for r in mine if "was" in r], kids, day, author)
        for rec in (r for r in mine if "was" not in r):  # party organisations (and handovers before 2026-11)
            conn.execute(
                text(f"UPDATE {rec['table']} SET grid_id = :f WHERE id = :i AND grid_id = ANY(:k)"),
                {"f": rec["from"], "i": rec["id"], "k": kids},
            )
        if len(parents) == 1:
            _carry_staff(conn, kids, parents[0], day, author)
            conn.execute(
                text("UPDATE party_orgs SET grid_id = :p WHERE grid_id = ANY(:k)"), {"p": parents[0], "k": kids}
            )


def reassign_buildings(conn: Connection, where: Reach) -> pd.DataFrame:
    """Reassign only the buildings the plan can move (:mod:`geogrid.planning.reach`).

    Same rule as the bulk assignment: the covering grid in force with the lowest code, else the nearest.
    Returns the buildings whose grid changed: ``building_id, from_grid, to_grid``.
    """
    ids = list(conn.scalars(text(CANDIDATES_SQL), where.params()))
    rows = conn.execute(text(NEW_ASSIGNMENT_SQL), {"ids": ids}).all() if ids else []
    rows = [r for r in rows if r.old_grid != r.grid_id or r.grid_id is None or not r.had_row]  # write changes only
    if rows:
        conn.execute(
            text(UPSERT_SQL),
            {
                "b": [r.id for r in rows],
                "g": [r.grid_id for r in rows],
                "n": [r.nearest_grid_id for r in rows],
                "d": [None if r.distance_m is None else float(r.distance_m) for r in rows],
            },
        )
    moved = [(r.id, r.old_grid, r.grid_id) for r in rows if r.old_grid != r.grid_id]
    return pd.DataFrame(moved, columns=["building_id", "from_grid", "to_grid"], dtype=object)


def reassign_facilities(conn: Connection, where: Reach) -> pd.DataFrame:
    result = conn.execute(text(FACILITIES_SQL), where.params())
    return pd.DataFrame(result.mappings().all(), columns=["facility_id", "from_grid", "to_grid"], dtype=object)


def write_changes(
    conn: Connection, changes: Changes, author: str | None, change_id: int | None, history: bool = True
) -> Written:
    """Write the grids, then reassign what lies where a boundary moved (:func:`geogrid.planning.reach.reach`).
    Caller owns the transaction; ``history`` as :func:`write_grids` takes it."""
    now = datetime.now(UTC)  # one instant for every row of this change
    from geogrid.planning.create import write_communities  # communities a partition drew, before their grids

    write_communities(conn, changes)
    changed, retired, created, handover = write_grids(conn, changes, author, change_id, now, history)
    where = reach(changes)
    return Written(
        changed,
        retired,
        created,
        reassign_buildings(conn, where),
        reassign_facilities(conn, where),
        handover,
    )


def lock_and_check(conn: Connection, base: dict[str, int]) -> None:
    """Lock the grids a plan was based on and raise Conflict naming every one that changed since."""
    rows = conn.execute(
        text(
            "SELECT code, version, valid_to, author, valid_from FROM grids WHERE code = ANY(:c) ORDER BY id FOR UPDATE"
        ),
        {"c": list(base)},
    ).all()
    now_at = {r.code: r for r in rows}
    stale = []
    for code, version in sorted(base.items()):
        row = now_at.get(code)
        if row is None:
            stale.append(t("grid {code} no longer exists", code=code))
        elif version < 0:  # the plan brings back a retired grid: it must still be retired at that version
            if row.valid_to is None or row.version != -version:
                stale.append(t("grid {code} is no longer retired at version {version}", code=code, version=-version))
        elif row.valid_to is not None:
            stale.append(t("grid {code} was retired at {at:%Y-%m-%d %H:%M:%S}", code=code, at=row.valid_to))
        elif row.version != version:
            stale.append(
                t(
                    "grid {code} is now version {now} (plan saw {version}), changed by {author} at "
                    "{at:%Y-%m-%d %H:%M:%S}",
                    code=code,
                    now=row.version,
                    version=version,
                    author=row.author or t("unknown"),
                    at=row.valid_from,
                )
            )
    if stale:
        exc = Conflict(t("plan is stale: {reasons}", reasons=join(stale, en="; ", zh="；")))
        exc.extra = {"stale": stale}
        raise exc


def apply_plan(
    conn: Connection, plan_id: int, author: str | None = None, force: bool = False, reason: str | None = None
) -> dict:
    """Apply a draft plan in the caller's transaction; 409 if it was applied already or its grids changed.

    A plan whose change adds validation errors (a gap, an overlap, a grid outside its community...) is refused
    with 409 naming them, unless ``force`` with a ``reason``, which is recorded on the plan.
    """
    if force and not (reason or "").strip():
        raise InputError(t("a forced apply needs a reason"), field="reason")
    check_fresh(conn, plan_id)
    try:
        return _apply(conn, plan_id, author, reason.strip() if force and reason else None)
    except DBAPIError as exc:  # a concurrent apply took the same new code, or deadlocked with us
        if getattr(exc.orig, "sqlstate", None) in ("23505", "40P01", "40001", "55P03"):
            raise Conflict(
                t("plan {plan} collided with another change; preview and apply it again", plan=plan_id)
            ) from None
        raise


def _error_counts(problems: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for p in problems:
        if p["severity"] == "error":
            counts[p["rule"]] = counts.get(p["rule"], 0) + 1
    return counts


def added_errors(before: list[dict], after: list[dict]) -> dict[str, int]:
    """Errors per rule that the change adds (after minus before, where more)."""
    old, new = _error_counts(before), _error_counts(after)
    return {rule: n - old.get(rule, 0) for rule, n in sorted(new.items()) if n > old.get(rule, 0)}


def _apply(conn: Connection, plan_id: int, author: str | None, force_reason: str | None) -> dict:
    plan = conn.execute(
        text("SELECT status, edits, base_versions, author FROM plans WHERE id = :i FOR UPDATE"), {"i": plan_id}
    ).first()
    if plan is None:
        raise NotFound(t("no plan {plan}", plan=plan_id))
    if plan.status != "draft":
        raise Conflict(t("plan {plan} is {status}, not a draft", plan=plan_id, status=plan.status))
    lock_and_check(conn, plan.base_versions)
    changes = compute_changes(conn, plan.edits)
    extra = sorted(set(changes.versions()) - set(plan.base_versions))
    if extra:
        raise Conflict(t("plan is stale: the edits now also change grid(s) {codes}; preview it again", codes=extra))

    lock_and_check(conn, changes.versions())
    cids = sorted({g.community_id for g in changes.grids.values() if g.community_id is not None})
    old_ids = [g.saved_id for g in changes.touched]
    errors = [name for name, rule in RULES.items() if rule.severity == "error"]  # only errors can refuse a plan
    before = validate(conn, cids=cids, grid_ids=old_ids, rules=errors) if cids else []
    written = write_changes(conn, changes, author or plan.author, plan_id)
    after = validate(conn, cids=cids, grid_ids=written.changed + written.created, rules=errors) if cids else []
    added = added_errors(before, after)
    if added and force_reason is None:
        exc = Conflict(
            t(
                "plan {plan} adds validation errors ({errors}): fix it, or apply with force and a reason",
                plan=plan_id,
                errors=join([f"{rule} +{n}" for rule, n in added.items()]),
            )
        )
        exc.extra = {"added_errors": added}
        raise exc
    conn.execute(
        text(
            "UPDATE plans SET status = 'applied', applied_at = now(), force_reason = :r, "
            "preview = coalesce(preview, '{}'::jsonb) || jsonb_build_object('handover', CAST(:h AS jsonb), "
            "'added_errors', CAST(:e AS jsonb)) WHERE id = :i"
        ),
        {"i": plan_id, "h": json.dumps(written.handover), "e": json.dumps(added), "r": force_reason},
    )
    codes = codes_by_id(conn, written.changed + written.retired + written.created)
    return {
        "plan": plan_id,
        "status": "applied",
        "changed": [codes[i] for i in written.changed],
        "retired": [codes[i] for i in written.retired],
        "created": [codes[i] for i in written.created],
        "buildings_moved": len(written.buildings),
        "facilities_moved": len(written.facilities),
        "added_errors": added,
        "force_reason": force_reason,
    }
