"""Coverage that explains itself (issue 11, item 9): nested circles, ``covered_by`` in lookups, and a hint when
every facility is a candidate."""

from __future__ import annotations

import pytest
from pyproj import Geod
from sqlalchemy import text

from geogrid.coverage.compute import compute_service_areas
from geogrid.coverage.stats import Query, coverage
from geogrid.lookup import lookup_point
from geogrid.model import FACILITY_KINDS
from tests.fixtures.planning_city import BUILDINGS

SITE = (116.3085, 39.9085)  # every building is at least 89 m from a 300/500/1000 m circle edge
RADII = {5: 300.0, 10: 500.0, 15: 1000.0}


@pytest.fixture
def kindergarten(planning_city):
    """The planning city with one facility in service: a kindergarten of the 5-minute circle."""
    with planning_city.begin() as conn:
        conn.execute(text("DELETE FROM facilities"))
        conn.execute(
            text(
                "INSERT INTO facilities (name, kind, circle_minutes, geom) VALUES ('长湖幼儿园', "
                "'kindergarten', 5, ST_SetSRID(ST_MakePoint(:x, :y), 4326))"
            ),
            {"x": SITE[0], "y": SITE[1]},
        )
        compute_service_areas(conn, modes=("circle",))
    return planning_city


def _households_within(radius: float) -> int:
    """Independent answer: households of the buildings within ``radius`` metres (geodesic) of the site."""
    geod = Geod(ellps="WGS84")
    return sum(h for x, y, h in BUILDINGS if geod.inv(SITE[0], SITE[1], x, y)[2] <= radius)


@pytest.mark.parametrize("minutes", [5, 10, 15])
def test_a_smaller_circle_facility_serves_the_larger_circles(kindergarten, minutes):
    with kindergarten.connect() as conn:
        summary = coverage(conn, Query(minutes=minutes, mode="circle"))["summary"]
    assert summary["households_covered"] == _households_within(RADII[minutes])
    assert summary["households_covered"] > 0 and summary["hint"] is None
    assert summary["service_areas"] == 1


def test_circles_nest(kindergarten):
    with kindergarten.connect() as conn:
        covered = [coverage(conn, Query(minutes=m, mode="circle"))["summary"]["households_covered"] for m in RADII]
    assert covered[0] < covered[1] < covered[2]  # 15-minute coverage no longer reads 0%


def test_lookup_says_what_covers_a_point(kindergarten):
    with kindergarten.connect() as conn:
        near = lookup_point(conn, 116.3095, 39.9085)  # 86 m east of the kindergarten
        far = lookup_point(conn, 116.302, 39.902)
    assert near["covered"] is True and near["covered_basis"] == "circle"
    (by,) = near["covered_by"]
    assert by["name"] == "长湖幼儿园" and by["kind"] == "kindergarten" and by["walk_basis"] == "straight_line"
    assert 80 < by["distance_m"] < 95 and by["walk_minutes"] == pytest.approx(by["distance_m"] / 60, abs=0.05)
    assert near["nearest_station"] is None  # stations only: the kindergarten covers, but is no station
    assert set(near["covered_kinds"]) == set(FACILITY_KINDS)
    assert far["covered"] is False and far["covered_by"] == []


def test_coverage_says_when_every_facility_is_a_candidate(kindergarten):
    with kindergarten.begin() as conn:
        conn.execute(text("UPDATE facilities SET candidate = true"))
        summary = coverage(conn, Query(minutes=15, mode="circle"))["summary"]
        assert summary["households_covered"] == 0 and summary["service_areas"] == 0
        assert "candidates" in summary["hint"] and "1" in summary["hint"]
        only_kind = coverage(conn, Query(minutes=5, mode="circle", kind="health_station"))["summary"]
        assert "health_station" in only_kind["hint"] and "in service" in only_kind["hint"]


def test_the_api_answers_covered_by_and_the_hint(kindergarten):
    """The same over HTTP: ``/lookup`` (answered from the API's in-memory copy) names what covers the point, and
    ``/coverage`` says why nothing counts when every facility is a candidate."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app()) as client:
        near = client.get("/lookup", params={"lon": 116.3095, "lat": 39.9085}).json()
        assert [(b["name"], b["kind"]) for b in near["covered_by"]] == [("长湖幼儿园", "kindergarten")]
        assert near["covered"] is True and set(near["covered_kinds"]) == set(FACILITY_KINDS)
        with kindergarten.begin() as conn:
            conn.execute(text("UPDATE facilities SET candidate = true"))
        summary = client.get("/coverage", params={"minutes": 15, "mode": "circle"}).json()["summary"]
        assert summary["households_covered"] == 0 and "candidates" in summary["hint"]
        after = client.get("/lookup", params={"lon": 116.3095, "lat": 39.9085}).json()
        assert after["covered"] is False and after["covered_by"] == []  # candidates never count
