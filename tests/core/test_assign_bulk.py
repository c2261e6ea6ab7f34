"""The fast paths of bulk assignment, each against a plain reference: the lattice of cells against testing every
grid, the binary COPY with NULLs, the page-range read of the buildings, and assignment in slices against PostGIS."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box
from sqlalchemy import text

import geogrid.assign as assign
from geogrid.assign import GridIndex, assign_buildings
from geogrid.db.bulk import binary_rows, copy_binary, fetch_point_table, fetch_points


def every_grid(geoms: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Reference: each point tested against every grid in order, the first that intersects it wins."""
    out = np.full(len(x), -1, dtype=np.int64)
    for g in range(len(geoms) - 1, -1, -1):  # backwards: the lowest index is written last
        out[shapely.intersects_xy(geoms[g], x, y)] = g
    return out


def layouts() -> dict[str, list]:
    rng = np.random.default_rng(11)
    lattice = [
        box(116.30 + i * 0.002, 39.90 + j * 0.002, 116.3021 + i * 0.002, 39.9021 + j * 0.002)
        for i in range(25)
        for j in range(25)
    ]
    big = Polygon(
        box(116.29, 39.89, 116.36, 39.96).exterior.coords, [box(116.31, 39.91, 116.32, 39.92).exterior.coords]
    )
    triangles = [
        Polygon([(116.30 + d, 39.90), (116.31 + d, 39.90), (116.305 + d, 39.91)]) for d in rng.uniform(0, 0.04, 40)
    ]
    far = MultiPolygon([box(116.30, 39.90, 116.301, 39.901), box(117.5, 40.5, 117.501, 40.501)])  # stretches the extent
    return {
        # a partition with overlaps, a large grid with a hole over it (mixed sizes), triangles, a far MultiPolygon
        "mixed": [*lattice[:300], big, *triangles, far, *lattice[300:]],
        "one grid": [big],
        "identical boxes": [box(116.30, 39.90, 116.31, 39.91)] * 3,
        "sliver": [Polygon([(116.30, 39.90), (116.35, 39.90), (116.35, 39.90000001)]), *lattice[:5]],
    }


@pytest.mark.parametrize("name", list(layouts()))
def test_cells_find_the_lowest_covering_grid_as_testing_every_grid_does(name):
    geoms = np.array(layouts()[name], dtype=object)
    index = GridIndex(
        np.arange(len(geoms), dtype=np.int64) + 100, np.array([f"{i:03d}" for i in range(len(geoms))]), geoms
    )
    rng = np.random.default_rng(5)
    x, y = rng.uniform(116.28, 116.37, 60_000), rng.uniform(39.88, 39.97, 60_000)
    coords = shapely.get_coordinates(shapely.boundary(geoms))  # every vertex, then edge midpoints
    mids = (coords[:-1] + coords[1:]) / 2
    x = np.concatenate([x, coords[:, 0], mids[:, 0], [np.nan, 116.3, 0.0, 180.0, 117.5005]])
    y = np.concatenate([y, coords[:, 1], mids[:, 1], [39.9, np.nan, 0.0, 90.0, 40.5005]])
    got = index.containing(x, y)
    assert np.array_equal(got, every_grid(geoms, x, y))
    assert (got >= 0).sum() > 0 and (got == -1).sum() > 0


def test_binary_copy_writes_nulls_in_any_pattern(empty_db):
    rng = np.random.default_rng(2)
    n = 1000
    a, b, c, d = np.arange(n), rng.integers(-(2**31), 2**31, n), rng.integers(0, 99, n), rng.normal(size=n)
    nulls = {"b": rng.random(n) < 0.3, "d": rng.random(n) < 0.5}
    with empty_db.connect() as conn, conn.begin():
        conn.execute(text("CREATE TEMP TABLE t (a bigint, b int, c int, d float8) ON COMMIT DROP"))
        cols = {"a": ("int8", a), "b": ("int4", b), "c": ("int4", c), "d": ("float8", d)}
        copy_binary(
            conn,
            "t",
            list(cols),
            [
                binary_rows({k: (p, v[:400]) for k, (p, v) in cols.items()}),
                binary_rows({k: (p, v[400:]) for k, (p, v) in cols.items()}, {k: m[400:] for k, m in nulls.items()}),
            ],
        )
        rows = conn.execute(text("SELECT a, b, c, d FROM t ORDER BY a")).all()
    assert [r.a for r in rows] == list(range(n))
    for r in rows:
        i = r.a
        assert r.b == (None if i >= 400 and nulls["b"][i] else b[i])
        assert r.c == c[i]
        assert r.d == (None if i >= 400 and nulls["d"][i] else pytest.approx(d[i], abs=0))


def test_point_table_read_in_page_ranges_equals_one_query(empty_db):
    """Several page ranges (the last open: rows the transaction added since), ids out of page order, empty points."""
    with empty_db.connect() as conn, conn.begin():
        conn.execute(
            text(
                "INSERT INTO buildings (source_id, address, geom) SELECT 'b' || i, repeat('x', 200), "
                "ST_SetSRID(ST_MakePoint(116.3 + i * 1e-6, 39.9 - i * 1e-6), 4326) FROM generate_series(1, 12000) i"
            )
        )
        conn.execute(text("DELETE FROM buildings WHERE id % 7 = 0"))
        conn.execute(text("UPDATE buildings SET households = 3 WHERE id % 5 = 0"))  # new row versions at the end
        conn.execute(text("INSERT INTO buildings (source_id, geom) VALUES ('empty', 'SRID=4326;POINT EMPTY')"))
        pages = conn.scalar(text("SELECT pg_relation_size('buildings') / current_setting('block_size')::int"))
        got = fetch_point_table(conn, "buildings", parts=3)
        want = fetch_points(conn, "SELECT id, ST_X(geom), ST_Y(geom) FROM buildings")
        total = conn.scalar(text("SELECT count(*) FROM buildings"))
    assert pages >= 64 * 3  # really read in three ranges
    assert got.equals(want) and len(got) == total - 1  # the empty point is left out, as ST_X leaves it out


def test_assignment_in_slices_agrees_with_postgis(empty_db, monkeypatch):
    """Inside: the lowest-code grid by ST_Intersects. Outside: the nearest grid and distance as PostGIS measures
    them on the spheroid (the projected measure is within 1%). The frame returned is the table written."""
    from tests.core.test_assign import GRIDS, insert_buildings, insert_grids

    rng = np.random.default_rng(8)
    xy = np.column_stack([rng.uniform(116.29, 116.36, 2500), rng.uniform(39.89, 39.93, 2500)])
    xy[:100, 0] = 116.31  # on the shared edge
    monkeypatch.setattr(assign, "SLICE", 97)  # many slices, buildings outside in most of them
    with empty_db.begin() as conn:
        insert_grids(conn, GRIDS)
        insert_buildings(conn, [tuple(p) for p in xy])
        rows = assign_buildings(conn)
        differ = conn.scalar(
            text(
                "SELECT count(*) FROM buildings b FULL JOIN building_assignments a ON a.building_id = b.id "
                "LEFT JOIN LATERAL (SELECT g.id FROM grids g WHERE ST_Intersects(g.geom, b.geom) ORDER BY g.code "
                "LIMIT 1) pg ON true "
                "LEFT JOIN grids chosen ON chosen.id = a.nearest_grid_id "
                "CROSS JOIN LATERAL (SELECT min(ST_Distance(g.geom::geography, b.geom::geography)) AS d FROM grids g) "
                "near WHERE a.building_id IS NULL OR a.grid_id IS DISTINCT FROM pg.id "
                "OR (pg.id IS NOT NULL AND (a.nearest_grid_id <> pg.id OR a.distance_m <> 0)) "
                "OR (pg.id IS NULL AND (abs(a.distance_m - near.d) > 0.01 * near.d "
                "OR ST_Distance(chosen.geom::geography, b.geom::geography) > 1.01 * near.d))"
            )
        )
        outside = conn.scalar(text("SELECT count(*) FROM building_assignments WHERE grid_id IS NULL"))
        table = conn.execute(text("SELECT * FROM building_assignments ORDER BY building_id")).all()
    assert differ == 0 and 100 < outside < 2400
    got = rows.sort_values("building_id").astype(object).where(rows.notna(), None)
    assert [tuple(r) for r in got.itertuples(index=False)] == [tuple(r) for r in table]
