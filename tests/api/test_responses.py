"""Every JSON answer is documented in /docs, and real answers match the documented schemas."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter
from sqlalchemy import text

from api.app import create_app
from api.responses import (
    Account,
    AccountListed,
    AreaCollection,
    Disabled,
    FacilityCollection,
    FeatureCollection,
    Gaps,
    GridCollection,
    GridFeature,
    Health,
    NewKey,
    RevokedKey,
    Suggestion,
)


@pytest.fixture
def client(demo_city):
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c


# Routes that still answer an undocumented JSON body (none left: every JSON answer names its shape).
NOT_YET_DOCUMENTED: set[str] = set()


def _is_schema(schema: dict | None) -> bool:
    """A schema that says something: not absent, not ``{}``, not "any object" or "a list of any objects"."""
    if not schema:
        return False
    if schema.get("type") == "array":
        return _is_schema(schema.get("items"))
    return not (schema.get("type") == "object" and "properties" not in schema and "$ref" not in schema)


def test_every_json_answer_has_a_schema():
    """Each 2xx JSON or GeoJSON answer in /openapi.json names its shape (a schema with fields)."""
    undocumented = []
    for path, methods in create_app().openapi()["paths"].items():
        for method, op in methods.items():
            for status, answer in op.get("responses", {}).items():
                for media, content in (answer.get("content") or {}).items():
                    if status.startswith("2") and "json" in media and not _is_schema(content.get("schema")):
                        undocumented.append(f"{method.upper()} {path}")
    assert sorted(set(undocumented) - NOT_YET_DOCUMENTED) == []


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


def test_gaps_and_suggestions_match_their_schemas(client, admin_client):
    gaps = Gaps.model_validate(client.get("/coverage/gaps", params={"minutes": 5, "mode": "circle"}).json())
    assert gaps.summary.buildings == sum(c.buildings for c in gaps.clusters)
    assert gaps.buildings and all(b.cluster in {c.cluster for c in gaps.clusters} for b in gaps.buildings)
    answer = admin_client.get("/coverage/suggest", params={"k": 2, "minutes": 5, "mode": "circle", "max_buildings": 50})
    suggestion = Suggestion.model_validate(answer.json())
    assert 1 <= len(suggestion.sites) <= 2
    assert suggestion.gain_households == sum(s.gain_households for s in suggestion.sites)


def test_service_and_account_answers_match_their_schemas(client, admin_client):
    assert Health.model_validate(client.get("/health").json()).status == "ok"
    made = admin_client.post("/users", json={"name": "schema-check", "role": "viewer", "password": "long enough"})
    assert Account.model_validate(made.json()).name == "schema-check"
    listed = TypeAdapter(list[AccountListed]).validate_python(admin_client.get("/users").json())
    assert "schema-check" in {a.name for a in listed}
    key = NewKey.model_validate(admin_client.post("/users/schema-check/keys").json())
    assert (
        RevokedKey.model_validate(admin_client.delete(f"/keys/{key.key.split('_')[1]}").json()).name == "schema-check"
    )
    assert Disabled.model_validate(admin_client.post("/users/schema-check/disable").json()).disabled


def test_map_layers_match_the_feature_collection_schema(client):
    grids = FeatureCollection.model_validate(client.get("/maps/layers/grids.geojson").json())
    assert grids.features and all("code" in f.properties for f in grids.features)
