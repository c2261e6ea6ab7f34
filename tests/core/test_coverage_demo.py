"""Coverage on the demo city's walking network: river and railway barriers, gaps, and siting suggestions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import text

from geogrid.coverage.compute import compute_service_areas
from geogrid.coverage.gaps import gaps
from geogrid.coverage.stats import Query, coverage
from geogrid.coverage.suggest import cover_matrix, exact, greedy, suggest
from geogrid.db.bulk import copy_frame, fetch_geoms
from geogrid.demo.city import build_city
from geogrid.demo.load import LonLat
from geogrid.errors import GeogridError

RIVER_STATION = "滨河网格服务站"
RAIL_STATION = "铁路西侧卫生服务站"


@pytest.fixture
def demo(demo_city, database):
    """The shared, computed demo city (tests here change it only inside rolled-back transactions)."""
    return database


def _households_across(conn, name: str, barrier: shapely.Geometry, mode: str) -> int:
    """Households in the facility's (own-circle) area whose straight line to the facility crosses the barrier."""
    row = conn.execute(
        text(
            "SELECT ST_AsBinary(f.geom), ST_AsBinary(s.geom) FROM facilities f "
            "JOIN service_areas s ON s.facility_id = f.id "
            "WHERE f.name = :n AND s.mode = :m AND s.minutes = f.circle_minutes"
        ),
        {"n": name, "m": mode},
    ).one()  # its own circle: larger circles it serves are stored too
    site, area = shapely.from_wkb(bytes(row[0])), shapely.from_wkb(bytes(row[1]))
    b = fetch_geoms(conn, "SELECT households, ST_AsBinary(geom) FROM buildings")
    inside = shapely.covers(area, b["geom"].to_numpy())
    lines = shapely.linestrings([[[site.x, site.y], [p.x, p.y]] for p in b["geom"]])
    return int(b["households"][inside & shapely.intersects(lines, barrier)].sum())


@pytest.mark.parametrize(("name", "barrier"), [(RIVER_STATION, "river"), (RAIL_STATION, "rail")])
def test_barrier_cuts_network_coverage(demo, name, barrier):
    city = build_city(None, 7)
    line = LonLat(city).geoms([getattr(city, barrier)])[0]
    with demo.connect() as conn:
        by_circle = _households_across(conn, name, line, "circle")
        by_network = _households_across(conn, name, line, "network")
    assert by_circle > 0
    assert by_network < 0.5 * by_circle  # the walk must detour to a bridge or crossing


def test_network_never_exceeds_circle_any_kind(demo):
    with demo.connect() as conn:
        kinds = [k for (k,) in conn.execute(text("SELECT DISTINCT kind FROM facilities WHERE NOT candidate"))]
        for kind in kinds:
            for minutes in (5, 10, 15):
                c = coverage(conn, Query(minutes=minutes, mode="circle", kind=kind))["summary"]
                n = coverage(conn, Query(minutes=minutes, mode="network", kind=kind))["summary"]
                assert n["households_covered"] <= c["households_covered"], (kind, minutes)


def test_gaps_are_uncovered_and_add_up(demo):
    with demo.connect() as conn:
        result = gaps(conn, Query(minutes=5, mode="network", kind="service_station"), limit=100_000)
        summary = coverage(conn, Query(minutes=5, mode="network", kind="service_station"))["summary"]
        ids = [b["id"] for b in result["buildings"]]
        covered_in_postgis = conn.scalar(
            text(
                "SELECT count(*) FROM buildings b WHERE b.id = ANY(:ids) AND EXISTS (SELECT 1 FROM service_areas s "
                "JOIN facilities f ON f.id = s.facility_id WHERE s.mode = 'network' AND s.minutes = 5 "
                "AND f.kind = 'service_station' AND NOT f.candidate AND ST_Intersects(s.geom, b.geom))"
            ),
            {"ids": ids},
        )
    assert covered_in_postgis == 0
    assert result["summary"]["households"] == summary["households"] - summary["households_covered"]
    assert sum(c["households"] for c in result["clusters"]) == result["summary"]["households"]
    assert len({b["cluster"] for b in result["buildings"]}) == len(result["clusters"])
    for flag in result["grids"]:
        assert flag["no_station"] or not flag["reached"]


def test_exact_mclp_beats_or_ties_greedy_on_a_trap():
    """Greedy takes the big middle site; the optimum takes the two sides (classic MCLP counter-example)."""
    areas = shapely.buffer(shapely.points([[0, 0], [-1, 0], [1, 0]]), [1.1, 0.6, 0.6])
    x = np.array([-1.0, -0.5, 0.5, 1.0, -1.5, 1.5])
    households = np.array([10, 10, 10, 10, 9, 9])
    cover = cover_matrix(areas, x, np.zeros(6))
    assert sum(g for _, g in greedy(cover, households, 2)) == 40 + 9
    best = exact(cover, households, 2)
    assert sorted(best) == [1, 2] and households[cover[best].sum(axis=0).A1 > 0].sum() == 58


def test_suggested_sites_deliver_their_gain(demo):
    """Build the suggested stations, recompute, and the coverage rises by exactly the promised gain."""
    q = Query(minutes=5, mode="network", kind="service_station")
    with demo.connect() as conn:
        result = suggest(conn, q, k=3)
    assert "MCLP" in result["method"] and len(result["sites"]) == 3
    gains = [s["gain_households"] for s in result["sites"]]
    assert gains == sorted(gains, reverse=True) and gains[-1] > 0
    assert result["gain_households"] >= result["greedy_households"]
    with demo.connect() as conn, conn.begin() as trans:
        copy_frame(
            conn,
            "facilities",
            pd.DataFrame(
                {
                    "name": [f"suggested {i}" for i in range(3)],
                    "kind": "service_station",
                    "circle_minutes": 5,
                    "candidate": False,
                    "geom": shapely.points([[s["lon"], s["lat"]] for s in result["sites"]]),
                }
            ),
        )
        compute_service_areas(conn)
        after = coverage(conn, q)["summary"]
        trans.rollback()
    assert after["households_covered"] == result["sites"][-1]["households_covered_after"]


def test_api_gaps_and_suggest(demo, client_as):
    client = client_as("admin")
    g = client.get("/coverage/gaps", params={"minutes": 5, "mode": "circle"})
    with demo.connect() as conn:  # independently: buildings farther than 300 m from every service station
        far = conn.execute(
            text(
                "SELECT count(*), coalesce(sum(b.households), 0) FROM buildings b JOIN building_assignments a "
                "ON a.building_id = b.id AND a.grid_id IS NOT NULL WHERE b.households > 0 "
                "AND NOT EXISTS (SELECT 1 FROM facilities f WHERE f.kind = 'service_station' AND NOT f.candidate "
                "AND ST_DWithin(f.geom::geography, b.geom::geography, 300))"
            )
        ).one()
    assert g.status_code == 200 and far[0] > 0
    assert abs(g.json()["summary"]["buildings"] - far[0]) <= 0.005 * far[0]  # circles are 64-gons, not exact
    s = client.get("/coverage/suggest", params={"k": 2, "kind": "service_station", "minutes": 5})
    assert s.status_code == 200 and len(s.json()["sites"]) == 2 and s.json()["method"]
    assert client.get("/coverage/suggest", params={"k": 0}).status_code == 422
    bad = client.get("/coverage/suggest", params={"kind": "spaceport"})
    assert bad.status_code == 400 and "spaceport" in bad.json()["error"]


def test_no_service_areas_is_a_clear_error(demo):
    with demo.connect() as conn, conn.begin() as trans:
        conn.execute(text("DELETE FROM service_areas WHERE mode = 'network'"))
        with pytest.raises(GeogridError, match="geogrid compute"):
            coverage(conn, Query(mode="network"))
        trans.rollback()
