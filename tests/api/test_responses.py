"""Every JSON answer is documented in /docs, and real answers match the documented schemas."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from api.responses import AreaCollection, FacilityCollection, GridCollection, GridFeature


@pytest.fixture
def client(demo_city):
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c


def test_every_data_route_documents_its_answer():
    schema = create_app().openapi()
    undocumented = []
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            ok = op.get("responses", {}).get("200") or op.get("responses", {}).get("201") or {}
            content = ok.get("content", {})
            if not any(c.get("schema") for c in content.values()) and "text/html" not in content:
                undocumented.append(f"{method.upper()} {path}")
    documented = ("/coverage", "/validation", "/plans", "/grids", "/areas", "/facilities")
    assert not [u for u in undocumented if u.split(" ", 1)[1].startswith(documented)], undocumented


def test_geojson_answers_match_their_schemas(client, database):
    grids = GridCollection.model_validate(client.get("/grids").json())
    households = {f.properties.code: f.properties.households for f in grids.features}
    with database.connect() as conn:  # counted here: buildings inside each grid polygon, lowest code first
        want = dict(
            conn.execute(
                text(
                    "SELECT g.code, coalesce(sum(h.households), 0) FROM grids g LEFT JOIN ("
                    "  SELECT DISTINCT ON (b.id) b.households, g2.id AS grid_id FROM buildings b"
                    "  JOIN grids g2 ON g2.valid_to IS NULL AND ST_Covers(g2.geom, b.geom) ORDER BY b.id, g2.code"
                    ") h ON h.grid_id = g.id WHERE g.valid_to IS NULL GROUP BY g.code"
                )
            ).all()
        )
    assert households == want and sum(want.values()) > 0
    GridFeature.model_validate(client.get(f"/grids/{grids.features[0].properties.code}").json())
    areas = AreaCollection.model_validate(client.get("/areas").json())
    assert {f.properties.level for f in areas.features} >= {"street", "community"}
    FacilityCollection.model_validate(client.get("/facilities").json())
