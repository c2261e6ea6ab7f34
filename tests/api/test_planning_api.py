"""The planning API: validation, plans, apply, 409 on stale versions, history and revert, clear 4xx errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
import shapely.geometry
from shapely.geometry import box, mapping
from sqlalchemy import text

from tests.fixtures import planning_city as pc
from tests.fixtures.planning_city import C1, A, B, snapshot

A_GROWN = shapely.difference(box(116.30, 39.90, 116.3125, 39.91), pc.HOLE)


@pytest.fixture
def client(planning_city, client_as):
    """Signed in as an admin: plans, apply and revert need an account."""
    return client_as("admin")


def _redraw(code, geom):
    return {"op": "redraw", "grid": code, "geometry": mapping(geom)}


def test_validation_endpoint(client):
    body = client.get("/validation", params={"community": C1}).json()
    assert body["count"] == len(body["problems"]) and body["errors"] == 0
    assert {p["rule"] for p in body["problems"]} == {"no_full_time_worker", "no_party_org"}
    assert all(p["location"]["type"] == "Point" for p in body["problems"])
    missing = client.get("/validation", params={"community": "nowhere"})
    assert missing.status_code == 404 and "nowhere" in missing.json()["error"]


def test_plan_apply_history_revert_round_trip(client, planning_city):
    with planning_city.connect() as conn:
        start = snapshot(conn)
    body = {"edits": [_redraw(A, A_GROWN)], "base_versions": {A: 1}, "author": "王规划"}
    created = client.post("/plans", params={"compare": True}, json=body)
    assert created.status_code == 201
    plan = created.json()
    assert plan["status"] == "draft" and plan["preview"]["moved"]["totals"]["buildings"] == 1
    assert plan["preview"]["validation"]["before"] == {"no_full_time_worker": 1, "no_party_org": 1}  # B
    assert plan["preview"]["validation"]["after"]["household_band"] == 2
    assert client.get(f"/plans/{plan['plan']}").json()["preview"] == plan["preview"]
    page = client.get(plan["preview"]["map_url"])
    assert page.status_code == 200 and "1 buildings" in page.text and "//cdn" not in page.text
    for grid in plan["preview"]["grids"]:  # changed grids labelled with households before → after
        label = f"{grid['before']['households']} → {grid['after']['households']} 户"
        assert label in page.text or json.dumps(label)[1:-1] in page.text
    assert "#636363" in page.text and "6 4" in page.text  # the old outline dashed grey

    applied = client.post(f"/plans/{plan['plan']}/apply", params={"author": "王规划"}).json()
    assert sorted(applied["changed"]) == [A, B] and applied["buildings_moved"] == 1
    again = client.post(f"/plans/{plan['plan']}/apply")
    assert again.status_code == 409 and "not a draft" in again.json()["error"]

    hist = client.get(f"/grids/{A}/history").json()
    assert [v["version"] for v in hist["versions"]] == [1, 2] and hist["versions"][1]["author"] == "王规划"
    for code in (A, B):
        assert client.post(f"/grids/{code}/revert", params={"to_version": 1}).status_code == 200
    with planning_city.connect() as conn:
        end = snapshot(conn)
    assert end["grids"] == start["grids"] and end["assignments"] == start["assignments"]


def test_stale_plan_answers_409_naming_the_change(client):
    first = client.post("/plans", json={"edits": [_redraw(A, A_GROWN)]}).json()
    shrunk = A_GROWN.difference(box(116.309, 39.9, 116.32, 39.91))
    second = client.post("/plans", json={"edits": [_redraw(A, shrunk)]}).json()
    assert client.post(f"/plans/{first['plan']}/apply").status_code == 200
    lost = client.post(f"/plans/{second['plan']}/apply")
    assert lost.status_code == 409
    assert f"grid {A} is now version 2 (plan saw 1)" in lost.json()["error"] and lost.json()["stale"]


@pytest.mark.parametrize(
    "body, status, words",
    [
        ({"edits": []}, 422, "edits"),
        (
            {"edits": [{"op": "redraw", "grid": A, "geometry": {"type": "Polygon", "coordinates": "x"}}]},
            422,
            "edits.0.redraw.geometry",
        ),  # pydantic's location: edit 0, its op, the field
        ({"edits": [{"op": "merge", "grids": [A]}]}, 422, "at least two"),
        ({"edits": [_redraw("000", box(0, 0, 1, 1))]}, 404, "no grid with code 000"),
        ({"edits": [_redraw(A, A_GROWN)], "base_versions": {A: 5}}, 409, "plan saw 5"),
        ({"edits": [{"op": "redraw", "grid": A, "geometry": mapping(A_GROWN), "crs": "EPSG:99999"}]}, 422, "crs"),
    ],
)
def test_bad_requests_are_4xx_json_and_write_nothing(client, planning_city, body, status, words):
    with planning_city.connect() as conn:
        before = snapshot(conn)
    response = client.post("/plans", json=body)
    assert response.status_code == status and words in response.json()["error"]
    with planning_city.connect() as conn:
        assert snapshot(conn) == before and conn.scalar(text("SELECT count(*) FROM plans")) == 0


def test_unknown_plan_grid_and_version(client):
    assert client.get("/plans/999").status_code == 404
    assert client.post("/plans/999/apply").status_code == 404
    assert client.get("/grids/nope/history").status_code == 404
    assert client.post(f"/grids/{A}/revert", params={"to_version": 9}).status_code == 404
    assert client.post(f"/grids/{A}/revert", params={"to_version": 1}).status_code == 400  # already at 1


def test_planner_page_is_local(client):
    page = client.get("/planner", params={"community": C1})
    assert page.status_code == 200 and A in page.text and "leaflet.draw.js" in page.text
    assert "https://" not in page.text.split("<body")[0]
    assert client.get("/planner/static/vendor/draw/leaflet.draw.js").status_code == 200
    assert client.get("/planner/static/../planner.py").status_code == 404


def test_planner_page_speaks_the_users_language(client, settings_env):
    """Chinese only for GEOGRID_LANG=zh (panel and the script's words), English only for en."""
    settings_env("GEOGRID_LANG", "zh")
    zh = client.get("/planner", params={"community": C1}).text
    assert "<h3>网格边界调整</h3>" in zh and "请先选择网格" in zh and "pick a grid first" not in zh
    settings_env("GEOGRID_LANG", "en")
    en = client.get("/planner", params={"community": C1}).text
    assert "<h3>Grid planner</h3>" in en and "pick a grid first" in en and "请先选择网格" not in en


def test_planner_over_gcj02_tiles_shows_and_sends_gcj02(client, monkeypatch):
    """Over Amap tiles the grids are drawn in GCJ-02 and the page tells the API so (``crs`` in the edit)."""
    import prcoords

    from geogrid.settings import get_settings

    monkeypatch.setenv("GEOGRID_TILE_URL", "https://webrd01.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}")
    get_settings.cache_clear()
    try:
        grids = client.get("/planner/grids.geojson", params={"community": C1}).json()
        page = client.get("/planner", params={"community": C1}).text
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    b = next(f for f in grids["features"] if f["properties"]["code"] == B)
    corners = shapely.get_coordinates(shapely.geometry.shape(b["geometry"]))
    expected = np.array([prcoords.wgs_gcj((39.90, 116.31))[::-1]])  # B's south-west corner, shifted ~500 m
    assert np.abs(corners - expected).max(axis=1).min() < 1e-7
    assert '"crs": "gcj02"' in page


def test_planner_buildings_per_community_and_capped(client, monkeypatch):
    """The planner's building markers: one community's, with their grid; none (flagged) past the cap."""
    import maps.planner

    c1 = client.get("/planner/buildings.geojson", params={"community": C1}).json()
    grids = {f["properties"]["label"]: f["properties"]["grid"] for f in c1["features"]}
    assert len(grids) == 10 and grids["长湖街4号楼"] == B and grids["长湖街3号楼"] == A  # the A|B edge → A
    assert len(client.get("/planner/buildings.geojson").json()["features"]) == 12
    monkeypatch.setattr(maps.planner, "MAX_BUILDINGS", 11)
    capped = client.get("/planner/buildings.geojson").json()
    assert capped["features"] == [] and capped["too_many"] is True
    assert client.get("/planner/buildings.geojson", params={"community": "nowhere"}).status_code == 404
