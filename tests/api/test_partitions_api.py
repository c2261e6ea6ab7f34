"""``POST /partitions`` over HTTP: answers the stored plan exactly as ``POST /plans`` does; bad input is a 4xx."""

from __future__ import annotations

import numpy as np
import shapely
import shapely.geometry
from pyproj import Transformer
from sqlalchemy import text

from api.responses import PartitionPlan
from geogrid.partition.report import ProposeReport, RebalanceReport
from tests.core.test_partition import COMMUNITY, build_street


def test_post_partitions_answers_a_plan_that_applies(empty_db, client_as):
    with empty_db.begin() as conn:
        ids = build_street(conn)
    client = client_as("planner", COMMUNITY)
    r = client.post("/partitions", json={"community": COMMUNITY, "seed": 2})
    assert r.status_code == 201, r.text
    plan = r.json()
    assert plan["status"] == "draft" and {"plan", "edits", "base_versions", "preview"} <= set(plan)
    stored = client.get(f"/plans/{plan['plan']}").json()
    assert stored["preview"]["partition"] == plan["preview"]["partition"]
    assert plan["preview"]["map_url"] == stored["preview"]["map_url"]  # the same plan as POST /plans answers it
    report = PartitionPlan.model_validate(plan).preview.partition  # the documented shape
    assert isinstance(report, ProposeReport) and report.summary.grids == len(report.grids) > 1
    applied = client.post(f"/plans/{plan['plan']}/apply")
    assert applied.status_code == 200, applied.text
    assert len(applied.json()["created"]) == len(plan["preview"]["partition"]["grids"])

    # the north-east block's four buildings now hold 200 households each: its grid is above the band
    with empty_db.begin() as conn:
        conn.execute(text("UPDATE buildings SET households = 200 WHERE id = ANY(:b)"), {"b": ids["ne"]})
    r = client.post("/partitions", json={"community": COMMUNITY, "rebalance": True})
    assert r.status_code == 201, r.text
    report = PartitionPlan.model_validate(r.json()).preview.partition
    assert isinstance(report, RebalanceReport)
    assert report.summary.grids_out_of_band_before == 1 and report.summary.grids_out_of_band_after == 0


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


NEIGHBOUR = "110108900002"  # a second community of the same street, east of the known one


def _neighbour(conn) -> None:
    from tests.core.test_partition import _geom, _insert, _wkt

    _insert(
        conn,
        f"INSERT INTO admin_areas (code, name, level, parent_id, geom) VALUES (:c, '邻社区', 'community', "
        f"(SELECT id FROM admin_areas WHERE code = '110108900'), ST_Multi({_geom(':w')}))",
        c=NEIGHBOUR,
        w=_wkt(shapely.box(600, 0, 650, 400)),
    )


def _new_grid_edit() -> dict:
    """A ``create`` edit drawing a new grid over the known community's north-west block."""
    from tests.core.test_partition import TO_M, X0, Y0

    back = Transformer.from_crs(TO_M.target_crs, 4326, always_xy=True)
    box = shapely.box(X0 + 10, Y0 + 210, X0 + 190, Y0 + 390)
    lonlat = shapely.transform(box, lambda c: np.column_stack(back.transform(c[:, 0], c[:, 1])))
    return {"op": "create", "community": COMMUNITY, "name": "新网格", "geometry": shapely.geometry.mapping(lonlat)}


def test_new_grid_and_partition_checked_against_the_callers_communities(empty_db, client_as):
    with empty_db.begin() as conn:
        build_street(conn)
        _neighbour(conn)
    outsider, insider = client_as("planner", NEIGHBOUR), client_as("planner", COMMUNITY)
    refused = outsider.post("/plans", json={"edits": [_new_grid_edit()]})
    assert refused.status_code == 403 and COMMUNITY in refused.json()["error"], refused.text
    assert outsider.post("/partitions", json={"community": COMMUNITY}).status_code == 403
    # a planner of one community may not partition the whole street either
    assert insider.post("/partitions", json={"street": "110108900"}).status_code == 403
    with empty_db.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM plans")) == 0  # nothing refused was stored
    assert insider.post("/plans", json={"edits": [_new_grid_edit()]}).status_code == 201
    assert insider.post("/partitions", json={"community": COMMUNITY}).status_code == 201
    street = client_as("planner", "110108900")  # a street's planner may partition its communities
    assert street.post("/partitions", json={"community": COMMUNITY}).status_code == 201
