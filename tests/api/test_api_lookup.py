"""The HTTP API against real PostGIS: lookup, batch (JSON and CSV), read endpoints and hostile input."""

from __future__ import annotations

import csv
import io
import json

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from geogrid import crs
from tests.fixtures.lookup_city import GRIDS, expected_code, load_city


@pytest.fixture(scope="module")
def client(database):
    from tests.conftest import truncate_all

    truncate_all(database)
    with database.begin() as conn:
        load_city(conn)
        from geogrid.assign import assign_all

        assign_all(conn)
    from tests.conftest import make_account

    key = make_account(database, "api_client")[1]  # batches need an account; point lookups are public
    with TestClient(create_app(), raise_server_exceptions=False, headers={"Authorization": f"Bearer {key}"}) as c:
        yield c


def test_health_and_docs(client):
    assert client.get("/health").json() == {"status": "ok", "database": "ok"}
    assert TestClient(create_app()).get("/health").json() == {"status": "ok", "database": "ok"}  # without pool
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower() and "cdn" not in docs.text.lower()
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    assert {"/lookup", "/lookup/batch", "/grids", "/grids/{code}", "/areas", "/facilities"} <= set(paths)
    answer = paths["/lookup"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert {ref["$ref"].rsplit("/", 1)[1] for ref in answer["anyOf"]} == {"PointAnswer", "AddressAnswer"}
    station = spec["components"]["schemas"]["Station"]["properties"]
    assert station["walk_basis"]["enum"] == ["network", "straight_line"] and "walk_m" in station


def test_point_lookup(client):
    assert client.app.state.lookup_pool is not None  # the async hot path is the one under test here
    got = client.get("/lookup", params={"lon": 116.312, "lat": 39.9055}).json()
    assert got["grid"]["code"] == "110108600001001"
    assert got["district"]["name"] == "海淀区" and got["nearest_station"]["name"] == "巴蜀党群服务站"
    assert "13800000000" not in json.dumps(got)


def test_staff_change_shows_on_the_next_lookup(client, database):
    """Edits committed by another connection reach the pooled hot path and the sync path at once."""
    from sqlalchemy import text

    plain = TestClient(create_app(), raise_server_exceptions=False)
    params = {"lon": 116.312, "lat": 39.9055}
    rename = text("UPDATE staff SET name = :new WHERE name = :old")
    with database.begin() as conn:
        conn.execute(rename, {"new": "王新国", "old": "王建国"})
    try:
        for c in (client, plain):
            assert c.get("/lookup", params=params).json()["staff"][0] == {"role": "grid_leader", "name": "王新国"}
    finally:
        with database.begin() as conn:
            conn.execute(rename, {"new": "王建国", "old": "王新国"})
    assert client.get("/lookup", params=params).json()["staff"][0]["name"] == "王建国"


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_offset_systems_over_http(client, system):
    x, y = crs.FROM_WGS84[system](116.3125, 39.9035)
    got = client.get("/lookup", params={"lon": float(x), "lat": float(y), "crs": system}).json()
    assert got["grid"]["code"] == expected_code(116.3125, 39.9035) == "110108600001001"


def test_sync_path_without_the_pool_gives_the_same_answers(client):
    plain = TestClient(create_app(), raise_server_exceptions=False)  # no lifespan: no async pool
    for params in ({"lon": 116.312, "lat": 39.9055}, {"lon": 116.36, "lat": 39.905}, {"lon": "nan", "lat": 1}):
        a, b = client.get("/lookup", params=params), plain.get("/lookup", params=params)
        assert (a.status_code, a.json()) == (b.status_code, b.json())


def test_outside_is_404_with_nearest(client):
    r = client.get("/lookup", params={"lon": 116.36, "lat": 39.905})
    assert r.status_code == 404
    assert r.json()["nearest_grid"]["code"] == "110108600002001" and "no grid" in r.json()["error"]


def test_address_lookup(client):
    got = client.get("/lookup", params={"address": "北京市海淀区巴蜀花園３號樓"}).json()
    assert got["match"] == {"address": "巴蜀花园3栋", "kind": "building", "level": "building", "score": 1.0}
    assert got["ambiguous"] is False and "explain" not in got
    explained = client.get("/lookup", params={"address": "巴蜀花园3栋", "explain": "true"}).json()
    assert explained["explain"][0] == "normal form: 巴蜀花园3栋" or "巴蜀花园3栋" in explained["explain"][0]
    assert got["grid"]["code"] == "110108600001002"
    r = client.get("/lookup", params={"address": "完全不存在的地方"})
    assert r.status_code == 404 and r.json()["error"]
    both = client.get("/lookup", params={"lon": 116.335, "lat": 39.905, "address": "巴蜀花园3栋"}).json()
    assert both["grid"]["code"] == "110108600002001" and "match" not in both  # coordinates win, as in the batch


@pytest.mark.parametrize(
    "params, status",
    [
        ({"lon": "nan", "lat": 39.9}, 400),
        ({"lon": "inf", "lat": 39.9}, 400),
        ({"lon": 116.3, "lat": 95}, 400),
        ({"lon": 1e308, "lat": 1e308}, 400),
        ({"lon": "abc", "lat": 39.9}, 422),
        ({"lon": 116.3}, 400),
        ({}, 400),
        ({"lon": 116.3, "lat": 39.9, "crs": "EPSG:999999"}, 400),
        ({"lon": 116.3, "lat": 39.9, "crs": "x" * 100}, 422),
        ({"lon": 116.3, "lat": 39.9, "crs": "IAU_2015:30100"}, 400),  # a CRS of the Moon
        ({"lon": 116.3, "lat": 39.9, "crs": "EPSG:4978"}, 400),  # geocentric
        ({"lon": 1e9, "lat": 1e9, "crs": "EPSG:4547"}, 400),  # projected, far off the Earth
        ({"address": "'; DROP TABLE grids; --"}, 404),
        ({"address": "巴蜀\x07花园"}, 200),  # other control characters are dropped, not passed to SQL
        ({"address": "巴蜀\x00花园"}, 422),  # a NUL character is refused by name, never passed to SQL
        ({"address": "a" * 301}, 422),
        ({"address": "  "}, 400),
    ],
)
def test_hostile_lookup_is_4xx_with_reason(client, params, status):
    r = client.get("/lookup", params=params)
    assert r.status_code == status, r.text
    assert r.json()["error" if status != 200 else "match"]
    assert client.get("/grids").json()["features"]  # nothing was dropped


def test_batch_json_in_order(client):
    items = [
        {"id": 1, "lon": 116.305, "lat": 39.905},
        {"id": "b", "address": "长湖街十二号"},
        {"id": 3, "lon": 116.36, "lat": 39.905},
        {"id": 4, "lon": 999, "lat": 0},
    ]
    got = client.post("/lookup/batch", json={"items": items}).json()["results"]
    assert [r["id"] for r in got] == [1, "b", 3, 4]
    assert got[0]["grid"]["code"] == "110108600001002"
    assert got[1]["grid"]["code"] == expected_code(116.3140, 39.9080)
    assert got[2]["grid"] is None and got[2]["error"] and got[3]["error"]


def test_projected_input(client):
    from pyproj import Transformer

    x, y = Transformer.from_crs(4326, 4547, always_xy=True).transform(116.3125, 39.9035)  # CGCS2000 3° GK 114E
    got = client.get("/lookup", params={"lon": x, "lat": y, "crs": "EPSG:4547"}).json()
    assert got["grid"]["code"] == "110108600001001"


def test_batch_gcj02(client):
    x, y = crs.FROM_WGS84["gcj02"]([116.305, 116.335], [39.905, 39.905])
    items = [{"id": i, "lon": float(x[i]), "lat": float(y[i])} for i in range(2)]
    got = client.post("/lookup/batch", params={"crs": "gcj02"}, json={"items": items}).json()["results"]
    assert [r["grid"]["code"] for r in got] == ["110108600001002", "110108600002001"]


def test_batch_csv_upload_answers_csv(client):
    body = "id,lon,lat,address\nx1,116.305,39.905,\nx2,,,巴蜀花园十三号楼\nx3,abc,1,\n"
    for kwargs in (
        {"content": body.encode(), "headers": {"content-type": "text/csv"}},
        {"files": {"file": ("points.csv", body.encode(), "text/csv")}},
    ):
        r = client.post("/lookup/batch", **kwargs)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(r.text)))
        assert [row["id"] for row in rows] == ["x1", "x2", "x3"]
        assert rows[0]["grid_code"] == "110108600001002" and rows[1]["match_address"] == "巴蜀花园13栋"
        assert rows[2]["grid_code"] == "" and rows[2]["error"]
    r = client.post("/lookup/batch", content=b"foo,bar\n1,2\n", headers={"content-type": "text/csv"})
    assert r.status_code == 400 and "columns" in r.json()["error"]
    r = client.post("/lookup/batch", content=b"x", headers={"content-type": "multipart/form-data"})
    assert r.status_code == 400 and "upload" in r.json()["error"]
    r = client.post("/lookup/batch", content=b"\xff\xfe", headers={"content-type": "text/csv"})
    assert r.status_code == 400 and "CSV" in r.json()["error"]


@pytest.mark.parametrize(
    "body, status",
    [
        (b"{not json", 422),
        (b'{"items": "x"}', 422),
        (b'{"items": [{"id": 1, "lon": 1, "lat": 2, "evil": 1}]}', 422),
        (b'{"items": [{"id": 1, "lon": NaN, "lat": 2}]}', 422),  # NaN is not JSON: refused as "not finite"
    ],
)
def test_batch_bad_json(client, body, status):
    r = client.post("/lookup/batch", content=body, headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    if status == 200:
        assert r.json()["results"][0]["error"]
    else:
        assert r.json()["error"]


def test_limits_answer_413_naming_the_limit(client, monkeypatch):
    from geogrid.settings import get_settings

    big = b'{"items": [' + b",".join([b'{"lon": 116.3, "lat": 39.9}'] * 400_000) + b"]}"  # ~11 MB
    r = client.post("/lookup/batch", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["limit"] == get_settings().max_body_bytes
    monkeypatch.setenv("GEOGRID_BATCH_LIMIT", "2")
    get_settings.cache_clear()
    try:
        r = client.post("/lookup/batch", json={"items": [{"lon": 116.3, "lat": 39.9}] * 3})
        assert r.status_code == 413 and r.json()["limit"] == 2 and "limit of 2" in r.json()["error"]
    finally:
        monkeypatch.delenv("GEOGRID_BATCH_LIMIT")
        get_settings.cache_clear()


def test_streamed_body_over_the_limit(client):
    def chunks():
        for _ in range(12):
            yield b" " * 1_000_000

    r = client.post("/lookup/batch", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_read_endpoints_geojson_without_personal_data(client):
    grids = client.get("/grids").json()
    assert grids["type"] == "FeatureCollection" and len(grids["features"]) == len(GRIDS)
    props = {f["properties"]["code"]: f["properties"] for f in grids["features"]}
    assert set(props["110108600001002"]) == {
        "code",
        "name",
        "kind",
        "community_code",
        "households",
        "residents",
        "buildings",
        "households_estimated",  # whether any of its households are estimates (issue 13), not personal data
        "estimated_households",
    }
    assert props["110108600001002"]["buildings"] == 2 and props["110108600001002"]["households"] == 80
    assert props["110108600001002"]["households_estimated"] is False
    only = client.get("/grids", params={"community": "110108600002"}).json()["features"]
    assert [f["properties"]["code"] for f in only] == ["110108600002001"]
    boxed = client.get("/grids", params={"bbox": "116.331,39.901,116.339,39.909"}).json()["features"]
    assert [f["properties"]["code"] for f in boxed] == ["110108600002001"]
    one = client.get("/grids/110108600002001").json()
    assert one["geometry"]["type"] == "MultiPolygon" and one["properties"]["community_code"] == "110108600002"
    buildings = client.get("/grids/110108600001002/buildings").json()["features"]
    assert {f["properties"]["households"] for f in buildings} == {40}
    assert set(buildings[0]["properties"]) == {"address", "households", "source_id"}
    areas = client.get("/areas", params={"level": "community"}).json()["features"]
    assert {f["properties"]["code"] for f in areas} == {"110108600001", "110108600002"}
    stations = client.get("/facilities", params={"kind": "service_station"}).json()["features"]
    assert {f["properties"]["grid_code"] for f in stations} == {"110108600001002", "110108600002001"}
    everything = json.dumps([grids, buildings, areas, stations], ensure_ascii=False)
    assert "13800000000" not in everything and "王建国" not in everything


@pytest.mark.parametrize(
    "path, status",
    [
        ("/grids/nope", 404),
        ("/grids/%00", 422),
        ("/grids/1'%20OR%201=1/buildings", 404),
        ("/grids?bbox=1,2,3", 400),
        ("/grids?bbox=nan,0,1,1", 400),
        ("/grids?bbox=10,0,1,1", 400),
        ("/grids?community=%00", 422),
        ("/areas?level=planet", 400),
        ("/facilities?kind=bar", 400),
    ],
)
def test_read_hostile_is_4xx(client, path, status):
    r = client.get(path)
    assert r.status_code == status and r.json()["error"]


def test_batch_columns_answer_as_the_items_do(client):
    """Points as columns (JSON) and a points-only CSV take the array path: the same grids and errors."""
    lon, lat = [116.305, 116.36, 999.0, 116.312], [39.905, 39.905, 0.0, 39.9055]
    items = [{"id": i, "lon": x, "lat": y} for i, (x, y) in enumerate(zip(lon, lat, strict=True))]
    by_items = client.post("/lookup/batch", json={"items": items}).json()["results"]
    got = client.post("/lookup/batch", json={"lon": lon, "lat": lat, "id": ["a", "b", "c", "d"]}).json()
    assert got["id"] == ["a", "b", "c", "d"]
    assert got["grid_code"] == [(r["grid"] or {}).get("code") for r in by_items]
    assert got["community_code"] == [(r["grid"] or {}).get("community_code") for r in by_items]
    assert [bool(e) for e in got["error"]] == [bool(r.get("error")) for r in by_items]
    body = "id,lon,lat\n" + "".join(f"=x{i},{x},{y}\n" for i, (x, y) in enumerate(zip(lon, lat, strict=True)))
    rows = list(
        csv.DictReader(
            io.StringIO(client.post("/lookup/batch", content=body.encode(), headers={"content-type": "text/csv"}).text)
        )
    )
    assert [r["grid_code"] or None for r in rows] == got["grid_code"]
    assert rows[0]["id"] == "'=x0"  # ids escaped against formula injection, as on the item path
    bad = client.post("/lookup/batch", json={"lon": [1.0, 2.0], "lat": [1.0]})
    assert bad.status_code == 400 and "same length" in bad.json()["error"]
    bad = client.post("/lookup/batch", json={"lon": ["x"], "lat": [1.0]})
    assert bad.status_code == 422


def test_batch_items_of_points_answer_as_the_item_path(client, database):
    """A batch of points in the items format takes the array path: the same answers, word for word, as the
    item-by-item path (which still answers batches with addresses), and both match the documented schemas."""
    from api.schemas import BatchColumns, BatchItems
    from geogrid.lookup import lookup_batch

    lon = [116.305, 116.36, 999.0, 116.312, 116.3125, -200.0]
    lat = [39.905, 39.905, 0.0, 39.9055, 39.9035, 39.9]
    items = [{"id": i if i % 2 else f"p{i}", "lon": x, "lat": y} for i, (x, y) in enumerate(zip(lon, lat, strict=True))]
    got = client.post("/lookup/batch", json={"items": items})
    assert got.status_code == 200
    with database.connect() as conn:
        want = lookup_batch(conn, [dict(it, address=None) for it in items])
    assert got.json()["results"] == json.loads(json.dumps(want))
    BatchItems.model_validate(got.json())
    assert client.post("/lookup/batch", json={"items": []}).json() == {"results": []}
    mixed = client.post("/lookup/batch", json={"items": [*items, {"id": "a", "address": "长湖街十二号"}]}).json()
    assert mixed["results"][:-1] == got.json()["results"]
    BatchItems.model_validate(mixed)
    BatchColumns.model_validate(client.post("/lookup/batch", json={"lon": lon, "lat": lat}).json())


def test_a_batch_leaves_the_garbage_collector_on(client):
    """Batches pause the cyclic collector while they run; it is on again afterwards, after errors too."""
    import gc

    assert gc.isenabled()
    assert client.post("/lookup/batch", json={"items": [{"id": 1, "lon": 116.305, "lat": 39.905}]}).status_code == 200
    assert client.post("/lookup/batch", json={"items": [{"id": 1, "lon": "x"}]}).status_code == 422
    assert client.post("/lookup/batch", json={"lon": [1.0], "lat": [1.0, 2.0]}).status_code == 400
    assert gc.isenabled()
