"""Roster problems (一人一格, 支部建在网格上, a worker on too many grids) link to their community's roster page, in the
validation API, in plan previews and on the map's problem layer; other problems carry no such link."""

from __future__ import annotations

import json

from maps import data, pages
from tests.fixtures.rosters_street import COMMUNITY

ROSTER = {"no_full_time_worker", "no_party_org", "worker_too_many_grids"}


def test_validation_and_previews_link_roster_problems_to_the_roster_page(street, client_as):
    client = client_as("community_staff", COMMUNITY)
    answer = client.get("/validation", params={"community": COMMUNITY})
    assert answer.status_code == 200, answer.text
    problems = answer.json()["problems"]
    linked = {(p["rule"], p["grids"][0]): p["roster_url"] for p in problems if p["rule"] in ROSTER}
    assert linked == {
        (rule, grid): f"/rosters/{COMMUNITY}"
        for rule in ("no_full_time_worker", "no_party_org")
        for grid in ("G1", "G2", "G3")
    }
    assert all(p["roster_url"] is None for p in problems if p["rule"] not in ROSTER)
    page = client.get(linked[("no_party_org", "G1")])
    assert page.status_code == 200 and "G1" in page.text  # the link leads to the page that fixes it

    planner = client_as("planner", COMMUNITY)
    plan = planner.post("/plans", json={"edits": [{"op": "merge", "grids": ["G1", "G2"], "name": "合并"}]})
    assert plan.status_code == 201, plan.text
    previewed = plan.json()["preview"]["validation"]["problems"]
    assert previewed and all(p["roster_url"] == f"/rosters/{COMMUNITY}" for p in previewed if p["rule"] in ROSTER)
    assert any(p["rule"] in ROSTER for p in previewed)


def test_the_map_problem_layer_carries_the_link(street):
    with street.connect() as conn:
        scope = data.check_scope(conn, data.Scope(COMMUNITY, "circle"))
        features = json.loads(pages.layer_json(conn, "problems", scope))["features"]
    urls = {f["properties"]["rule"]: f["properties"]["roster_url"] for f in features}
    assert urls["no_full_time_worker"] == urls["no_party_org"] == f"/rosters/{COMMUNITY}"
