"""``POST /partitions`` over HTTP: answers the stored plan exactly as ``POST /plans`` does; bad input is a 4xx."""

from __future__ import annotations

from tests.core.test_partition import COMMUNITY, build_street


def test_post_partitions_answers_a_plan_that_applies(empty_db, client_as):
    with empty_db.begin() as conn:
        build_street(conn)
    client = client_as("planner", COMMUNITY)
    r = client.post("/partitions", json={"community": COMMUNITY, "seed": 2})
    assert r.status_code == 201, r.text
    plan = r.json()
    assert plan["status"] == "draft" and {"plan", "edits", "base_versions", "preview"} <= set(plan)
    assert client.get(f"/plans/{plan['plan']}").json()["preview"]["partition"] == plan["preview"]["partition"]
    applied = client.post(f"/plans/{plan['plan']}/apply")
    assert applied.status_code == 200, applied.text
    assert len(applied.json()["created"]) == len(plan["preview"]["partition"]["grids"])


def test_post_partitions_refuses_bad_input(empty_db, client_as):
    with empty_db.begin() as conn:
        build_street(conn)
    client = client_as("admin")
    assert client.post("/partitions", json={}).status_code == 422
    assert client.post("/partitions", json={"community": COMMUNITY, "street": "110108900"}).status_code == 422
    assert client.post("/partitions", json={"community": "nope"}).status_code == 404
    assert client.post("/partitions", json={"community": COMMUNITY, "rebalance": True}).status_code == 422
    other = client_as("planner", "110108999001")
    assert other.post("/partitions", json={"community": COMMUNITY}).status_code == 403
