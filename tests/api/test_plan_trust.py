"""Plans that can be trusted: impossible boundaries refused, apply refusing new errors unless forced with a
reason, a real undo, and a single-grid revert that leaves no building in no grid (issue 11, items 3 and 4)."""

from __future__ import annotations

import json

import pytest
import shapely
from shapely.geometry import box, mapping
from sqlalchemy import text

from tests.fixtures import planning_city as pc
from tests.fixtures.planning_city import C1, A, B, snapshot

A_GROWN = shapely.difference(box(116.30, 39.90, 116.3125, 39.91), pc.HOLE)  # takes b4 (200 households) from B
BOW_TIE = {
    "type": "Polygon",
    "coordinates": [[[116.30, 39.90], [116.31, 39.91], [116.31, 39.90], [116.30, 39.91], [116.30, 39.90]]],
}


@pytest.fixture
def city(planning_city):
    return planning_city


@pytest.fixture
def client(city, client_as):
    """Signed in as an admin: plans, apply, undo and revert need an account."""
    return client_as("admin")


def _redraw(geometry, **extra) -> dict:
    return {"op": "redraw", "grid": A, "geometry": geometry, **extra}


def _polygon(*corners) -> dict:
    return {"type": "Polygon", "coordinates": [[*corners, corners[0]]]}


def _no_writes(city, before) -> None:
    with city.connect() as conn:
        assert snapshot(conn)["grids"] == before["grids"]
        assert conn.scalar(text("SELECT count(*) FROM plans")) == 0  # nothing stored, not even a draft


@pytest.mark.parametrize(
    "edit, words",
    [
        (_redraw(_polygon([-1e308, -1e308], [1e308, -1e308], [1e308, 1e308])), "off the Earth"),
        (_redraw(_polygon([116.30, 39.90], [500, 39.90], [500, 39.91])), "off the Earth"),
        (_redraw(_polygon([116.30, 39.90, 5], [116.31, 39.90, 5], [116.31, 39.91, 5])), "coordinates"),
        (_redraw(BOW_TIE), "invalid polygon"),
        (
            _redraw(
                {
                    "type": "Polygon",
                    "coordinates": [  # a hole outside its shell
                        [[116.30, 39.90], [116.31, 39.90], [116.31, 39.91], [116.30, 39.91], [116.30, 39.90]],
                        [[116.40, 39.90], [116.41, 39.90], [116.41, 39.91], [116.40, 39.90]],
                    ],
                }
            ),
            "invalid polygon",
        ),
        (_redraw({**mapping(A_GROWN), "crs": {"type": "name", "properties": {"name": "EPSG:99999"}}}), "EPSG:99999"),
        (_redraw(mapping(A_GROWN), crs="EPSG:4978"), "two-dimensional"),  # geocentric X/Y/Z
        ({"op": "move_buildings", "buildings": [True], "to": A}, "edits"),
        ({"op": "move_buildings", "buildings": [2**64], "to": A}, "edits"),
        ({"op": "revert", "grid": A, "to_version": 2147483648}, "edits"),
        ({"op": "redraw", "grid": "A\x00", "geometry": mapping(A_GROWN)}, "edits"),
    ],
)
def test_impossible_boundaries_are_refused_with_a_reason(client, city, edit, words):
    with city.connect() as conn:
        before = snapshot(conn)
    response = client.post("/plans", json={"edits": [edit]})
    assert response.status_code == 422 and words in response.json()["error"], response.text
    _no_writes(city, before)


def test_infinite_and_huge_numbers_in_json_are_refused(client, city):
    with city.connect() as conn:
        before = snapshot(conn)
    for number in ("Infinity", "1e400", "NaN"):
        ring = [[[116.30, 39.90], [0, 39.90], [116.31, 39.91], [116.30, 39.90]]]
        edit = {"op": "redraw", "grid": A, "geometry": {"type": "Polygon", "coordinates": ring}}
        body = json.dumps({"edits": [edit]}).replace("[0, 39.9]", f"[{number}, 39.9]")
        assert number in body
        response = client.post("/plans", content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 422, (number, response.text)
    _no_writes(city, before)


def test_vertex_limit_is_a_setting(client, city, settings_env):
    settings_env("GEOGRID_PLAN_MAX_VERTICES", "50")
    ring = shapely.Point(116.305, 39.905).buffer(0.004, quad_segs=32)  # 129 vertices
    response = client.post("/plans", json={"edits": [_redraw(mapping(ring))]})
    assert response.status_code == 422 and "at most 50" in response.json()["error"]


def test_a_bow_tie_is_repaired_only_on_request_and_reported(client):
    plan = client.post("/plans", json={"edits": [_redraw(BOW_TIE, repair=True)]})
    assert plan.status_code == 201, plan.text
    repairs = plan.json()["preview"]["repairs"]
    assert repairs == [{"edit": 0, "reason": repairs[0]["reason"]}] and "intersection" in repairs[0]["reason"].lower()


def test_the_planet_grid_is_never_applied_and_lookup_stays_honest(client):
    response = client.post("/plans", json={"edits": [_redraw(_polygon([-180, -90], [180, -90], [180, 90]))]})
    assert response.status_code in (409, 422) or response.status_code == 201
    if response.status_code == 201:  # on the Earth, but outside its community: apply refuses it
        applied = client.post(f"/plans/{response.json()['plan']}/apply")
        assert applied.status_code == 409 and "outside_community" in applied.json()["added_errors"]
    lookup = client.get("/lookup", params={"lon": 0, "lat": 0})
    assert lookup.status_code == 404 and "grid" not in lookup.json()  # no grid there, only the nearest


def test_apply_refuses_new_errors_unless_forced_with_a_reason(client, city):
    beyond = box(116.295, 39.90, 116.31, 39.91).difference(pc.HOLE)  # 430 m west of the community edge
    plan = client.post("/plans", json={"edits": [_redraw(mapping(beyond))]}).json()
    assert plan["preview"]["validation"]["after"].get("outside_community") == 1
    refused = client.post(f"/plans/{plan['plan']}/apply")
    assert refused.status_code == 409 and refused.json()["added_errors"] == {"outside_community": 1}
    no_reason = client.post(f"/plans/{plan['plan']}/apply", params={"force": True})
    assert no_reason.status_code == 422 and "reason" in no_reason.json()["error"]
    with city.connect() as conn:
        assert conn.scalar(text("SELECT version FROM grids WHERE code = :c"), {"c": A}) == 1
    forced = client.post(f"/plans/{plan['plan']}/apply", params={"force": True, "reason": "社区边界待更新"})
    assert forced.status_code == 200 and forced.json()["added_errors"] == {"outside_community": 1}
    with city.connect() as conn:
        assert (
            conn.scalar(text("SELECT force_reason FROM plans WHERE id = :i"), {"i": plan["plan"]}) == "社区边界待更新"
        )


def test_undo_restores_every_grid_in_one_transaction(client, city):
    with city.connect() as conn:
        start = snapshot(conn)
    plan = client.post("/plans", json={"edits": [_redraw(mapping(A_GROWN))]}).json()
    assert client.post(f"/plans/{plan['plan']}/apply").status_code == 200
    undone = client.post(f"/plans/{plan['plan']}/undo", params={"author": "张审核"})
    assert undone.status_code == 200, undone.text
    assert sorted(undone.json()["changed"]) == [A, B] and undone.json()["undoes"] == plan["plan"]
    with city.connect() as conn:
        end = snapshot(conn)
        status = conn.execute(text("SELECT status, undone_by FROM plans WHERE id = :i"), {"i": plan["plan"]}).one()
    assert end["grids"] == start["grids"] and end["assignments"] == start["assignments"]
    assert end["facilities"] == start["facilities"]
    assert status == ("undone", undone.json()["plan"])
    again = client.post(f"/plans/{plan['plan']}/undo")
    assert again.status_code == 409 and "undone" in again.json()["error"]


def test_undo_brings_back_a_split_grid(client, city):
    with city.connect() as conn:
        start = snapshot(conn)
    line = {"type": "LineString", "coordinates": [[116.315, 39.899], [116.315, 39.911]]}
    plan = client.post("/plans", json={"edits": [{"op": "split", "grid": B, "line": line}]}).json()
    applied = client.post(f"/plans/{plan['plan']}/apply").json()
    assert applied["retired"] == [B] and len(applied["created"]) == 2
    undone = client.post(f"/plans/{plan['plan']}/undo")
    assert undone.status_code == 200, undone.text
    assert sorted(undone.json()["retired"]) == sorted(applied["created"])
    with city.connect() as conn:
        end = snapshot(conn)
    assert {c: g[3] for c, g in end["grids"].items() if c in start["grids"]} == {
        c: g[3] for c, g in start["grids"].items()
    }  # B in force again
    assert end["assignments"] == start["assignments"]


def test_undo_is_refused_when_a_later_plan_changed_the_grids(client, city):
    first = client.post("/plans", json={"edits": [_redraw(mapping(A_GROWN))]}).json()
    assert client.post(f"/plans/{first['plan']}/apply").status_code == 200
    moved = {"op": "move_buildings", "buildings": [_building(city, "b5")], "to": A}
    later = client.post("/plans", json={"edits": [moved]}).json()
    assert client.post(f"/plans/{later['plan']}/apply").status_code == 200
    with city.connect() as conn:
        before = snapshot(conn)
    refused = client.post(f"/plans/{first['plan']}/undo")
    assert refused.status_code == 409 and f"grid {A} is now version 3" in refused.json()["error"]
    with city.connect() as conn:
        assert snapshot(conn) == before  # nothing written, no plan left behind


def _building(city, source_id: str) -> int:
    with city.connect() as conn:
        return conn.scalar(text("SELECT id FROM buildings WHERE source_id = :s"), {"s": source_id})


def test_reverting_one_grid_after_a_building_move_hands_the_building_back(client, city):
    move = {"op": "move_buildings", "buildings": [_building(city, "b4")], "to": A}
    plan = client.post("/plans", json={"edits": [move]}).json()
    assert client.post(f"/plans/{plan['plan']}/apply").status_code == 200
    reverted = client.post(f"/grids/{A}/revert", params={"to_version": 1})
    assert reverted.status_code == 200, reverted.text
    with city.connect() as conn:
        snap = snapshot(conn)
        lost = conn.scalar(text("SELECT count(*) FROM building_assignments WHERE grid_id IS NULL"))
    assert snap["assignments"]["b4"] == B and lost == 0
    problems = client.get("/validation", params={"community": C1}).json()["problems"]
    assert not [p for p in problems if p["rule"] in ("gap", "building_in_no_grid")]


def test_a_revert_that_would_leave_a_gap_is_refused_with_the_gap(client, city):
    move = {"op": "move_buildings", "buildings": [_building(city, "b4")], "to": A}
    plan = client.post("/plans", json={"edits": [move]}).json()
    assert client.post(f"/plans/{plan['plan']}/apply").status_code == 200
    line = {"type": "LineString", "coordinates": [[116.315, 39.899], [116.315, 39.911]]}
    split = client.post("/plans", json={"edits": [{"op": "split", "grid": B, "line": line}]}).json()
    assert client.post(f"/plans/{split['plan']}/apply").status_code == 200  # B, which held b4's square, retires
    with city.connect() as conn:
        before = snapshot(conn)
    refused = client.post(f"/grids/{A}/revert", params={"to_version": 1})
    body = refused.json()
    assert refused.status_code == 409 and "in no grid" in body["error"]
    assert 0 < body["gap_m2"] < 100 and shapely.geometry.shape(body["gap"]).contains(shapely.Point(116.312, 39.903))
    with city.connect() as conn:
        after = snapshot(conn)
    assert after["grids"] == before["grids"] and after["assignments"] == before["assignments"]
    assert json.dumps(body, ensure_ascii=False)
