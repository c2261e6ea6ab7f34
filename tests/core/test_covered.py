"""Stored per-building coverage on the demo city: equal to PostGIS, stale the moment its inputs change.

Each test that changes data does so in a transaction it rolls back, so the computed demo city is shared.
"""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import text

from geogrid.coverage.compute import compute_service_areas
from geogrid.coverage.covered import coverage_sets, has_stored, store_building_coverage, stored_covered
from geogrid.coverage.stats import Query, coverage, with_coverage
from geogrid.errors import GeogridError
from geogrid.model import FACILITY_KINDS

POSTGIS_COVERED = """
SELECT b.id FROM buildings b WHERE EXISTS (
    SELECT 1 FROM service_areas s JOIN facilities f ON f.id = s.facility_id
    WHERE s.mode = :mode AND s.minutes = :minutes AND NOT f.candidate
      AND (CAST(:kind AS text) IS NULL OR f.kind = :kind) AND ST_Intersects(s.geom, b.geom))
"""


def _ids(conn) -> np.ndarray:
    return np.asarray(conn.scalars(text("SELECT id FROM buildings ORDER BY id")).all(), dtype=np.int64)


def _postgis(conn, ids: np.ndarray, mode: str, minutes: int, kind: str | None) -> np.ndarray:
    hits = conn.scalars(text(POSTGIS_COVERED), {"mode": mode, "minutes": minutes, "kind": kind}).all()
    return np.isin(ids, np.asarray(hits, dtype=np.int64))


@pytest.fixture
def conn(demo_conn):
    return demo_conn


def test_the_pipeline_stores_coverage_for_every_circle_of_real_facilities(conn):
    sets = coverage_sets(conn)
    stored = set(sets[["mode", "minutes", "kind"]].itertuples(index=False, name=None))
    expected = set(
        conn.execute(
            text(
                "SELECT DISTINCT s.mode, s.minutes, f.kind FROM service_areas s JOIN facilities f ON f.id = s.facility_id "
                "WHERE NOT f.candidate AND s.geom IS NOT NULL"
            )
        ).all()
    )
    assert stored == expected and {m for m, _, _ in stored} == {"circle", "network"}
    assert sorted(zip(sets["word"], sets["bit"], strict=True)) == [divmod(i, 63) for i in range(len(sets))]


def test_stored_coverage_equals_postgis_for_every_mode_minutes_and_kind(conn):
    ids = _ids(conn)
    checked = 0
    for mode, minutes in conn.execute(text("SELECT DISTINCT mode, minutes FROM service_areas")).all():
        for kind in (None, *FACILITY_KINDS):
            got = stored_covered(conn, ids, mode, minutes, kind)
            assert got is not None
            want = _postgis(conn, ids, mode, minutes, kind)
            assert np.array_equal(got, want), (mode, minutes, kind)
            checked += int(want.sum())
    assert checked > 1000  # the city is really covered, not trivially empty


def test_a_subset_of_buildings_gets_its_own_flags_in_order(conn):
    ids = _ids(conn)
    subset = ids[::-7][:500]  # descending, sparse
    full = stored_covered(conn, ids, "circle", 5)
    got = stored_covered(conn, subset, "circle", 5)
    assert np.array_equal(got, full[np.searchsorted(ids, subset)])
    assert stored_covered(conn, np.empty(0, dtype=np.int64), "circle", 5).shape == (0,)


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE buildings SET geom = ST_Translate(geom, 0.01, 0) WHERE id = (SELECT min(id) FROM buildings)",
        "INSERT INTO buildings (households, geom) SELECT 3, geom FROM facilities ORDER BY id LIMIT 1",
        "DELETE FROM residents WHERE building_id = (SELECT min(id) FROM buildings); "
        "DELETE FROM buildings WHERE id = (SELECT min(id) FROM buildings)",
        "UPDATE facilities SET candidate = true WHERE id = (SELECT min(id) FROM facilities)",
        "UPDATE facilities SET kind = 'other' WHERE id = (SELECT min(id) FROM facilities)",
        "DELETE FROM service_areas WHERE id = (SELECT min(id) FROM service_areas)",
    ],
)
def test_any_change_to_buildings_areas_or_facilities_marks_it_stale(conn, change):
    ids = _ids(conn)
    assert has_stored(conn)
    for statement in change.split("; "):
        conn.execute(text(statement))
    assert not has_stored(conn)
    assert stored_covered(conn, ids, "circle", 5) is None


def test_households_and_assignments_do_not_invalidate_it(conn):
    conn.execute(text("UPDATE buildings SET households = households + 1"))
    conn.execute(text("DELETE FROM building_assignments WHERE building_id = (SELECT min(id) FROM buildings)"))
    assert has_stored(conn)


def test_stale_answers_are_computed_on_the_fly_and_match_postgis(conn):
    """A building moved next to a facility is covered at once, before anything is recomputed."""
    bid, fid = conn.execute(
        text(
            "SELECT b.id, f.id FROM buildings b, facilities f WHERE NOT f.candidate AND f.circle_minutes = 5 "
            "AND NOT EXISTS (SELECT 1 FROM service_areas s JOIN facilities g ON g.id = s.facility_id "
            "WHERE s.mode = 'circle' AND s.minutes = 5 AND NOT g.candidate AND ST_Intersects(s.geom, b.geom)) "
            "ORDER BY b.id, f.id LIMIT 1"
        )
    ).one()
    conn.execute(
        text("UPDATE buildings SET geom = (SELECT geom FROM facilities WHERE id = :f) WHERE id = :b"),
        {"f": fid, "b": bid},
    )
    frame = with_coverage(conn, Query(5, "circle"))
    assert bool(frame.set_index("id").loc[bid, "covered"])
    assert np.array_equal(frame["covered"].to_numpy(), _postgis(conn, frame["id"].to_numpy(), "circle", 5, None))
    store_building_coverage(conn)
    assert has_stored(conn) and stored_covered(conn, np.array([bid]), "circle", 5).tolist() == [True]


def test_coverage_answers_are_identical_stored_or_computed(conn):
    queries = [
        Query(5, "network"),
        Query(5, "circle", "kindergarten"),
        Query(10, "network", "school"),
        Query(15, "circle"),
    ]
    stored = [coverage(conn, q) for q in queries]
    conn.execute(text("UPDATE buildings SET geom = geom WHERE id = (SELECT min(id) FROM buildings)"))
    assert not has_stored(conn)
    assert [coverage(conn, q) for q in queries] == stored


def test_recomputing_service_areas_alone_leaves_it_stale_until_stored_again(conn):
    compute_service_areas(conn, ("circle",))
    assert not has_stored(conn)
    written = store_building_coverage(conn)
    assert written > 0 and has_stored(conn)
    ids = _ids(conn)
    want = _postgis(conn, ids, "circle", 10, "school")
    assert want.any() and np.array_equal(stored_covered(conn, ids, "circle", 10, "school"), want)


def test_no_facilities_stores_nothing_and_coverage_asks_for_a_computation(conn):
    conn.execute(text("DELETE FROM facilities"))
    assert store_building_coverage(conn) == 0
    assert not has_stored(conn)
    with pytest.raises(GeogridError, match="geogrid compute"):
        coverage(conn, Query(5, "circle"))


def test_concurrent_writers_never_wait_on_each_other_for_the_stale_marker(demo_city, database):
    """Two editors changing different buildings at once: neither blocks (a shared marker row would)."""
    with database.connect() as first, database.connect() as second:
        first.begin()
        second.begin()
        try:
            low, high = first.execute(text("SELECT min(id), max(id) FROM buildings")).one()
            first.execute(text("UPDATE buildings SET geom = ST_Translate(geom, 0.001, 0) WHERE id = :i"), {"i": low})
            assert not has_stored(first) and has_stored(second)  # not committed: others still read stored
            second.execute(text("SET LOCAL lock_timeout = '2s'"))
            second.execute(text("UPDATE buildings SET geom = ST_Translate(geom, 0.001, 0) WHERE id = :i"), {"i": high})
            assert not has_stored(second)
        finally:
            first.rollback()
            second.rollback()
    with database.connect() as conn:
        assert has_stored(conn)
