"""Every JSON answer is documented in /docs, and real answers match the documented schemas."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

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


def test_geojson_answers_match_their_schemas(client):
    grids = GridCollection.model_validate(client.get("/grids").json())
    assert grids.features and all(f.properties.households >= 0 for f in grids.features)
    GridFeature.model_validate(client.get(f"/grids/{grids.features[0].properties.code}").json())
    areas = AreaCollection.model_validate(client.get("/areas").json())
    assert {f.properties.level for f in areas.features} >= {"street", "community"}
    FacilityCollection.model_validate(client.get("/facilities").json())
