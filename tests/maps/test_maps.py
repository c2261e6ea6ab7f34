"""Maps without a browser: the figures the layers carry, offline pages, GCJ-02 shift, API errors, CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient

from geogrid.settings import get_settings
from maps import data, geojson, pages
from maps.assets import external_urls, vendored
from tests.fixtures.maps_city import COMMUNITY, EXPECTED, OTHER, STREET

ROOT = Path(__file__).resolve().parents[2]


def _grids(engine, area=None, mode="auto") -> dict:
    with engine.connect() as conn:
        frame = data.grids(conn, data.check_scope(conn, data.Scope(area, mode)))
    return {r.code: r for r in frame.itertuples()}


def test_grid_measures(small_city):  # noqa: F811
    got = _grids(small_city)
    assert set(got) == set(EXPECTED)
    for code, (households, covered, party) in EXPECTED.items():
        assert (got[code].households, got[code].covered_households, got[code].party_members) == (
            households,
            covered,
            party,
        ), code
    assert got[f"{COMMUNITY}001"].coverage == pytest.approx(120 / 380, abs=1e-3)
    assert np.isnan(got[f"{OTHER}001"].coverage)  # no households: no share, not 0%
    assert got[f"{COMMUNITY}001"].worker == "张三"


def test_scope_by_street_and_community_name(small_city):  # noqa: F811
    assert set(_grids(small_city, STREET)) == set(EXPECTED)
    assert set(_grids(small_city, "西王庄社区")) == {f"{OTHER}001"}


def test_coverage_matches_the_coverage_api_once_areas_are_stored(small_city):  # noqa: F811
    from geogrid.coverage.compute import compute_service_areas
    from geogrid.coverage.stats import Query, coverage

    with small_city.begin() as conn:
        compute_service_areas(conn, ("circle",))
    got = _grids(small_city, mode="circle")
    with small_city.connect() as conn:
        official = {g["code"]: g for g in coverage(conn, Query(minutes=5, mode="circle"))["grids"]}
    for code, row in got.items():
        assert row.covered_households == official[code]["households_covered"], code


def test_pages_load_nothing_from_outside(small_city):  # noqa: F811
    assert vendored(), "run make maps-vendor"
    with small_city.connect() as conn:
        html = pages.coverage_page(conn, data.Scope(COMMUNITY))
        grid = pages.grid_page(conn, f"{COMMUNITY}001")
    for page in (html, grid):
        assert external_urls(page) == []
        assert "/maps/static/vendor/leaflet/leaflet.js" in page
        for cdn in ("cdn.jsdelivr", "cdnjs", "code.jquery", "bootstrapcdn", "d3js"):
            assert cdn not in page
    assert "</script><b>" not in html  # names are escaped inside the embedded data


def test_city_scale_pages_fetch_layers_instead_of_embedding(small_city, monkeypatch):  # noqa: F811
    monkeypatch.setattr(pages, "EMBED_MAX_GRIDS", 2)
    with small_city.connect() as conn:
        html = pages.coverage_page(conn, data.Scope())
    assert "/maps/layers/grids.geojson?" in html and "北区网格" not in html


@pytest.fixture
def amap_tiles(monkeypatch):
    monkeypatch.setenv("GEOGRID_TILE_URL", "https://webrd01.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}&style=8")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("GEOGRID_TILE_URL")
    get_settings.cache_clear()


def test_layers_shift_to_gcj02_under_amap_tiles(small_city, amap_tiles):  # noqa: F811
    assert geojson.display_crs() == "gcj02"
    with small_city.connect() as conn:
        scope = data.check_scope(conn, data.Scope(COMMUNITY))
        layer = json.loads(pages.layer_json(conn, "grids", scope))
        html = pages.coverage_page(conn, scope)
    island = next(f for f in layer["features"] if f["properties"]["code"] == f"{COMMUNITY}003")
    drawn = shapely.from_geojson(json.dumps(island["geometry"]))
    import prcoords  # GCJ-02 from an independent package, not geogrid.crs (which draws the layer)

    expected = shapely.transform(
        shapely.box(116.303, 39.983, 116.306, 39.986),
        lambda xy: np.array([prcoords.wgs_gcj((lat, lon))[::-1] for lon, lat in xy]),
    )
    assert shapely.hausdorff_distance(drawn, expected) < 1e-5
    assert shapely.hausdorff_distance(drawn, shapely.box(116.303, 39.983, 116.306, 39.986)) > 0.001  # ~500 m
    assert "autonavi.com" in html and external_urls(html) == []  # the tile URL is the only outside address


@pytest.fixture
def client(small_city):  # noqa: F811
    from api.app import create_app

    return TestClient(create_app())


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/maps/coverage?community=nowhere", 404, "nowhere"),
        (f"/maps/coverage?community={COMMUNITY}&minutes=7", 400, "minutes"),
        (f"/maps/coverage?community={COMMUNITY}&mode=flying", 400, "mode"),
        (f"/maps/coverage?community={COMMUNITY}&mode=network", 400, "network"),
        (f"/maps/coverage?community={COMMUNITY}&measure=income", 400, "measure"),
        (f"/maps/coverage?community={COMMUNITY}&kind=spaceport", 400, "kind"),
        ("/maps/coverage?minutes=five", 422, "minutes"),
        ("/maps/grids/999", 404, "999"),
        ("/maps/layers/roads.geojson", 404, "roads"),
        ("/maps/layers/buildings.geojson?grid=999", 404, "999"),
        ("/maps/static/vendor/..%2f..%2f..%2fpyproject.toml", 404, "static"),
        ("/maps/static/nothing.js", 404, "nothing.js"),
    ],
)
def test_bad_requests_answer_with_a_reason(client, path, status, words):
    r = client.get(path)
    assert r.status_code == status, r.text
    assert words in r.json()["error"]


def test_api_serves_pages_layers_and_vendor_files(client):
    index = client.get("/maps")
    assert index.status_code == 200 and COMMUNITY in index.text  # the index links the community's map
    page = client.get(f"/maps/coverage?community={COMMUNITY}&measure=coverage")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    layer = client.get(f"/maps/layers/grids.geojson?community={COMMUNITY}")
    assert layer.headers["content-type"] == "application/geo+json"
    assert sorted(f["properties"]["code"] for f in layer.json()["features"]) == sorted(
        c for c in EXPECTED if c.startswith(COMMUNITY)
    )
    uncovered = client.get(f"/maps/layers/uncovered.geojson?community={COMMUNITY}").json()["features"]
    assert {f["properties"]["address"] for f in uncovered} == {"学院路2号楼", "边界路1号楼", "东区3号楼", "飞地1号楼"}
    js = client.get("/maps/static/vendor/leaflet/leaflet.js", headers={"accept-encoding": "gzip"})
    assert js.status_code == 200 and "Leaflet" in js.text[:500]
    on_disk = (ROOT / "maps" / "static" / "vendor" / "leaflet" / "leaflet.js").read_bytes()
    assert js.headers["content-encoding"] == "gzip" and js.content == on_disk  # sent compressed, arrives whole
    assert js.num_bytes_downloaded < len(on_disk) / 2
    plain = client.get("/maps/static/vendor/leaflet/leaflet.js", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == on_disk


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).parent / "geogrid"), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        timeout=120,
    )


def test_cli_writes_a_map_that_works_offline(small_city, tmp_path):  # noqa: F811
    out = tmp_path / "maps" / "coverage.html"
    done = _cli("map", "coverage", "--community", COMMUNITY, "-o", str(out))
    assert done.returncode == 0, done.stderr
    html = out.read_text()
    assert external_urls(html) == [] and "geogrid-static/vendor/leaflet/leaflet.js" in html
    assert (out.parent / "geogrid-static" / "vendor" / "leaflet" / "leaflet.js").exists()
    assert "北区网格" in html  # layers embedded: the file needs no server


def test_cli_names_the_unknown_area(small_city, tmp_path):  # noqa: F811
    done = _cli("map", "coverage", "--community", "nowhere", "-o", str(tmp_path / "x.html"))
    assert done.returncode == 1 and "nowhere" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "x.html").exists()


def test_demo_hook_writes_street_maps_and_an_index(small_city, tmp_path):  # noqa: F811
    from geogrid.plugins import DemoContext
    from maps.cli import demo_hook

    demo_hook(DemoContext(out_dir=tmp_path, serve=False, host="127.0.0.1", port=0))
    out = tmp_path / "maps"
    assert (out / "coverage.html").exists() and (out / f"coverage-{STREET}.html").exists()
    index = (out / "index.html").read_text()
    assert f"coverage-{STREET}.html" in index
    assert external_urls((out / f"coverage-{STREET}.html").read_text()) == []


def test_cached_layers_follow_writes(client, small_city):  # noqa: F811
    from sqlalchemy import text

    def households() -> int:
        features = client.get(f"/maps/layers/grids.geojson?community={COMMUNITY}").json()["features"]
        return next(f["properties"]["households"] for f in features if f["properties"]["code"] == f"{COMMUNITY}001")

    assert households() == 380
    with small_city.begin() as conn:
        conn.execute(text("UPDATE buildings SET households = 999 WHERE address = '学院路1号楼'"))
    assert households() == 380 - 120 + 999  # the very next request: the data version changed with the commit


def test_simplified_layers_stay_valid_and_close():
    """A hole just under a shell's bump (where naive simplification would cut through it) and a plain bump:
    layer polygons come out valid, within a few tolerances of the input, with the needless vertex gone."""
    deg = 1 / geojson.METRES_PER_DEGREE  # the tolerance is in metres; build the case in metres
    shell = [(0, 0), (10, 0), (10, 10), (5, 10.05), (0, 10), (0, 0)]
    hole = [(4.5, 9.5), (5.5, 9.5), (5.5, 10.03), (4.5, 10.03), (4.5, 9.5)]
    tricky = shapely.Polygon(np.array(shell) * deg, [np.array(hole) * deg])
    plain = shapely.Polygon(np.array([(20, 0), (30, 0), (30, 10), (25, 10.05), (20, 10), (20, 0)]) * deg)
    out = geojson.prepare(np.array([tricky, plain]), crs=None, simplify_m=0.1, precision=9)
    assert shapely.is_valid(out).all()
    assert shapely.get_num_coordinates(out[1]) == 5  # the 5 cm bump is gone
    assert (shapely.hausdorff_distance(out, np.array([tricky, plain])) < 0.6 * deg).all()
