"""OGC API Features under /ogc, read by GDAL's OAPIF driver (what QGIS uses) from a live server on real PostGIS:
every collection listed and read in full, bbox and CQL2 filters, read-only, and no personal data anywhere."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from sqlalchemy import text

from tests.fixtures.maps_city import COMMUNITY, EXPECTED, small_city  # noqa: F401
from tests.live import serve_api

COLLECTIONS = {"ogc.areas", "ogc.grids", "ogc.buildings", "ogc.facilities", "ogc.service_areas", "ogc.grid_coverage"}
PERSONAL_FIELDS = {
    "worker",
    "staff",
    "phone",
    "id_number",
    "birth_year",
    "party_member",
    "special_groups",
    "registration_type",
    "resident_id",
}


def gdal(*args: str) -> str:
    if shutil.which("ogrinfo") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("ogrinfo is missing in CI: `make test` installs gdal-bin")
        pytest.skip("gdal-bin is not installed: `make test` installs it")
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def features(url: str, layer: str, *extra: str) -> list[dict]:
    """Every feature of a collection as GDAL reads it (paging through the API's ``next`` links)."""
    out = gdal("ogr2ogr", "-f", "GeoJSON", "/vsistdout/", f"OAPIF:{url}/ogc", layer, *extra)
    return [f["properties"] | {"_geometry": f["geometry"]} for f in json.loads(out)["features"]]


@pytest.fixture
def live(small_city):  # noqa: F811
    with serve_api() as url:
        yield url


def test_gdal_lists_and_reads_every_collection(live, small_city):  # noqa: F811
    listing = gdal("ogrinfo", "-ro", "-so", f"OAPIF:{live}/ogc")
    assert {line.split(" ")[1] for line in listing.splitlines() if line[:1].isdigit()} == COLLECTIONS
    with small_city.connect() as conn:
        for layer in COLLECTIONS:
            expected = conn.scalar(text(f"SELECT count(*) FROM {layer}"))
            got = features(live, layer, "-oo", "PAGE_SIZE=2")  # several pages even for the small city
            assert len(got) == expected, layer
            assert all(f["_geometry"] is not None for f in got), layer
    grids = {f["code"]: f for f in features(live, "ogc.grid_coverage")}
    assert set(grids) == set(EXPECTED)
    for code, (households, covered, _party) in EXPECTED.items():
        assert (grids[code]["households"], grids[code]["covered_households"]) == (households, covered), code
        assert grids[code]["basis"] == "circle 300 m"
    assert grids[f"{COMMUNITY}002"]["_geometry"]["type"] == "MultiPolygon"


def test_bbox_and_cql2_filters(live):
    west = features(live, "ogc.buildings", "-spat", "116.299", "39.979", "116.3055", "39.9855")
    assert {f["address"] for f in west} == {"学院路1号楼", "湖心岛1号楼"}
    import httpx

    r = httpx.get(
        f"{live}/ogc/collections/ogc.grid_coverage/items",
        params={"filter": "coverage < 0.5", "filter-lang": "cql2-text"},
    )
    assert r.status_code == 200
    assert {f["properties"]["code"] for f in r.json()["features"]} == {f"{COMMUNITY}001", f"{COMMUNITY}002"}


def test_read_only_and_no_personal_data(live, small_city):  # noqa: F811
    import httpx

    with small_city.connect() as conn:
        staff = conn.scalars(text("SELECT name FROM staff")).all()
    assert staff == ["张三"]
    for layer in COLLECTIONS:
        queryables = httpx.get(f"{live}/ogc/collections/{layer}/queryables").json()["properties"]
        assert not set(queryables) & PERSONAL_FIELDS, layer
        body = httpx.get(f"{live}/ogc/collections/{layer}/items", params={"limit": 1000}).text
        assert "张三" not in body, layer
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            assert httpx.request(method, f"{live}/ogc/collections/{layer}/items").status_code in (401, 403, 405)
    landing = httpx.get(f"{live}/ogc", follow_redirects=True).json()
    hrefs = [link["href"] for link in landing["links"] if "{" not in link["href"]]
    assert f"{live}/ogc/collections" in hrefs
    assert all(httpx.get(href, follow_redirects=True).status_code == 200 for href in hrefs), hrefs
    conformance = httpx.get(f"{live}/ogc/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conformance
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in conformance


def test_feeds_follow_the_authorization_table(small_city, settings_env):  # noqa: F811
    from fastapi.testclient import TestClient

    from api.app import create_app

    settings_env("GEOGRID_PUBLIC", "maps,lookup")  # read feeds need signing in here
    client = TestClient(create_app(), base_url="http://127.0.0.1")
    assert client.get("/ogc/collections").status_code == 401
    assert client.get("/ogc/collections/ogc.grids/items").status_code == 401
