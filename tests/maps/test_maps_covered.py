"""Maps read the coverage stored by ``geogrid compute``: same figures as testing geometry, and never stale."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import text

from geogrid.coverage.covered import has_stored, store_building_coverage
from maps import data

SCOPES = [
    data.Scope(None, "network", 5),
    data.Scope(None, "circle", 10, "school"),
    data.Scope(None, "circle", 15),
    data.Scope(None, "network", 5, "kindergarten"),
]


@pytest.fixture
def conn(demo_conn):
    return demo_conn


def _figures(conn, scope: data.Scope) -> tuple[pd.DataFrame, pd.DataFrame]:
    grids = data.grids(conn, scope)[["code", "buildings", "households", "covered_households", "coverage"]]
    uncovered = data.buildings(conn, scope)[["id", "grid_code", "households", "covered"]]
    return grids.reset_index(drop=True), uncovered.reset_index(drop=True)


def test_grid_measures_and_uncovered_buildings_equal_the_geometric_test(conn):
    assert has_stored(conn)
    stored = [_figures(conn, s) for s in SCOPES]
    assert any(g["covered_households"].sum() > 0 for g, _ in stored)
    conn.execute(text("UPDATE buildings SET geom = geom WHERE id = (SELECT min(id) FROM buildings)"))
    assert not has_stored(conn)  # every figure below comes from testing the points against the areas
    for scope, (grids, uncovered) in zip(SCOPES, stored, strict=True):
        fresh_grids, fresh_uncovered = _figures(conn, scope)
        pd.testing.assert_frame_equal(grids, fresh_grids, obj=str(scope))
        pd.testing.assert_frame_equal(uncovered, fresh_uncovered, obj=str(scope))


def test_a_building_moved_out_of_reach_is_uncovered_on_the_next_map(conn):
    """The map follows the data at once: the change marks stored coverage stale, and recomputing agrees."""
    scope = data.check_scope(conn, data.Scope(None, "circle", 5))
    bid = int(
        conn.scalar(
            text(
                "SELECT b.id FROM buildings b JOIN building_assignments a ON a.building_id = b.id WHERE b.households > 0 "
                "AND EXISTS (SELECT 1 FROM service_areas s JOIN facilities f ON f.id = s.facility_id WHERE s.mode = 'circle' "
                "AND s.minutes = 5 AND NOT f.candidate AND ST_Intersects(s.geom, b.geom)) ORDER BY b.id LIMIT 1"
            )
        )
    )
    assert bid not in set(data.buildings(conn, scope)["id"])
    conn.execute(text("UPDATE buildings SET geom = ST_Translate(geom, 1.0, 1.0) WHERE id = :b"), {"b": bid})
    assert bid in set(data.buildings(conn, scope)["id"])
    store_building_coverage(conn)
    assert has_stored(conn) and bid in set(data.buildings(conn, scope)["id"])


def test_a_community_map_reads_only_its_own_buildings(conn):
    community = conn.scalar(text("SELECT code FROM admin_areas WHERE level = 'community' ORDER BY code LIMIT 1"))
    scope = data.check_scope(conn, data.Scope(community, "circle", 5))
    grids = data.grids(conn, scope)
    city = data.grids(conn, data.check_scope(conn, data.Scope(None, "circle", 5))).set_index("code")
    assert len(grids) and grids["households"].sum() > 0
    for row in grids.itertuples():
        assert (row.buildings, row.covered_households) == (
            city.loc[row.code, "buildings"],
            city.loc[row.code, "covered_households"],
        )
