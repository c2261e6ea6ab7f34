"""Point answers from memory (geogrid.point_index): the same answers as the SQL, to the last rounded digit, and
never older than the database: another connection's commit and the caller's own uncommitted writes are seen by
the very next lookup."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from sqlalchemy import text

from geogrid import point_index
from geogrid.db.bulk import fetch_geoms
from geogrid.errors import NotFound
from geogrid.lookup import POINT_SQL, _answer, _memory_row, lookup_point


@pytest.fixture
def memory(database):
    """This process keeps point answers in memory (as the API does), built before the test starts."""
    point_index.enable()
    point_index.start(database)
    assert point_index.wait_built(str(database.url))
    yield str(database.url)
    point_index.disable()


def _points(conn, n: int, seed: int) -> list[tuple[float, float]]:
    grids = fetch_geoms(conn, "SELECT code, ST_AsBinary(geom) FROM grids WHERE valid_to IS NULL")
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = shapely.total_bounds(grids["geom"].to_numpy())
    corners = shapely.get_coordinates(grids["geom"].to_numpy())[: n // 5]  # on shared edges: lowest code
    lon = np.concatenate([rng.uniform(x0 - 0.002, x1 + 0.002, n), corners[:, 0]])
    lat = np.concatenate([rng.uniform(y0 - 0.002, y1 + 0.002, n), corners[:, 1]])
    return list(zip(lon.tolist(), lat.tolist(), strict=True))


def _rebuilt(conn, memory: str, x: float, y: float) -> bool:
    """Whether memory answers again once rebuilds settle (a build that read the data before the last commit
    is behind on arrival: the next lookup starts another)."""
    for _ in range(4):
        assert point_index.wait_built(memory)
        found = _memory_row(conn, x, y) is not None
        conn.commit()
        if found:
            return True
    return False


def test_memory_answers_are_the_sql_answers(demo_city, database):
    snapshot = point_index.build(database)
    inside = 0
    with database.connect() as conn:
        for x, y in _points(conn, 400, seed=3):
            want = conn.execute(POINT_SQL, {"lon": x, "lat": y}).one()
            got = snapshot.row(x, y)
            assert got.code == want.code, (x, y)
            if want.code is None:
                continue
            inside += 1
            assert _answer(got, x, y) == _answer(want, x, y), (x, y)  # walks, distances, coverage: every digit
    assert inside > 200


def test_memory_sees_commits_and_own_writes_at_once(demo_city, database, memory):
    with database.connect() as conn:
        code, x, y = conn.execute(
            text(
                "SELECT code, ST_X(p), ST_Y(p) FROM (SELECT code, ST_PointOnSurface(geom) AS p FROM grids "
                "WHERE valid_to IS NULL ORDER BY code LIMIT 1) t"
            )
        ).one()
        conn.commit()
        assert _memory_row(conn, x, y) is not None  # answered from memory
        before = lookup_point(conn, x, y)
        assert before["grid"]["code"] == code
        conn.commit()
        staff = before["staff"][0]["name"]
        with database.begin() as other:  # another connection renames the grid's leader
            other.execute(text("UPDATE staff SET name = '新组长' WHERE name = :n"), {"n": staff})
        try:
            assert _memory_row(conn, x, y) is None  # the memory copy is behind: the SQL answers
            assert lookup_point(conn, x, y)["staff"][0]["name"] == "新组长"
            conn.commit()
        finally:
            with database.begin() as other:
                other.execute(text("UPDATE staff SET name = :n WHERE name = '新组长'"), {"n": staff})
        assert lookup_point(conn, x, y) == before  # by SQL, starting a rebuild in the background
        conn.commit()
        assert _rebuilt(conn, memory, x, y)
        conn.commit()
        with conn.begin():  # the caller's own uncommitted change
            conn.execute(text("UPDATE grids SET valid_to = now() WHERE code = :c"), {"c": code})
            assert _memory_row(conn, x, y) is None
            try:
                assert lookup_point(conn, x, y)["grid"]["code"] != code
            except NotFound:
                pass  # nothing else covers the point: outside every grid
            conn.rollback()
        assert _memory_row(conn, x, y) is not None and lookup_point(conn, x, y) == before  # rolled back
