"""Preview and apply of grid edits in a large demo city, against a full reassignment in the same run.

Several shapes of edit, each chosen so that buildings really move (at least 1% of the edited grid's buildings):

- ``grow``: a redraw of a grid in the middle of the city grown on every side (its neighbours give the strip up),
  the common "move the boundary to the next street" change; the growth is widened until enough buildings move;
- ``move``: ``move_buildings`` of buildings of a neighbour into a grid (1% of its buildings, at least 3);
- ``split``: a grid cut in two along its middle meridian;
- ``merge``: a grid merged with its neighbour.

Measured, each in its own transaction, on the same data, medians of ``ROUNDS`` for every step:

- ``assign_all``: the full reassignment (buildings and facilities) that an edit must not need;
- ``preview``: ``create_plan`` with ``compare`` on (validation before and after) — edits, savepoint writes,
  moved set, before/after figures, rolled back, plan stored;
- ``apply``: ``apply_plan`` — row locks, version check, new versions, reassignment of affected buildings — each
  round rolled back, so every round applies the same plan to the same city.

Target: preview and apply of every edit each under 2% of ``assign_all`` (service areas are computed first, so
previews count coverage per grid as they do in use). Uses GEOGRID_HOME / GEOGRID_DB_PORT when set, else its own
cluster in ``.geogrid-bench``.
"""

from __future__ import annotations

from bench.common import goal, load_city, median_timed, timed

SIZES = (1_000_000,)
QUICK_SIZES = (20_000,)
ROUNDS = 5  # timings per step; the median is reported
MIN_MOVED_SHARE = 0.01


def _middle_grid(conn) -> tuple[str, int]:
    """The basic grid in the middle of the code order, and how many buildings it holds."""
    from sqlalchemy import text

    return tuple(
        conn.execute(
            text(
                "SELECT g.code, (SELECT count(*) FROM building_assignments a WHERE a.grid_id = g.id) FROM grids g "
                "WHERE valid_to IS NULL AND kind = 'basic' ORDER BY code "
                "OFFSET (SELECT count(*) / 2 FROM grids WHERE valid_to IS NULL AND kind = 'basic') LIMIT 1"
            )
        ).one()
    )


def _neighbour(conn, code: str) -> str:
    from sqlalchemy import text

    return conn.scalar(
        text(
            "SELECT n.code FROM grids g JOIN grids n ON n.valid_to IS NULL AND n.kind = 'basic' AND n.id <> g.id "
            "AND ST_Intersects(n.geom, g.geom) WHERE g.code = :c AND g.valid_to IS NULL "
            "ORDER BY ST_Length(ST_Intersection(ST_Boundary(n.geom), ST_Boundary(g.geom))) DESC, n.code LIMIT 1"
        ),
        {"c": code},
    )


def _grow(conn, code: str, metres: float) -> dict:
    import json

    from sqlalchemy import text

    geom = conn.scalar(
        text(
            "SELECT ST_AsGeoJSON(ST_Transform(ST_Buffer(ST_Transform(geom, _ST_BestSRID(geom)), :m, 'join=mitre'), "
            "4326)) FROM grids WHERE valid_to IS NULL AND code = :c"
        ),
        {"m": metres, "c": code},
    )
    return {"op": "redraw", "grid": code, "geometry": json.loads(geom)}


def _edits(conn, code: str, held: int) -> dict[str, dict]:
    """One edit of each shape around grid ``code`` (holding ``held`` buildings)."""
    import json

    from sqlalchemy import text

    other = _neighbour(conn, code)
    count = max(3, round(held * MIN_MOVED_SHARE))
    moved = list(
        conn.scalars(
            text(
                "SELECT b.id FROM buildings b JOIN building_assignments a ON a.building_id = b.id "
                "JOIN grids n ON n.id = a.grid_id JOIN grids g ON g.code = :c AND g.valid_to IS NULL "
                "WHERE n.code = :o ORDER BY ST_Distance(b.geom, g.geom), b.id LIMIT :k"
            ),
            {"c": code, "o": other, "k": count},
        )
    )
    line = conn.scalar(
        text(
            "SELECT ST_AsGeoJSON(ST_MakeLine(ST_MakePoint(ST_X(c), ST_YMin(g.geom) - 0.001), "
            "ST_MakePoint(ST_X(c), ST_YMax(g.geom) + 0.001))) FROM grids g, ST_Centroid(g.geom) c "
            "WHERE g.code = :c AND g.valid_to IS NULL"
        ),
        {"c": code},
    )
    return {
        "move": {"op": "move_buildings", "buildings": moved, "to": code},
        "split": {"op": "split", "grid": code, "line": json.loads(line)},
        "merge": {"op": "merge", "grids": [code, other], "name": "bench merge"},
    }


def _measure(n: int, load: bool = True) -> dict:
    """Load ``n`` buildings (or, with ``load=False``, reuse the city already loaded) and time the three."""
    from sqlalchemy import text

    from geogrid import db
    from geogrid.assign import assign_all
    from geogrid.coverage.compute import compute_service_areas
    from geogrid.planning.preview import create_plan

    engine = db.ready()
    if load:
        load_s, grids = timed(lambda: load_city(n, ("buildings", "grids", "admin_areas", "facilities", "residents")))
        with engine.begin() as conn:  # previews count 5-minute coverage per grid, as they do in use
            compute_service_areas(conn)
    else:
        with engine.connect() as conn:
            load_s = 0.0
            n = conn.scalar(text("SELECT count(*) FROM buildings"))
            grids = conn.scalar(text("SELECT count(*) FROM grids WHERE valid_to IS NULL"))

    def full():
        with engine.begin() as conn:
            return assign_all(conn)

    assign_s, report = median_timed(full, ROUNDS)
    rows = {}
    with engine.connect() as conn:
        code, held = _middle_grid(conn)
        edits = _edits(conn, code, held)
    for metres in (20.0, 50.0, 100.0, 200.0):  # widen the growth until enough buildings move
        with engine.connect() as conn:
            edits["grow"] = _grow(conn, code, metres)
        with engine.begin() as conn:
            moved = create_plan(conn, [edits["grow"]], author="bench")["preview"]["moved"]["totals"]["buildings"]
        if moved >= MIN_MOVED_SHARE * held:
            break
    for shape, edit in edits.items():
        rows[shape] = _time_edit(engine, edit, held)
    return {
        "buildings": n,
        "grids": grids,
        "grid": code,
        "grid_buildings": held,
        "load_s": round(load_s, 1),
        "assign_all_s": round(assign_s, 3),
        "assigned": report.assigned,
        "edits": {
            shape: {
                **r,
                "preview_pct_of_assign": round(100 * r["preview_s"] / assign_s, 2),
                "apply_pct_of_assign": round(100 * r["apply_s"] / assign_s, 2),
            }
            for shape, r in rows.items()
        },
    }


def _time_edit(engine, edit: dict, held: int) -> dict:
    """Medians of preview and apply of one edit; every apply is rolled back so each round sees the same city."""
    from geogrid.planning.apply import apply_plan
    from geogrid.planning.preview import create_plan

    def preview():
        with engine.begin() as conn:
            return create_plan(conn, [edit], author="bench", compare=True)

    preview_s, plan = median_timed(preview, ROUNDS)

    def apply():
        with engine.connect() as conn:
            conn.begin()
            try:
                # forced: a grid grown at a community's edge crosses it; the validation is still run and timed
                return apply_plan(conn, plan["plan"], "bench", force=True, reason="benchmark round, rolled back")
            finally:
                conn.rollback()

    apply_s, applied = median_timed(apply, ROUNDS)
    totals = plan["preview"]["moved"]["totals"]
    return {
        "preview_s": round(preview_s, 4),
        "apply_s": round(apply_s, 4),
        "grids_changed": len(applied["changed"]),
        "buildings_moved": totals["buildings"],
        "households_moved": totals["households"],
        "moved_share_of_grid": round(totals["buildings"] / max(held, 1), 4),
    }


def run(quick: bool = False) -> dict:
    from rich.console import Console
    from rich.table import Table

    rows = [_measure(n) for n in (QUICK_SIZES if quick else SIZES)]
    table = Table(
        "buildings",
        "edit",
        "moved",
        "assign_all s",
        "preview s",
        "apply s",
        "preview %",
        "apply %",
        title="grid edits vs a full reassignment (medians)",
    )
    goals = []
    for r in rows:
        for shape, e in r["edits"].items():
            table.add_row(
                f"{r['buildings']:,}",
                shape,
                str(e["buildings_moved"]),
                str(r["assign_all_s"]),
                str(e["preview_s"]),
                str(e["apply_s"]),
                str(e["preview_pct_of_assign"]),
                str(e["apply_pct_of_assign"]),
            )
            for step in ("preview", "apply"):
                goals.append(
                    goal(
                        f"{shape} {step} as % of assign_all at {r['buildings']:,}",
                        e[f"{step}_pct_of_assign"],
                        2,
                        at_least=False,
                        unit="%",
                    )
                )
    Console().print(table)
    return {
        "target": "preview and apply of each edit < 2% of assign_all at 1M, buildings really moving",
        "goals": goals,
        "rows": rows,
    }


if __name__ == "__main__":  # ``python -m bench.bench_planning``: measure again on the city already loaded
    import json

    print(json.dumps(_measure(0, load=False), indent=2))
