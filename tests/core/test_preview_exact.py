"""A preview is what applying does: its figures and problems equal those measured after a real apply.

The preview writes the grids and assignments in a savepoint but not the version history (nothing it
measures reads it); these tests hold it to the state an apply leaves, edit shape by edit shape.
"""

from __future__ import annotations

import pytest
import shapely
from shapely.geometry import box, mapping
from sqlalchemy import Connection, text

from geogrid.planning.apply import apply_plan
from geogrid.planning.aside import untouched
from geogrid.planning.preview import coverage_basis, create_plan, grid_stats
from geogrid.planning.validate import summary, validate
from tests.fixtures import planning_city as pc
from tests.fixtures.planning_city import A, B

A_GROWN = shapely.difference(box(116.30, 39.90, 116.3125, 39.91), pc.HOLE)
EDITS = {
    "redraw": [{"op": "redraw", "grid": A, "geometry": mapping(A_GROWN)}],
    "split": [{"op": "split", "grid": A, "line": mapping(shapely.LineString([(116.306, 39.89), (116.306, 39.92)]))}],
    "merge": [{"op": "merge", "grids": [A, B], "name": "合并网格"}],
}


def _history(conn: Connection) -> tuple[int, int]:
    return conn.execute(text("SELECT (SELECT count(*) FROM grid_versions), (SELECT count(*) FROM grid_lineage)")).one()


def _ids(conn: Connection, codes: list[str]) -> dict[str, int]:
    return dict(conn.execute(text("SELECT code, id FROM grids WHERE code = ANY(:c)"), {"c": codes}).all())


def _community(conn: Connection) -> list[int]:
    return [conn.scalar(text("SELECT community_id FROM grids WHERE code = :c"), {"c": A})]


@pytest.mark.parametrize("shape", sorted(EDITS))
def test_preview_equals_the_state_apply_leaves(planning_city, shape):
    with planning_city.connect() as conn:
        history_before = _history(conn)
    with planning_city.begin() as conn:
        plan = create_plan(conn, EDITS[shape], compare=True)
    preview = plan["preview"]
    touched = [g["code"] for g in preview["grids"] if g["status"] != "new"]
    kept = [g["code"] for g in preview["grids"] if g["after"] is not None]
    with planning_city.connect() as conn:
        assert _history(conn) == history_before  # the preview left nothing behind
        cids = _community(conn)
        expected_before = summary(validate(conn, cids=cids, grid_ids=list(_ids(conn, touched).values())))
    assert preview["validation"]["before"] == expected_before

    with planning_city.begin() as conn:
        apply_plan(conn, plan["plan"], "王规划")
    with planning_city.connect() as conn:
        versions, lineage = _history(conn)
        ids = _ids(conn, kept)
        stats = grid_stats(conn, list(ids.values()), coverage_basis(conn))
        problems = validate(conn, cids=cids, grid_ids=list(ids.values()))
    assert versions > history_before[0]  # applying writes the history the preview skipped
    assert lineage > history_before[1] or shape == "redraw"
    assert {g["code"]: g["after"] for g in preview["grids"] if g["after"] is not None} == {
        code: stats[i] for code, i in ids.items()
    }
    assert preview["validation"]["problems"] == problems
    assert preview["validation"]["after"] == summary(problems)


@pytest.mark.parametrize("shape", sorted(EDITS))
def test_before_counts_aside_equal_those_in_the_transaction(planning_city, shape):
    """A fresh transaction counts the problems before on a second connection; one that wrote already counts them
    itself (the second connection could not see its writes): both previews are the same."""
    with planning_city.begin() as conn:
        aside = create_plan(conn, EDITS[shape], compare=True)["preview"]
    with planning_city.begin() as conn:
        conn.execute(text("SELECT pg_current_xact_id()"))  # as if it had written: the problems are counted in it
        assert not untouched(conn)
        inside = create_plan(conn, EDITS[shape], compare=True)["preview"]
    assert aside["validation"]["before"] is not None
    assert inside == aside


def test_before_counts_see_the_transactions_own_writes(planning_city):
    """A preview in a transaction that changed grids counts the problems of that changed state, not of the one
    committed: here a merge applied (uncommitted) leaves a grid with too many households before the next edit."""
    line = mapping(shapely.LineString([(116.306, 39.89), (116.306, 39.92)]))
    with planning_city.connect() as conn:
        conn.begin()
        apply_plan(conn, create_plan(conn, EDITS["merge"])["plan"], "王规划")
        merged = conn.scalar(text("SELECT code FROM grids WHERE valid_to IS NULL ORDER BY id DESC LIMIT 1"))
        ids = list(_ids(conn, [merged]).values())
        expected = summary(validate(conn, cids=_community(conn), grid_ids=ids))
        preview = create_plan(conn, [{"op": "split", "grid": merged, "line": line}], compare=True)["preview"]
        conn.rollback()
    assert expected.get("household_band") == 1
    assert preview["validation"]["before"] == expected


def test_a_preview_on_the_pools_last_connection_counts_before_itself(planning_city):
    """With no idle connection in the pool the before side is not read aside: a burst of previews must never each
    hold a connection while waiting for a second. Here the pool has one connection and no overflow: a preview that
    waited for a second one would fail after the pool timeout instead of answering."""
    from sqlalchemy import create_engine

    with planning_city.begin() as conn:
        expected = create_plan(conn, EDITS["merge"], compare=True)["preview"]
    single = create_engine(planning_city.url, pool_size=1, max_overflow=0, pool_timeout=1)
    try:
        with single.begin() as conn:
            assert not untouched(conn)
            preview = create_plan(conn, EDITS["merge"], compare=True)["preview"]
    finally:
        single.dispose()
    assert preview == expected
    roomy = create_engine(planning_city.url, pool_size=1, max_overflow=1, pool_timeout=1)
    try:
        with roomy.begin() as conn:
            assert untouched(conn)  # room for a second connection: the before side is read aside
            assert create_plan(conn, EDITS["merge"], compare=True)["preview"] == expected
    finally:
        roomy.dispose()
