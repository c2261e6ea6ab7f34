"""Vector tiles from PostGIS, decoded with mapbox-vector-tile: the expected features and fields, invalidation
when the data changes, the base map of the demo and of a real Haidian extract, and no personal data."""

from __future__ import annotations

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from api.routers import tiles as tiles_router
from maps import tiles
from tests.conftest import shared_data
from tests.fixtures.maps_city import COMMUNITY, EXPECTED, OTHER, small_city  # noqa: F401
from tests.maps.tile_helpers import tile_of

PERSONAL = {"worker", "phone", "id_number", "resident", "residents", "party_members", "special_groups"}


@pytest.fixture
def client():
    tiles_router.cache.clear()
    return TestClient(create_app())


def decode(body: bytes) -> dict:
    return mapbox_vector_tile.decode(body) if body else {}


def test_grid_tile_holds_every_grid_with_its_figures(small_city, client):  # noqa: F811
    z, x, y = tile_of(116.315, 39.986, 12)  # the whole small city fits in one zoom-12 tile
    r = client.get(f"/tiles/grids/{z}/{x}/{y}.pbf")
    assert r.status_code == 200 and r.headers["content-type"] == tiles_router.MVT
    features = decode(r.content)["grids"]["features"]
    got = {f["properties"]["code"]: f for f in features}
    assert set(got) == set(EXPECTED)
    for code, (households, covered, _party) in EXPECTED.items():
        props = got[code]["properties"]
        assert props["households"] == households
        assert props.get("coverage") == (round(covered / households, 3) if households else None)
    assert got[f"{COMMUNITY}002"]["geometry"]["type"] == "MultiPolygon"  # the exclave survives
    assert len(got[f"{COMMUNITY}001"]["geometry"]["coordinates"]) == 2  # outer ring and the island's hole
    assert got[f"{COMMUNITY}003"]["properties"]["name"] == "湖心</script><b>岛"


def test_tile_fields_match_tilejson_and_carry_no_personal_data(small_city, client):  # noqa: F811
    z, x, y = tile_of(116.305, 39.984, 14)
    for key in tiles.LAYERS:
        meta = tiles.TileJSON.model_validate(client.get(f"/tiles/{key}.json").json())  # the documented shape
        assert meta.tilejson == "3.0.0" and meta.tiles[0].endswith(f"/tiles/{key}/{{z}}/{{x}}/{{y}}.pbf")
        west, south, east, north = meta.bounds
        assert west <= 116.300 and east >= 116.330 and south <= 39.980 and north >= 39.994
        declared = {layer.id: set(layer.fields) for layer in meta.vector_layers}
        assert not set().union(*declared.values()) & PERSONAL
        for name, layer in decode(client.get(f"/tiles/{key}/{z}/{x}/{y}.pbf").content).items():
            for feature in layer["features"]:
                assert set(feature["properties"]) <= declared[name], (key, name)
    facilities = decode(client.get(f"/tiles/facilities/{z}/{x}/{y}.pbf").content)["facilities"]["features"]
    assert {f["properties"]["name"]: f["properties"]["candidate"] for f in facilities} == {
        "东王庄党群服务站": False,
        "候选站点": True,
    }


def test_bad_tile_addresses_are_404(small_city, client):  # noqa: F811
    assert client.get("/tiles/grids/3/8/0.pbf").status_code == 404
    assert client.get("/tiles/grids/23/0/0.pbf").status_code == 404
    assert client.get("/tiles/residents/1/0/0.pbf").status_code == 404
    assert client.get("/tiles/residents.json").status_code == 404
    empty = client.get("/tiles/grids/5/0/0.pbf")  # far from any data: an empty tile, not an error
    assert empty.status_code == 200 and empty.content == b""


def test_warm_tile_is_cached_and_a_change_invalidates_it(small_city, client):  # noqa: F811
    z, x, y = tile_of(116.315, 39.986, 12)
    url = f"/tiles/grids/{z}/{x}/{y}.pbf"
    first = client.get(url)
    again = client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and tiles_router.cache.hits >= 1
    with small_city.begin() as conn:
        conn.execute(text("UPDATE grids SET name = '改名网格' WHERE code = :c"), {"c": f"{OTHER}001"})
    names = {f["properties"]["name"] for f in decode(client.get(url).content)["grids"]["features"]}  # at once
    assert "改名网格" in names and "空网格" not in names


def test_demo_base_map_has_named_main_roads_river_and_railway(demo_city, client):
    with demo_city_engine() as conn:
        west, south, east, north = tiles.bounds(conn)
    z, x, y = tile_of((west + east) / 2, (south + north) / 2, 13)
    layers = decode(client.get(f"/tiles/base/{z}/{x}/{y}.pbf").content)
    roads = layers["roads"]["features"]
    assert {f["properties"]["kind"] for f in roads} >= {"major", "street"}
    assert any(f["properties"].get("name", "").startswith(("纬", "经")) for f in roads)
    assert layers["water"]["features"][0]["properties"]["name"] == "清河"
    assert layers["railways"]["features"] and "buildings" not in layers  # footprints only from zoom 15


def demo_city_engine():
    from geogrid import db

    return db.ready().connect()


def test_haidian_extract_base_map(empty_db, client):
    from geogrid.importers import import_osm

    pbf = shared_data("beijing-haidian-osm/tsinghua-pku-2017.osm.pbf")
    with empty_db.begin() as conn:
        reports = import_osm(conn, pbf, network=False)
        kinds = dict(conn.execute(text("SELECT layer || '/' || kind, count(*) FROM base_features GROUP BY 1")).all())
        named = conn.scalar(text("SELECT count(*) FROM base_features WHERE layer = 'road' AND name LIKE '%路%'"))
    assert any("base map" in str(r) or "底图" in str(r) for r in reports)
    assert kinds.get("road/major", 0) + kinds.get("road/secondary", 0) > 10 and kinds.get("road/path", 0) > 50
    assert any(k.startswith("water/") for k in kinds) and named > 10
    z, x, y = tile_of(116.3197, 40.0010, 15)  # between Tsinghua and Peking University
    layers = decode(client.get(f"/tiles/base/{z}/{x}/{y}.pbf").content)
    assert layers["roads"]["features"] and layers["buildings"]["features"]  # OSM footprints from zoom 15
    with empty_db.begin() as conn:  # a re-import replaces the extract's features instead of doubling them
        import_osm(conn, pbf, network=False)
        assert conn.scalar(text("SELECT count(*) FROM base_features")) == sum(kinds.values())


def test_warm_tiles_follow_the_authorization_table(small_city, settings_env):  # noqa: F811
    from geogrid import db

    z, x, y = tile_of(116.315, 39.986, 12)
    with db.ready().connect() as conn:  # warm, as if a signed-in viewer had asked first
        assert tiles_router.cache.tile(conn, "grids", z, x, y)
    settings_env("GEOGRID_PUBLIC", "lookup")  # maps need signing in here
    anonymous = TestClient(create_app(), base_url="http://127.0.0.1")
    assert anonymous.get(f"/tiles/grids/{z}/{x}/{y}.pbf").status_code == 401
    settings_env("GEOGRID_PUBLIC", "maps,read,lookup")
    assert anonymous.get(f"/tiles/grids/{z}/{x}/{y}.pbf").status_code == 200


def test_warm_tile_answer_equals_the_ordinary_one(small_city, client):  # noqa: F811
    """The warm path (before FastAPI) answers exactly as routing would: body, gzip, ETag, 304, security headers;
    a bad Host, credentials or a query string go the ordinary way."""
    z, x, y = tile_of(116.315, 39.986, 12)
    url = f"/tiles/grids/{z}/{x}/{y}.pbf"
    plain = {"Accept-Encoding": "identity"}
    ordinary = client.get(url, headers=plain)  # cold: built through the route
    served = tiles_router.warm.served
    warm = client.get(url, headers=plain)
    assert tiles_router.warm.served == served + 1
    assert warm.status_code == 200 and warm.content == ordinary.content and len(warm.content) > 256
    for name in ("etag", "content-type", "cache-control", "content-security-policy", "x-frame-options"):
        assert warm.headers[name] == ordinary.headers[name], name
    packed = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip" and packed.content == ordinary.content  # decoded by httpx
    assert client.get(url, headers={"If-None-Match": ordinary.headers["etag"]}).status_code == 304
    served = tiles_router.warm.served
    assert client.get(url, headers={"Host": "evil.example"}).status_code == 400  # the host check still applies
    assert client.get(url, headers={"X-API-Key": "gg_nonsense"}).status_code == 401  # credentials are checked
    assert client.get(url + "?x=1").content == ordinary.content
    assert tiles_router.warm.served == served


def test_service_area_tiles_of_one_circle_hold_that_circle_only(small_city, client, monkeypatch):  # noqa: F811
    """The city page asks for the circle it draws, not every radius in both modes (six times the bytes)."""
    from geogrid.coverage.compute import compute_service_areas
    from maps import cache, pages

    with small_city.begin() as conn:
        compute_service_areas(conn, ("circle",))
        cache.clear(conn)
    z, x, y = tile_of(116.315, 39.986, 12)

    def drawn(key: str) -> set[tuple]:
        layer = decode(client.get(f"/tiles/{key}/{z}/{x}/{y}.pbf").content).get("service_areas", {"features": []})
        return {
            (f["properties"]["facility_id"], f["properties"]["mode"], f["properties"]["minutes"])
            for f in layer["features"]
        }

    every = drawn("service-areas")
    assert {(mode, minutes) for _, mode, minutes in every} == {("circle", 5), ("circle", 10), ("circle", 15)}
    for minutes in (5, 15):
        assert drawn(f"service-areas-circle-{minutes}") == {a for a in every if a[2] == minutes}
    assert drawn("service-areas-network-5") == set()  # none stored: an empty tile, not an error
    for bad in ("service-areas-circle-7", "service-areas-walk-5", "service-areas-circle-"):
        assert client.get(f"/tiles/{bad}/{z}/{x}/{y}.pbf").status_code == 404, bad
    meta = tiles.TileJSON.model_validate(client.get("/tiles/service-areas-circle-5.json").json())
    assert meta.tiles[0].endswith("/tiles/service-areas-circle-5/{z}/{x}/{y}.pbf")
    monkeypatch.setattr(pages, "EMBED_MAX_GRIDS", 1)  # the city page at city scale: grids and areas as tiles
    assert "/tiles/service-areas-circle-5/{z}/{x}/{y}.pbf" in client.get("/maps/coverage").text
