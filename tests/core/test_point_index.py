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


def _first_grid_point(conn) -> tuple[str, float, float]:
    row = conn.execute(
        text(
            "SELECT code, ST_X(p) AS x, ST_Y(p) AS y FROM (SELECT code, ST_PointOnSurface(geom) AS p FROM grids "
            "WHERE valid_to IS NULL ORDER BY code LIMIT 1) t"
        )
    ).one()
    return row.code, row.x, row.y


def _write(engine, times: int) -> None:
    """``times`` write statements, each its own READ COMMITTED transaction (one change row each)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for _ in range(times):
            conn.execute(text("UPDATE facilities SET name = name WHERE false"))  # a statement trigger fires


def test_a_prune_never_makes_a_running_copy_look_current(demo_city, database, memory):
    """A transaction running while the copy was read (watched) writes and commits; no prune, however many
    writes and prunes follow, lets the copy answer from memory without having seen that write."""
    with database.connect() as conn:
        code, x, y = _first_grid_point(conn)
        name = conn.execute(text("SELECT name FROM grids WHERE code = :c"), {"c": code}).scalar_one()
        conn.commit()
        writer = database.connect()
        try:
            with writer.begin():
                writer.execute(text("UPDATE grids SET name = '改名网格' WHERE code = :c"), {"c": code})
                _write(database, 1)  # committed after the writer's row: the copy's top passes the writer's id
                point_index.refresh(memory, database, None)
                assert point_index.wait_built(memory)
                watched = point_index.current(memory)
                assert watched is not None and watched.key.watch  # the writer is running: watched
                assert _memory_row(conn, x, y) is not None  # current: the writer has not committed
                conn.commit()
            # The writer committed; its row sits below the copy's top, only the watch list sees it.
            for _ in range(3):
                point_index.prune(conn)
                conn.commit()
                row = _memory_row(conn, x, y)  # from memory only once a copy has seen the write
                assert row is None or row.name == "改名网格"
                assert lookup_point(conn, x, y)["grid"]["name"] == "改名网格"
                conn.commit()
                _write(database, 300)  # the trigger prunes too: the writer's rows go
            assert _rebuilt(conn, memory, x, y)
            assert lookup_point(conn, x, y)["grid"]["name"] == "改名网格"
            conn.commit()
        finally:
            writer.close()
            with database.begin() as other:
                other.execute(text("UPDATE grids SET name = :n WHERE code = :c"), {"n": name, "c": code})


def test_lookup_changes_stay_bounded_under_many_writes(demo_city, database, memory):
    with database.connect() as conn:
        _write(database, 1)
        conn.commit()
        newest = conn.execute(text("SELECT max(id) FROM lookup_changes")).scalar_one()
        point_index.prune(conn)
        conn.commit()
        assert conn.execute(text("SELECT max(id) FROM lookup_changes")).scalar_one() == newest  # the newest stays
        _write(database, 2000)
        count = conn.execute(text("SELECT count(*) FROM lookup_changes")).scalar_one()
        # Rows at or above the horizon are kept while an older transaction runs anywhere in the cluster (another
        # test worker's, say), and the trigger prunes every 256th row: once that horizon moves, the next prune
        # takes everything below it, the newest row excepted.
        conn.commit()
        point_index.prune(conn)
        conn.commit()
        after = conn.execute(
            text(
                "SELECT count(*) AS n, count(*) FILTER (WHERE xid >= (SELECT max(horizon) FROM lookup_changes)) AS held"
                "  FROM lookup_changes"
            )
        ).one()
        assert after.n <= after.held + 256 and after.n <= count
        code, x, y = _first_grid_point(conn)
        assert _rebuilt(conn, memory, x, y)  # pruned rows never hold a copy back


def test_a_prune_is_safe_inside_a_repeatable_read_writer(demo_city, database):
    """The trigger prunes only in READ COMMITTED transactions: a REPEATABLE READ writer whose snapshot predates
    another prune never fails on the rows that prune deleted."""
    with database.connect().execution_options(isolation_level="REPEATABLE READ") as rr:
        with rr.begin():
            rr.execute(text("SELECT 1 FROM lookup_changes LIMIT 1"))  # the snapshot is taken
            _write(database, 600)  # other transactions write and prune meanwhile
            for _ in range(300):
                rr.execute(text("UPDATE facilities SET name = name WHERE false"))


def test_cells_answer_as_the_whole_index(demo_city, database):
    """The cells hand each point every grid and path that can be its answer: the grid equals a search over
    all grids (lowest code on shared edges), the path's scaled distance equals the SQL's rule over all paths
    (8 nearest in degrees, then the nearest with longitude scaled by cos(lat))."""
    from geogrid.point_index import KNN, _polyline_distance

    snapshot = point_index.build(database)
    with database.connect() as conn:
        points = _points(conn, 1500, seed=11)
    assert snapshot.cell_inside and any(len(v) > KNN for v in snapshot.cell_edges.values())
    coords = snapshot.edge_coords
    for x, y in points:
        assert snapshot.locate(x, y) == snapshot.grids.locate_one(x, y), (x, y)
        cell = snapshot.cells.of(x, y)
        if cell < 0:
            continue
        c = np.cos(np.radians(y))
        knn = np.argsort(shapely.distance(snapshot.edge_geoms, shapely.Point(x, y)), kind="stable")[:KNN]
        want = min(_polyline_distance(x * c, y, [(a * c, b) for a, b in coords[e]]) for e in knn.tolist())
        got = snapshot._nearest_edge(x, y, cell)
        assert _polyline_distance(x * c, y, [(a * c, b) for a, b in coords[got]]) == want, (x, y)
