"""Preview and apply of one grid edit in a large demo city, against a full reassignment in the same run.

The edit grows a grid in the middle of the city by about 20 m on every side (its neighbours give the
strip up), the common "move the boundary to the next street" change. Measured, each in its own
transaction, on the same data:

- ``assign_all``: the full reassignment (buildings and facilities) that an edit must not need;
- ``preview``: ``create_plan`` — edits, savepoint writes, moved set, before/after figures, validation of
  the affected communities before and after, rolled back, plan stored;
- ``apply``: ``apply_plan`` — row locks, version check, new versions, reassignment of affected buildings.

Target: preview and apply each under 2% of ``assign_all`` (medians of ``ROUNDS`` for both; service areas are
computed first, so previews count coverage per grid as they do in use). Uses GEOGRID_HOME / GEOGRID_DB_PORT when set,
else its own cluster in ``.geogrid-bench``.
"""

from __future__ import annotations

from bench.common import load_city, timed

SIZES = (1_000_000,)
QUICK_SIZES = (20_000,)
GROW_M = 20.0
ROUNDS = 5  # timings per contender; the median is reported


def _edit(conn) -> tuple[str, dict]:
    """A redraw of the middle grid (by code), grown by GROW_M metres."""
    import json

    from sqlalchemy import text

    code, geom = conn.execute(text(
        "SELECT code, ST_AsGeoJSON(ST_Transform(ST_Buffer(ST_Transform(geom, _ST_BestSRID(geom)), :m, "
        "'join=mitre'), 4326)) FROM grids WHERE valid_to IS NULL AND kind = 'basic' ORDER BY code "
        "OFFSET (SELECT count(*) / 2 FROM grids WHERE valid_to IS NULL AND kind = 'basic') LIMIT 1"),
        {"m": GROW_M}).one()
    return code, {"op": "redraw", "grid": code, "geometry": json.loads(geom)}


def median_timed(fn, rounds: int):
    """The median of ``rounds`` timings (one call is at the mercy of a shared machine) and the last result."""
    times, out = [], None
    for _ in range(rounds):
        t, out = timed(fn)
        times.append(t)
    return sorted(times)[rounds // 2], out


def _measure(n: int, load: bool = True) -> dict:
    """Load ``n`` buildings (or, with ``load=False``, reuse the city already loaded) and time the three."""
    from sqlalchemy import text

    from geogrid import db
    from geogrid.assign import assign_all
    from geogrid.coverage.compute import compute_service_areas
    from geogrid.planning.apply import apply_plan
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
    with engine.connect() as conn:
        code, edit = _edit(conn)

    def preview():
        with engine.begin() as conn:
            return create_plan(conn, [edit], author="bench")

    preview_s, plan = median_timed(preview, ROUNDS)

    def apply():
        with engine.begin() as conn:
            return apply_plan(conn, plan["plan"], "bench")

    apply_s, applied = timed(apply)
    totals = plan["preview"]["moved"]["totals"]
    return {
        "buildings": n, "grids": grids, "grid": code, "load_s": round(load_s, 1),
        "assign_all_s": round(assign_s, 3), "preview_s": round(preview_s, 3), "apply_s": round(apply_s, 3),
        "preview_pct_of_assign": round(100 * preview_s / assign_s, 2),
        "apply_pct_of_assign": round(100 * apply_s / assign_s, 2),
        "grids_changed": len(applied["changed"]), "buildings_moved": totals["buildings"],
        "households_moved": totals["households"], "assigned": report.assigned,
    }


def run(quick: bool = False) -> dict:
    from rich.console import Console
    from rich.table import Table

    rows = [_measure(n) for n in (QUICK_SIZES if quick else SIZES)]
    table = Table("buildings", "grids", "assign_all s", "preview s", "apply s", "preview %", "apply %", "moved",
                  title=f"one grid edit (grow {GROW_M:.0f} m) vs a full reassignment")
    for r in rows:
        table.add_row(f"{r['buildings']:,}", f"{r['grids']:,}", str(r["assign_all_s"]), str(r["preview_s"]),
                      str(r["apply_s"]), str(r["preview_pct_of_assign"]), str(r["apply_pct_of_assign"]),
                      str(r["buildings_moved"]))
    Console().print(table)
    return {"benchmark": "planning", "target": "preview and apply of one grid edit each < 2% of assign_all at 1M",
            "rows": rows}


if __name__ == "__main__":  # ``python -m bench.bench_planning``: measure again on the city already loaded
    import json

    print(json.dumps(_measure(0, load=False), indent=2))
