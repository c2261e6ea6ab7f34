"""Prepared city layers: stored in PostGIS by data state, reused by another worker, rebuilt after writes,
prepared at API start-up before anyone asks, with the same figures as ``geogrid.coverage.stats``."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from maps import cache, data, pages, prepared
from tests.fixtures.maps_city import COMMUNITY

GRID = f"{COMMUNITY}001"


@pytest.fixture
def city(small_city, monkeypatch):  # noqa: F811
    """The small city served as a city-scale map (layers fetched, not embedded)."""
    monkeypatch.setattr(pages, "EMBED_MAX_GRIDS", 2)
    cache.clear()
    yield small_city
    cache.clear()


def _client():
    from api.app import create_app

    return TestClient(create_app())


def _households(client, grid: str = GRID) -> int:
    features = client.get("/maps/layers/grids.geojson").json()["features"]
    return next(f["properties"]["households"] for f in features if f["properties"]["code"] == grid)


def _built_at(engine, layer: str):
    with engine.connect() as conn:
        scope = data.check_scope(conn, data.Scope())
        return conn.scalar(
            text("SELECT built_at FROM map_layers WHERE key = :k"), {"k": repr(prepared.layer_key(layer, scope))}
        )


def test_city_layers_are_stored_and_reused_by_another_worker(city):
    client = _client()
    first = client.get("/maps/layers/grids.geojson")
    assert first.status_code == 200
    built = _built_at(city, "grids")
    assert built is not None
    with city.connect() as conn:
        assert cache.is_prepared(conn, prepared.layer_key("grids", data.check_scope(conn, data.Scope())))
    cache.clear()  # what a second worker or a restarted API sees: nothing in its own memory
    again = client.get("/maps/layers/grids.geojson")
    assert again.content == first.content
    assert _built_at(city, "grids") == built  # read back, not rebuilt


def test_stored_layers_follow_writes(city):
    client = _client()
    assert _households(client) == 380
    with city.begin() as conn:
        conn.execute(text("UPDATE buildings SET households = 999 WHERE address = '学院路1号楼'"))
    assert _households(client) == 1259  # the very next request: the data version changed with the commit
    cache.clear()  # what a fresh worker sees: the stored copy is of the new version too
    assert _households(client) == 1259


def test_prepared_figures_match_the_coverage_api(city):
    from geogrid.coverage.compute import compute_service_areas
    from geogrid.coverage.covered import store_building_coverage
    from geogrid.coverage.stats import Query, coverage

    with city.begin() as conn:
        compute_service_areas(conn, ("circle",))
        store_building_coverage(conn)
    assert prepared.prepare_city(city) is True
    with city.connect() as conn:
        assert prepared.city_prepared(conn)  # prepared for the state it was prepared at: no settling needed
    with city.connect() as conn:
        official = {g["code"]: g for g in coverage(conn, Query(minutes=5, mode="circle"))["grids"]}
    cache.clear()
    features = _client().get("/maps/layers/grids.geojson").json()["features"]
    assert {f["properties"]["code"] for f in features} == set(official)
    for f in features:
        p = f["properties"]
        assert p["covered_households"] == official[p["code"]]["households_covered"], p["code"]


def test_api_start_prepares_the_city_before_anyone_asks(city):
    with _client():
        deadline = time.time() + 30
        ready = False
        while not ready and time.time() < deadline:
            time.sleep(0.5)
            with city.connect() as conn:
                ready = prepared.city_prepared(conn)
    assert ready


def test_small_maps_are_not_stored(small_city):  # noqa: F811
    cache.clear()
    r = _client().get(f"/maps/layers/grids.geojson?community={COMMUNITY}")
    assert r.status_code == 200
    with small_city.connect() as conn:
        assert prepared.city_scope(conn) is None
        assert not conn.scalar(text("SELECT count(*) FROM map_layers WHERE key LIKE :k"), {"k": f"%{COMMUNITY}%"})
