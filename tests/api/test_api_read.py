"""GeoJSON read endpoints on the demo city: counts recomputed from the raw tables, no personal data."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app


@pytest.fixture
def client(demo_city):
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c


def test_grid_counts_match_the_raw_tables(client, database):
    with database.connect() as conn:
        b = pd.DataFrame(
            conn.execute(
                text(
                    "SELECT g.code, b.id, b.households FROM buildings b JOIN building_assignments a ON a.building_id = b.id "
                    "JOIN grids g ON g.id = a.grid_id"
                )
            ).all(),
            columns=["code", "id", "households"],
        )
        r = pd.DataFrame(conn.execute(text("SELECT building_id FROM residents")).all(), columns=["id"])
        current = conn.scalar(text("SELECT count(*) FROM grids WHERE valid_to IS NULL"))
    want = b.groupby("code").agg(households=("households", "sum"), buildings=("id", "size"))
    want["residents"] = r.merge(b, on="id").groupby("code").size()
    want = want.fillna(0).astype(int)
    features = client.get("/grids").json()["features"]
    assert len(features) == current
    got = pd.DataFrame([f["properties"] for f in features]).set_index("code")
    assert 0 < want["residents"].sum() <= len(r)  # residents of buildings outside every grid count nowhere
    for code, row in want.iterrows():
        assert (
            got.loc[code, ["households", "buildings", "residents"]].tolist()
            == row[["households", "buildings", "residents"]].tolist()
        ), code
    busiest = want["buildings"].idxmax()
    buildings = client.get(f"/grids/{busiest}/buildings").json()["features"]
    assert len(buildings) == want.loc[busiest, "buildings"]
    assert sum(f["properties"]["households"] for f in buildings) == want.loc[busiest, "households"]


def test_no_personal_data_anywhere(client, database):
    with database.connect() as conn:
        names = {n for (n,) in conn.execute(text("SELECT name FROM resident_personal WHERE name IS NOT NULL LIMIT 50"))}
        phones = {p for (p,) in conn.execute(text("SELECT phone FROM staff_contacts WHERE phone IS NOT NULL LIMIT 50"))}
    body = json.dumps([client.get(p).json() for p in ("/areas", "/grids", "/facilities")], ensure_ascii=False)
    assert not [s for s in names | phones if s in body]
