"""Bounded work (issue 11, item 8): plan size and preview time budgets, draft expiry, address batch budgets."""

from __future__ import annotations

import pytest
from shapely.geometry import box, mapping
from sqlalchemy import text

from geogrid.planning.apply import apply_plan
from geogrid.planning.budget import Expired, OverBudget
from geogrid.planning.preview import create_plan
from tests.fixtures.planning_city import HOLE, A

GROWN = [{"op": "redraw", "grid": A, "geometry": mapping(box(116.30, 39.90, 116.3125, 39.91).difference(HOLE))}]


def _plans(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(text("SELECT count(*) FROM plans"))


def test_plan_over_the_size_budget_is_413_and_stores_nothing(planning_city, settings_env):
    settings_env("GEOGRID_PLAN_MAX_BYTES", "100")
    with pytest.raises(OverBudget, match="GEOGRID_PLAN_MAX_BYTES") as err, planning_city.begin() as conn:
        create_plan(conn, GROWN)
    assert err.value.status_code == 413 and _plans(planning_city) == 0


def test_preview_over_the_time_budget_is_413(planning_city, settings_env):
    settings_env("GEOGRID_PREVIEW_TIMEOUT", "0.001")
    with pytest.raises(OverBudget, match="GEOGRID_PREVIEW_TIMEOUT"), planning_city.begin() as conn:
        create_plan(conn, GROWN, compare=True)
    assert _plans(planning_city) == 0


def test_within_budget_the_plan_previews(planning_city):
    with planning_city.begin() as conn:
        plan = create_plan(conn, GROWN)
    assert plan["status"] == "draft" and plan["preview"]["moved"]["totals"]["buildings"] == 1


def test_drafts_expire(planning_city, settings_env):
    settings_env("GEOGRID_DRAFT_TTL_HOURS", "24")
    with planning_city.begin() as conn:
        old = create_plan(conn, GROWN)["plan"]
        conn.execute(text("UPDATE plans SET created_at = now() - interval '25 hours' WHERE id = :i"), {"i": old})
    with pytest.raises(Expired, match="GEOGRID_DRAFT_TTL_HOURS") as err, planning_city.begin() as conn:
        apply_plan(conn, old)
    assert err.value.status_code == 422
    with planning_city.connect() as conn:
        assert conn.scalar(text("SELECT version FROM grids WHERE code = :c"), {"c": A}) == 1  # nothing applied


def test_old_drafts_are_marked_expired_when_a_plan_is_made(planning_city, settings_env):
    settings_env("GEOGRID_DRAFT_TTL_HOURS", "1")
    with planning_city.begin() as conn:
        old = create_plan(conn, GROWN)["plan"]
        conn.execute(text("UPDATE plans SET created_at = now() - interval '2 hours' WHERE id = :i"), {"i": old})
        new = create_plan(conn, GROWN)["plan"]
        statuses = dict(conn.execute(text("SELECT id, status FROM plans")).all())
    assert statuses == {old: "expired", new: "draft"}


def test_address_batches_have_a_size_and_a_time_budget(planning_city, settings_env, client_as):
    rows = "id,address\n" + "".join(f"{i},长湖街{i}号楼\n" for i in range(3))
    settings_env("GEOGRID_BATCH_ADDRESS_LIMIT", "2")
    client = client_as("admin")
    over = client.post("/lookup/batch", content=rows.encode(), headers={"content-type": "text/csv"})
    assert over.status_code == 413 and "GEOGRID_BATCH_ADDRESS_LIMIT" in over.json()["error"]
    points = {"items": [{"id": i, "lon": 116.305, "lat": 39.905} for i in range(3)]}
    assert client.post("/lookup/batch", json=points).status_code == 200  # points are not addresses

    settings_env("GEOGRID_BATCH_ADDRESS_LIMIT", "100")
    settings_env("GEOGRID_BATCH_TIMEOUT", "0")
    slow = client.post("/lookup/batch", content=rows.encode(), headers={"content-type": "text/csv"})
    assert slow.status_code == 413 and "GEOGRID_BATCH_TIMEOUT" in slow.json()["error"]
