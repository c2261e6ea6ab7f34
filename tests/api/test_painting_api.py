"""Painting over HTTP: the units a planner paints with, move_units through POST /plans, 422 with a reason."""

from __future__ import annotations

from sqlalchemy import text

from tests.fixtures.paint_city import C1, C2, A, B


def test_units_then_paint_then_apply(paint_city, client_as):
    client = client_as("planner", C1)
    units = client.get("/plans/units", params={"community": C1})
    assert units.status_code == 200, units.text
    body = units.json()
    assert len(body["features"]) == 11
    grids = {g["code"]: g for g in body["grids"]}
    assert (grids[A]["households"], grids[B]["households"], grids[A]["band"]) == (600, 300, [300, 500])
    column1 = [
        f["id"] for f in body["features"] if any(f"棋盘街1{r}号楼" in f["properties"]["label"] for r in range(3))
    ]
    corner = [f["id"] for f in body["features"] if "棋盘街00号楼" in f["properties"]["label"]]
    split = client.post("/plans", json={"edits": [{"op": "move_units", "grid": B, "units": corner}]})
    assert split.status_code == 422 and "confirm_split" in split.json()["error"]  # B would be in two pieces
    locked = client.post("/plans", json={"edits": [{"op": "move_units", "grid": B, "units": column1}], "locked": [A]})
    assert locked.status_code == 422 and "locked" in locked.json()["error"]
    plan = client.post("/plans", json={"edits": [{"op": "move_units", "grid": B, "units": column1}]})
    assert plan.status_code == 201, plan.text
    preview = plan.json()["preview"]
    labels = [u["label"] for u in preview["units"]]  # by name, in GEOGRID_LANG
    assert len(labels) == 3 and all(any(f"棋盘街1{r}号楼" in x for x in labels) for r in range(3))
    applied = client.post(f"/plans/{plan.json()['plan']}/apply")
    assert applied.status_code == 200, applied.text
    after = {g["code"]: g for g in client.get("/plans/units", params={"community": C1}).json()["grids"]}
    assert (after[A]["households"], after[B]["households"], after[B]["parts"]) == (300, 600, 1)


def test_units_of_a_community_outside_the_planner_s_areas_are_not_built(paint_city, client_as):
    with paint_city.begin() as conn:
        conn.execute(
            text("DELETE FROM partition_units WHERE community_id = (SELECT id FROM admin_areas WHERE code = :c)"),
            {"c": C2},
        )
    client = client_as("planner", C1)
    assert client.post("/plans/units", params={"community": C2}).status_code == 403
    assert client_as("planner", C2).post("/plans/units", params={"community": C2}).json() == {
        "community": C2,
        "units": 1,
    }
    assert client.get("/plans/units", params={"community": "nowhere"}).status_code == 404
