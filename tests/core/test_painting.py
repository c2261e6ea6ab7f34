"""Painting grids from units (move_units, move_buildings through units) on the hand-built 3×3 street city."""

from __future__ import annotations

import pytest
from sqlalchemy import event, text

from geogrid.errors import InputError
from geogrid.planning.apply import apply_plan
from geogrid.planning.painting import community_units
from geogrid.planning.preview import create_plan
from geogrid.planning.undo import undo_plan
from tests.fixtures.paint_city import C1, C2, A, B, C, column


def unit_ids(conn, *names: str, community: str = C1) -> list[int]:
    """Ids of units by the address they are named after ("00" = block column 0, row 0; "东岛1号" = an island)."""
    units = community_units(conn, community)
    out = []
    for name in names:
        key = f"棋盘街{name}号楼" if name.isdigit() else name
        out += [i for i, label in zip(units.ids, units.labels, strict=True) if key in label]
    assert len(out) == len(names)
    return out


def shape(conn, code: str) -> tuple[int, int, float]:
    """Pieces, interior rings (all parts) and area (m²) of a grid in force."""
    return conn.execute(
        text(
            "SELECT ST_NumGeometries(geom), (SELECT coalesce(sum(ST_NumInteriorRings(d.geom)), 0) FROM "
            "ST_Dump(g.geom) d), ST_Area(geom::geography) FROM grids g WHERE code = :c AND valid_to IS NULL"
        ),
        {"c": code},
    ).one()


def tiling_error_m2(conn) -> tuple[float, float]:
    """(gap, overlap) in m² between the community and its grids in force: both zero when grids tile it."""
    return conn.execute(
        text(
            "SELECT ST_Area(ST_Difference(c.geom, u.geom)::geography), "
            "(SELECT coalesce(sum(ST_Area(ST_Intersection(a.geom, b.geom)::geography)), 0) FROM grids a, grids b "
            " WHERE a.valid_to IS NULL AND b.valid_to IS NULL AND a.id < b.id AND ST_Intersects(a.geom, b.geom)) "
            "FROM admin_areas c, (SELECT ST_Union(geom) AS geom FROM grids WHERE valid_to IS NULL) u WHERE c.code = :c"
        ),
        {"c": C1},
    ).one()


def households(conn, code: str) -> int:
    return conn.scalar(
        text(
            "SELECT coalesce(sum(b.households), 0) FROM building_assignments a JOIN buildings b ON b.id = a.building_id "
            "JOIN grids g ON g.id = a.grid_id WHERE g.code = :c"
        ),
        {"c": code},
    )


def test_units_know_their_grid_and_figures(paint_city):
    with paint_city.connect() as conn:
        units = community_units(conn, C1)

    def index(name: str) -> int:  # labels are in GEOGRID_LANG: "棋盘街00号楼所在街块（2 栋楼） (block at ...)"
        return next(k for k, label in enumerate(units.labels) if name in label)

    assert len(units.ids) == 11  # nine blocks and two islands
    assert units.grids[index("棋盘街00号楼")] == A
    assert units.grids[index("棋盘街21号楼")] == B
    assert units.grids[index("东岛1号")] == C
    k = index("棋盘街00号楼")
    assert (units.households[k], units.covered[k]) == (100, 100)  # the station's circle covers this block only
    centre = index("棋盘街11号楼")
    assert len(units.neighbours[centre]) == 4  # four blocks across a road; corners do not count


def test_painting_three_blocks_keeps_both_grids_whole(paint_city):
    with paint_city.begin() as conn:
        ids = unit_ids(conn, "10", "11", "12")  # column 1: from A to B
        plan = create_plan(conn, [{"op": "move_units", "grid": B, "units": ids}])
        preview = plan["preview"]
        after = {g["code"]: g["after"] for g in preview["grids"]}
        assert (after[A]["households"], after[B]["households"]) == (300, 600)
        assert (after[A]["parts"], after[B]["parts"]) == (1, 1)
        assert "棋盘街10号楼" in sorted(u["label"] for u in preview["units"])[0]  # by name
        assert {(u["from"], u["to"]) for u in preview["units"]} == {(A, B)}
        assert preview["off_units"] == []
        apply_plan(conn, plan["plan"])
    with paint_city.connect() as conn:
        assert shape(conn, A)[:2] == (1, 0)
        pieces, rings, area = shape(conn, B)
        assert (pieces, rings) == (1, 1)  # the pond: the community's own hole, not an unassigned one
        assert area == pytest.approx(
            conn.scalar(
                text("SELECT ST_Area(ST_GeomFromText(:w, 4326)::geography)"), {"w": column(1).union(column(2)).wkt}
            ),
            rel=1e-5,
        )  # units follow roads to mm
        gap, overlap = tiling_error_m2(conn)
        assert gap < 1 and overlap < 1
        assert (households(conn, A), households(conn, B)) == (300, 600)
        units = community_units(conn, C1)
        assert units.grids[next(k for k, x in enumerate(units.labels) if "棋盘街11号楼" in x)] == B
    with paint_city.begin() as conn:  # a painting is undone like any plan: the units go back with the grids
        undo_plan(conn, plan["plan"], "test")
        assert (households(conn, A), households(conn, B)) == (600, 300)
        units = community_units(conn, C1)
        assert units.grids[next(k for k, x in enumerate(units.labels) if "棋盘街11号楼" in x)] == A


def test_a_move_that_cuts_a_grid_in_two_needs_confirmation(paint_city):
    with paint_city.begin() as conn:
        ids = unit_ids(conn, "01", "11")  # the middle row of A: A falls into a north and a south piece
        with pytest.raises(InputError) as err:
            create_plan(conn, [{"op": "move_units", "grid": B, "units": ids}])
        assert err.value.status_code == 422
        assert f"grid {A} in 2 pieces" in str(err.value) and "confirm_split" in str(err.value)
        plan = create_plan(conn, [{"op": "move_units", "grid": B, "units": ids, "confirm_split": True}])
        assert {g["code"]: g["after"]["parts"] for g in plan["preview"]["grids"]} == {A: 2, B: 1}
        far = unit_ids(conn, "00")  # not next to B: B would be in two pieces
        with pytest.raises(InputError, match=f"grid {B} in 2 pieces"):
            create_plan(conn, [{"op": "move_units", "grid": B, "units": far}])


def test_multipolygon_grids_may_stay_in_the_pieces_they_had(paint_city):
    with paint_city.begin() as conn:
        island = unit_ids(conn, "东岛2号")
        with pytest.raises(InputError, match=f"grid {B} in 2 pieces"):  # B would gain a detached island
            create_plan(conn, [{"op": "move_units", "grid": B, "units": island}])
        plan = create_plan(conn, [{"op": "move_units", "grid": B, "units": island, "confirm_split": True}])
        apply_plan(conn, plan["plan"])
        assert shape(conn, B)[0] == 2 and shape(conn, C)[0] == 1
        # B is a MultiPolygon now: painting more blocks into it leaves it in the two pieces it has
        plan = create_plan(conn, [{"op": "move_units", "grid": B, "units": unit_ids(conn, "10", "11", "12")}])
        assert {g["code"]: g["after"]["parts"] for g in plan["preview"]["grids"]} == {A: 1, B: 2}
        with pytest.raises(InputError, match="keep nothing"):  # C's last island: merge instead
            create_plan(conn, [{"op": "move_units", "grid": B, "units": unit_ids(conn, "东岛1号")}])


def test_locked_grids_and_foreign_units_are_refused(paint_city):
    with paint_city.begin() as conn:
        ids = unit_ids(conn, "10")
        with pytest.raises(InputError, match=f"grid {A} is locked"):
            create_plan(conn, [{"op": "move_units", "grid": B, "units": ids, "locked": [A]}])
        with pytest.raises(InputError, match=f"grid {A} is locked"):
            create_plan(conn, [{"op": "move_units", "grid": B, "units": ids}], locked=[A])
        far = community_units(conn, C2).ids
        with pytest.raises(InputError, match="outside community"):
            create_plan(conn, [{"op": "move_units", "grid": B, "units": far}])
        with pytest.raises(InputError, match="no unit with id"):
            create_plan(conn, [{"op": "move_units", "grid": B, "units": [10**9]}])
        with pytest.raises(InputError, match="in grid .* already"):
            create_plan(conn, [{"op": "move_units", "grid": B, "units": unit_ids(conn, "21")}])


def test_moving_buildings_moves_their_blocks(paint_city):
    """The issue's scenario: buildings clicked one by one used to be cut out of their grid, leaving the receiving
    grid in pieces and holes in the other. Now each takes its block, and a scattered choice asks first."""
    with paint_city.begin() as conn:
        bid = dict(conn.execute(text("SELECT source_id, id FROM buildings")).all())
        scattered = [bid["b00a"], bid["b02a"]]  # two blocks apart from B and from each other
        with pytest.raises(InputError, match=f"grid {B} in 3 pieces"):
            create_plan(conn, [{"op": "move_buildings", "buildings": scattered, "to": B}])
        picked = [bid["b10a"], bid["b11b"], bid["b12a"]]  # one building of each block of column 1
        plan = create_plan(conn, [{"op": "move_buildings", "buildings": picked, "to": B}])
        moved = {b["address"] for b in plan["preview"]["moved"]["buildings"]}
        assert moved == {f"棋盘街1{r}号{k}" for r in range(3) for k in ("楼", "院")}  # the whole blocks
        apply_plan(conn, plan["plan"])
        assert shape(conn, A)[:2] == (1, 0) and shape(conn, B)[:2] == (1, 1)
        gap, overlap = tiling_error_m2(conn)
        assert gap < 1 and overlap < 1


def test_a_free_hand_redraw_is_reported_off_units(paint_city):
    from shapely.geometry import box, mapping

    with paint_city.begin() as conn:
        geom = box(116.415, 39.90, 116.43, 39.93)  # B's west edge halfway through column 1
        plan = create_plan(conn, [{"op": "redraw", "grid": B, "geometry": mapping(geom)}])
        off = {o["grid"]: o["units_cut"] for o in plan["preview"]["off_units"]}
        assert off == {A: 3, B: 3}


def test_a_locked_neighbour_a_unit_strays_into_by_millimetres_is_left_alone(paint_city):
    with paint_city.begin() as conn:
        # C (the islands) is locked and untouched: painting column 1 into B still works
        plan = create_plan(
            conn, [{"op": "move_units", "grid": B, "units": unit_ids(conn, "10", "11", "12"), "locked": [C]}]
        )
        assert {g["code"] for g in plan["preview"]["grids"]} == {A, B}
        # B locked: A may take a block from B only by unlocking it; a B block that touches A is refused
        with pytest.raises(InputError, match=f"grid {B} is locked"):
            create_plan(conn, [{"op": "move_units", "grid": A, "units": unit_ids(conn, "21"), "locked": [B]}])
        # the centre block (A's, next to B) painted into C with B locked: the block's outline follows the road
        # to the millimetre, so it may stray into B; B keeps its area and stays unchanged
        edit = {"op": "move_units", "grid": C, "units": unit_ids(conn, "11"), "locked": [B], "confirm_split": True}
        plan = create_plan(conn, [edit])
        assert {g["code"] for g in plan["preview"]["grids"]} == {A, C}


def test_which_grid_holds_the_units_is_one_query_however_many_are_painted(paint_city):
    """Painting a whole stroke asks the database as often as painting one unit (no query per unit)."""
    counts = []
    for names in (["10"], ["10", "11", "12"]):
        with paint_city.connect() as conn:
            ids = unit_ids(conn, *names)
            statements: list[str] = []

            def seen(*args: object, statements: list[str] = statements) -> None:
                statements.append(str(args[2]))

            event.listen(conn, "before_cursor_execute", seen)
            plan = create_plan(conn, [{"op": "move_units", "grid": B, "units": ids}])
            assert len(plan["preview"]["units"]) == len(names)
            counts.append(len(statements))
            conn.rollback()
    assert counts[0] == counts[1]


def test_units_drawn_again_keep_their_ids(paint_city):
    """Running the partition again redraws the units; those with the same outline keep their ids, so a page
    opened before (and the draft painted on it) still names the same units."""
    from geogrid.partition.propose import propose

    with paint_city.begin() as conn:
        before = community_units(conn, C1)
        propose(conn, community=C1, seed=5)
        after = community_units(conn, C1)
        assert after.ids == before.ids and after.labels == before.labels
        plan = create_plan(conn, [{"op": "move_units", "grid": B, "units": unit_ids(conn, "10")}])
        assert [u["to"] for u in plan["preview"]["units"]] == [B]
