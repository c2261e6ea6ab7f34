"""Plans on real PostGIS: preview equals an independent Shapely computation, apply/revert, conflicts, atomicity."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import shapely
from shapely.geometry import box, mapping
from sqlalchemy import text

from geogrid.errors import Conflict, InputError, NotFound
from geogrid.planning import apply as apply_module
from geogrid.planning.apply import apply_plan
from geogrid.planning.history import history, revert
from geogrid.planning.preview import create_plan
from tests.fixtures import planning_city as pc
from tests.fixtures.planning_city import C1, A, B, D, M, snapshot

A_GROWN = shapely.difference(box(116.30, 39.90, 116.3125, 39.91), pc.HOLE)  # A takes a 0.0025° strip of B


def _expected_owner(grids: dict[str, shapely.Geometry]) -> dict[str, str | None]:
    """Each building's grid by Shapely alone: the lowest code among the grids covering it."""
    out = {}
    for i, (x, y, _) in enumerate(pc.BUILDINGS):
        covering = sorted(c for c, g in grids.items() if shapely.intersects(g, shapely.Point(x, y)))
        out[f"b{i}"] = covering[0] if covering else None
    return out


def _plan(engine, edits, **kw) -> dict:
    with engine.begin() as conn:
        return create_plan(conn, edits, **kw)


def _apply(engine, plan_id: int, author: str = "王规划", **kw) -> dict:
    with engine.begin() as conn:
        return apply_plan(conn, plan_id, author, **kw)


def _redraw(code: str, geom, **extra) -> dict:
    return {"op": "redraw", "grid": code, "geometry": mapping(geom), **extra}


def test_redraw_preview_equals_independent_computation_then_apply(planning_city):
    before = {code: geom for code, (_, _, geom) in pc.GRIDS.items()}
    after = {**before, A: A_GROWN, B: shapely.difference(before[B], A_GROWN)}
    old, new = _expected_owner(before), _expected_owner(after)
    expected = {b for b in old if old[b] != new[b]}
    assert expected == {"b4"}  # (116.312, 39.903) — and b3 on the old edge stays in A

    plan = _plan(planning_city, [_redraw(A, A_GROWN)], author="王规划")
    preview = plan["preview"]
    moved = {b["source_id"]: (b["from"], b["to"]) for b in preview["moved"]["buildings"]}
    assert moved == {b: (old[b], new[b]) for b in expected}
    assert preview["moved"]["totals"] == {"buildings": 1, "households": 200, "residents": 2, "facilities": 0}
    stats = {g["code"]: g for g in preview["grids"]}
    assert set(stats) == {A, B} and stats[B]["status"] == "changed"
    assert stats[A]["before"]["households"] == 435 and stats[A]["after"]["households"] == 635
    assert stats[B]["after"]["area_m2"] < stats[B]["before"]["area_m2"]
    assert preview["validation"]["after"].get("household_band") == 2  # A holds 635 > 500, B 260 < 300
    assert "map_url" not in preview  # the core makes no API URLs: the API adds the link
    assert plan["base_versions"] == {A: 1, B: 1}
    with planning_city.connect() as conn:
        assert snapshot(conn)["assignments"]["b4"] == B  # the preview left nothing behind

    result = _apply(planning_city, plan["plan"])
    assert result["changed"] == [A, B] or set(result["changed"]) == {A, B}
    with planning_city.connect() as conn:
        snap = snapshot(conn)
        versions = dict(conn.execute(text("SELECT code, version FROM grids")).all())
    assert snap["assignments"] == new and versions[A] == 2 and versions[B] == 2
    assert shapely.from_wkb(bytes(snap["grids"][A][0])).equals(A_GROWN)


def test_preview_shows_coverage_moving_with_the_buildings(planning_city):
    """With 5-minute areas computed, each grid's covered households before and after come with the preview,
    equal to a geodesic count of households within 300 m of a station (the candidate site does not count)."""
    from pyproj import Geod

    from geogrid.coverage.compute import compute_service_areas

    with planning_city.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO facilities (name, kind, candidate, geom) VALUES "
                "('巴蜀南服务站', 'service_station', false, "
                "ST_SetSRID(ST_MakePoint(116.3125, 39.9035), 4326)),"
                "('拟建服务站', 'service_station', true, ST_SetSRID(ST_MakePoint(116.318, 39.908), 4326))"
            )
        )
        compute_service_areas(conn, modes=("circle",))
        stations = conn.execute(
            text("SELECT ST_X(geom), ST_Y(geom) FROM facilities WHERE circle_minutes = 5 AND NOT candidate")
        ).all()
    geod = Geod(ellps="WGS84")

    def covered(grids: dict[str, shapely.Geometry]) -> dict[str, int]:
        owner, out = _expected_owner(grids), {A: 0, B: 0}
        for i, (x, y, households) in enumerate(pc.BUILDINGS):
            metres = min(geod.inv(x, y, sx, sy)[2] for sx, sy in stations)
            assert not 300 * np.cos(np.pi / 64) - 1 < metres < 301  # clear of the circle's edge
            if metres < 300 and owner[f"b{i}"] in out:
                out[owner[f"b{i}"]] += households
        return out

    before = {code: geom for code, (_, _, geom) in pc.GRIDS.items()}
    after = {**before, A: A_GROWN, B: shapely.difference(before[B], A_GROWN)}
    stats = {g["code"]: g for g in _plan(planning_city, [_redraw(A, A_GROWN)])["preview"]["grids"]}
    assert {c: stats[c]["before"]["covered_households"] for c in (A, B)} == covered(before)
    assert {c: stats[c]["after"]["covered_households"] for c in (A, B)} == covered(after)
    assert stats[A]["after"]["coverage"] == round(covered(after)[A] / 635, 3)
    assert covered(after)[A] - covered(before)[A] == 200  # b4 is covered, and goes to A with its households


def test_apply_then_revert_restores_exact_state(planning_city):
    with planning_city.connect() as conn:
        start = snapshot(conn)
    plan = _plan(planning_city, [_redraw(A, A_GROWN)])
    _apply(planning_city, plan["plan"])
    with planning_city.begin() as conn:
        revert(conn, A, 1, "张审核")  # A gives the strip back: a gap until B is reverted too
        revert(conn, B, 1, "张审核")
    with planning_city.connect() as conn:
        end = snapshot(conn)
        hist = history(conn, A)
    assert end["grids"] == start["grids"]  # byte-identical boundaries, names, kinds
    assert end["assignments"] == start["assignments"] and end["facilities"] == start["facilities"]
    assert [v["version"] for v in hist["versions"]] == [1, 2, 3]
    assert hist["versions"][0]["valid_to"] is not None and hist["versions"][2]["author"] == "张审核"
    assert hist["versions"][2]["geometry"] == hist["versions"][0]["geometry"]


def test_two_planners_one_wins_other_gets_409(planning_city):
    first = _plan(planning_city, [_redraw(A, A_GROWN)], author="planner 1")
    second = _plan(
        planning_city, [_redraw(A, shapely.difference(box(116.30, 39.90, 116.309, 39.91), pc.HOLE))], author="planner 2"
    )
    results: list[object] = []

    def go(plan_id: int) -> None:  # forced: the second plan leaves a gap, and whichever runs first must win
        try:
            results.append(_apply(planning_city, plan_id, force=True, reason="两人同时应用"))
        except Conflict as exc:
            results.append(exc)

    threads = [threading.Thread(target=go, args=(p["plan"],)) for p in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wins = [r for r in results if isinstance(r, dict)]
    losses = [r for r in results if isinstance(r, Conflict)]
    assert len(wins) == 1 and len(losses) == 1
    assert f"grid {A} is now version 2 (plan saw 1)" in str(losses[0])
    with planning_city.connect() as conn:
        statuses = sorted(conn.scalars(text("SELECT status FROM plans ORDER BY id")))
        version = conn.scalar(text("SELECT version FROM grids WHERE code = :c"), {"c": A})
        kept = conn.scalar(
            text("SELECT count(*) FROM grid_versions v JOIN grids g ON g.id = v.grid_id WHERE g.code = :c"), {"c": A}
        )
    assert statuses == ["applied", "draft"] and version == 2 and kept == 2  # v1 kept, the loser's plan kept


def test_stale_base_version_at_creation_is_409(planning_city):
    _apply(planning_city, _plan(planning_city, [_redraw(A, A_GROWN)])["plan"])
    with pytest.raises(Conflict, match=f"grid {A} is now version 2"):
        _plan(planning_city, [_redraw(B, box(116.31, 39.90, 116.32, 39.91))], base_versions={A: 1, B: 1})


def test_failure_mid_apply_leaves_database_unchanged(planning_city, monkeypatch):
    plan = _plan(
        planning_city,
        [{"op": "split", "grid": A, "line": mapping(shapely.LineString([(116.306, 39.89), (116.306, 39.92)]))}],
    )
    with planning_city.connect() as conn:
        before = snapshot(conn)

    def boom(*args, **kwargs):
        raise RuntimeError("disk full while reassigning facilities")

    monkeypatch.setattr(apply_module, "reassign_facilities", boom)
    with pytest.raises(RuntimeError):
        _apply(planning_city, plan["plan"])
    with planning_city.connect() as conn:
        after = snapshot(conn)
        status = conn.scalar(text("SELECT status FROM plans WHERE id = :i"), {"i": plan["plan"]})
    assert after == before and status == "draft"


def test_split_retires_code_with_lineage_and_new_codes(planning_city):
    line = shapely.LineString([(116.306, 39.89), (116.306, 39.92)])
    plan = _plan(planning_city, [{"op": "split", "grid": A, "line": mapping(line)}])
    result = _apply(planning_city, plan["plan"])
    west, east = C1 + "005", C1 + "006"  # after 001, 002, 004: numbers are never reused
    assert result["retired"] == [A] and result["created"] == [west, east]
    with planning_city.connect() as conn:
        snap = snapshot(conn)
        hist = history(conn, A)
    assert hist["status"] == "retired" and hist["children"] == [west, east]
    assert snap["assignments"]["b0"] == west and snap["assignments"]["b1"] == east
    assert snap["assignments"]["b3"] == B  # on the edge of B and the new east grid: the lowest code wins
    with planning_city.begin() as conn:  # a second split in the same community takes the next numbers
        created = apply_plan(
            conn,
            create_plan(
                conn,
                [
                    {
                        "op": "split",
                        "grid": east,
                        "line": mapping(shapely.LineString([(116.305, 39.906), (116.32, 39.906)])),
                    }
                ],
            )["plan"],
        )["created"]
    assert created == [C1 + "007", C1 + "008"]


def test_split_refreshes_the_nearest_grid_of_buildings_outside_every_grid(planning_city):
    with planning_city.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO buildings (source_id, households, geom) VALUES "
                "('outside', 8, ST_SetSRID(ST_MakePoint(116.2995, 39.902), 4326))"
            )
        )  # 43 m west of A
        from geogrid.assign import assign_all

        assign_all(conn)
    line = mapping(shapely.LineString([(116.306, 39.89), (116.306, 39.92)]))
    result = _apply(planning_city, _plan(planning_city, [{"op": "split", "grid": A, "line": line}])["plan"])
    with planning_city.connect() as conn:
        nearest, distance = conn.execute(
            text(
                "SELECT g.code, a.distance_m FROM building_assignments a JOIN buildings b ON b.id = a.building_id "
                "JOIN grids g ON g.id = a.nearest_grid_id WHERE b.source_id = 'outside'"
            )
        ).one()
    assert nearest == result["created"][0] and 40 < distance < 46


def test_merge_hands_over_staff_and_moves_everyone(planning_city):
    result = _apply(planning_city, _plan(planning_city, [{"op": "merge", "grids": [A, B], "name": "合并网格"}])["plan"])
    merged = C1 + "005"
    assert result["created"] == [merged] and sorted(result["retired"]) == [A, B]
    with planning_city.connect() as conn:
        snap = snapshot(conn)
        staff_grid = conn.scalar(
            text("SELECT g.code FROM staff_assignments s JOIN grids g ON g.id = s.grid_id WHERE s.end_date IS NULL")
        )
    owners = {b: g for b, g in snap["assignments"].items()}
    assert owners["b0"] == merged and owners["b4"] == merged and owners["b8"] == D and owners["b10"] == M
    assert staff_grid == merged and snap["facilities"]["菜市场"] == merged


def test_move_buildings_takes_the_building_from_its_grid(planning_city):
    with planning_city.connect() as conn:
        b4 = conn.scalar(text("SELECT id FROM buildings WHERE source_id = 'b4'"))
    plan = _plan(planning_city, [{"op": "move_buildings", "buildings": [b4], "to": A}])
    assert [(b["source_id"], b["from"], b["to"]) for b in plan["preview"]["moved"]["buildings"]] == [("b4", B, A)]
    assert plan["preview"]["validation"]["after"].get("several_parts") == 1  # A is now in two parts
    _apply(planning_city, plan["plan"])
    with planning_city.connect() as conn:
        snap = snapshot(conn)
    assert snap["assignments"]["b4"] == A and sum(v == A for v in snap["assignments"].values()) == 7


def _gcj02_by_prcoords(coords: np.ndarray) -> np.ndarray:
    """GCJ-02 from the independent prcoords package, not from the code under test."""
    import prcoords

    return np.array([prcoords.wgs_gcj((lat, lon))[::-1] for lon, lat in coords])


def test_gcj02_redraw_is_stored_in_wgs84(planning_city):
    gcj = shapely.transform(A_GROWN, _gcj02_by_prcoords)
    assert shapely.hausdorff_distance(gcj, A_GROWN) > 0.002  # a few hundred metres off
    plan = _plan(planning_city, [{**_redraw(A, gcj), "crs": "gcj02"}])
    after = next(f for f in plan["preview"]["geometry"]["after"]["features"] if f["properties"]["code"] == A)
    got = shapely.geometry.shape(after["geometry"])
    assert shapely.hausdorff_distance(got, A_GROWN) < 1e-7  # about a centimetre


@pytest.mark.parametrize(
    "edits, error, field",
    [
        ([{"op": "paint"}], InputError, "edits[0].op"),
        (
            [{"op": "redraw", "grid": A, "geometry": {"type": "Point", "coordinates": [116.3, 39.9]}}],
            InputError,
            "edits[0].geometry",
        ),
        (
            [{"op": "split", "grid": A, "line": mapping(shapely.LineString([(116.0, 39.0), (116.1, 39.0)]))}],
            InputError,
            "edits[0].line",
        ),
        ([{"op": "merge", "grids": [A, M]}], InputError, "edits[0].grids"),
        ([{"op": "redraw", "grid": "nope", "geometry": mapping(box(0, 0, 1, 1))}], NotFound, None),
        ([{"op": "revert", "grid": A, "to_version": 7}], NotFound, None),
        ([_redraw(A, box(116.299, 39.899, 116.321, 39.911))], InputError, "edits[0].geometry"),  # swallows B
    ],
)
def test_bad_edits_are_clear_errors_and_write_nothing(planning_city, edits, error, field):
    with planning_city.connect() as conn:
        before = snapshot(conn)
    with pytest.raises(error) as info:
        _plan(planning_city, edits)
    if field:
        assert info.value.field == field
    with planning_city.connect() as conn:
        assert snapshot(conn) == before


def _in_force(snap: dict) -> dict:
    """The state a user sees: grids in force (with boundary, name, kind), assignments, facilities."""
    return {
        "grids": {c: v for c, v in snap["grids"].items() if v[3]},
        "assignments": snap["assignments"],
        "facilities": snap["facilities"],
    }


def _staff(conn) -> dict:
    return dict(
        conn.execute(
            text(
                "SELECT 'staff', g.code FROM staff_assignments s JOIN grids g ON g.id = s.grid_id "
                "WHERE s.end_date IS NULL UNION ALL "
                "SELECT 'party', g.code FROM party_orgs p JOIN grids g ON g.id = p.grid_id"
            )
        ).all()
    )


@pytest.mark.parametrize(
    "edit",
    [
        {"op": "split", "grid": A, "line": mapping(shapely.LineString([(116.306, 39.89), (116.306, 39.92)]))},
        {"op": "merge", "grids": [A, B]},
    ],
)
def test_split_or_merge_then_revert_restores_state_and_staff(planning_city, edit):
    with planning_city.connect() as conn:
        start, staff = _in_force(snapshot(conn)), _staff(conn)
    result = _apply(planning_city, _plan(planning_city, [edit])["plan"])
    with planning_city.begin() as conn:
        reverted = revert(conn, A, 1, "张审核")  # undo: A (and B after a merge) return, successors retire
        end, staff_end = _in_force(snapshot(conn)), _staff(conn)
        hist = history(conn, A)
    assert sorted(reverted["retired"]) == sorted(result["created"])
    assert end == start and staff_end == staff
    assert hist["status"] == "in force" and hist["current_version"] == 2 and hist["children"] == result["created"]
    with planning_city.begin() as conn, pytest.raises(Conflict, match="retired"):  # the successors cannot be edited now
        create_plan(conn, [_redraw(result["created"][0], box(116.30, 39.90, 116.301, 39.901))])


def test_revert_of_retired_grid_is_stale_if_its_successor_changed(planning_city):
    line = mapping(shapely.LineString([(116.306, 39.89), (116.306, 39.92)]))
    west = _apply(planning_city, _plan(planning_city, [{"op": "split", "grid": A, "line": line}])["plan"])["created"][0]
    undo = _plan(planning_city, [{"op": "revert", "grid": A, "to_version": 1}])
    assert undo["base_versions"][A] == -1 and undo["base_versions"][west] == 1
    with planning_city.begin() as conn:  # the west piece is split again before the undo is applied
        apply_plan(
            conn,
            create_plan(
                conn,
                [
                    {
                        "op": "split",
                        "grid": west,
                        "line": mapping(shapely.LineString([(116.29, 39.905), (116.31, 39.905)])),
                    }
                ],
            )["plan"],
        )
    with pytest.raises(Conflict, match=f"grid {west} was retired"):
        _apply(planning_city, undo["plan"])


def test_concurrent_splits_in_one_community_take_distinct_codes(planning_city):
    """Two planners split different grids of one community at once: both apply, no code is taken twice."""
    cut_a = mapping(shapely.LineString([(116.306, 39.89), (116.306, 39.92)]))
    cut_b = mapping(shapely.LineString([(116.315, 39.89), (116.315, 39.92)]))
    plans = [_plan(planning_city, [{"op": "split", "grid": g, "line": line}]) for g, line in ((A, cut_a), (B, cut_b))]
    results: list[object] = []

    def go(plan_id: int) -> None:  # forced: the second plan leaves a gap, and whichever runs first must win
        try:
            results.append(_apply(planning_city, plan_id, force=True, reason="两人同时应用"))
        except Exception as exc:  # reported by the assertion below
            results.append(exc)

    threads = [threading.Thread(target=go, args=(p["plan"],)) for p in plans]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(isinstance(r, dict) for r in results), results
    created = sorted(code for r in results for code in r["created"])
    assert len(results) == 2 and created == [C1 + f"{n:03d}" for n in (5, 6, 7, 8)]


def test_city_loads_as_drawn(planning_city):
    with planning_city.connect() as conn:
        snap = snapshot(conn)
    assert snap["assignments"]["b3"] == A and snap["assignments"]["b9"] == A and snap["assignments"]["b8"] == D
    assert set(snap["grids"]) == {A, B, D, M}
    assert shapely.from_wkb(bytes(snap["grids"][M][0])).geom_type == "MultiPolygon"


def _assignments(conn) -> dict:
    """Every building's grid, nearest grid and distance (the bulk and the per-plan assignment measure it a few
    centimetres apart: compared to 0.1 m), and every facility's grid, by source id or name."""
    buildings = conn.execute(
        text(
            "SELECT b.source_id, a.grid_id, a.nearest_grid_id, a.distance_m "
            "FROM buildings b LEFT JOIN building_assignments a ON a.building_id = b.id"
        )
    ).all()
    facilities = conn.execute(text("SELECT name, grid_id FROM facilities")).all()
    return {r[0]: (r[1], r[2], pytest.approx(r[3] or 0.0, abs=0.1)) for r in buildings} | {
        ("facility", r[0]): r[1] for r in facilities
    }


def test_applied_plans_leave_what_a_full_assignment_would(planning_city):
    """A sequence of edits (grow, move buildings, split, a shrink leaving a gap, merge, reverts bringing retired
    grids back): after each apply, the stored assignments (grid, nearest grid and distance of buildings outside
    every grid, facilities) are those ``assign_all`` computes from scratch over the grids now in force."""
    from geogrid.assign import assign_all

    with planning_city.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO buildings (source_id, households, geom) VALUES "
                "('outside', 8, ST_SetSRID(ST_MakePoint(116.2995, 39.902), 4326)), "
                "('corner', 3, ST_SetSRID(ST_MakePoint(116.31, 39.91), 4326))"
            )
        )
        assign_all(conn)
        b5 = conn.scalar(text("SELECT id FROM buildings WHERE source_id = 'b5'"))
    half = shapely.LineString([(116.315, 39.89), (116.315, 39.92)])
    edits = [
        [_redraw(A, A_GROWN)],
        [{"op": "move_buildings", "buildings": [b5], "to": A}],
        [{"op": "split", "grid": B, "line": mapping(half)}],
        [_redraw(D, box(116.3045, 39.9045, 116.305, 39.905))],  # a gap: b8 goes to no grid
        [{"op": "merge", "grids": [C1 + "005", C1 + "006"], "name": "合并"}],
        [{"op": "revert", "grid": C1 + "005", "to_version": 1}],  # the merge undone: its parents come back
        [{"op": "revert", "grid": B, "to_version": 1}],  # the split undone: B comes back
        [{"op": "revert", "grid": A, "to_version": 1}],
    ]
    gaps = 0
    for plan_edits in edits:
        plan = _plan(planning_city, plan_edits)["plan"]
        applied = _apply(planning_city, plan, force=True, reason="test: a gap is left on purpose")
        with planning_city.connect() as conn:
            conn.begin()
            stored = _assignments(conn)
            assign_all(conn)
            fresh = _assignments(conn)
            conn.rollback()
        assert stored == fresh, (plan_edits, applied)
        gaps += stored["b8"][0] is None
    assert gaps >= 1  # the shrink of D did leave b8 outside every grid for a while
