"""The maps a new user reads, in a real Chromium with every off-machine request blocked: the offline base map
is drawn (checked by pixels), the coverage classes colour the grids, the legend lists exactly the symbols drawn,
names label the grids, the summary adds up, and the print view makes a PDF and a PNG for a street office wall."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.fixtures.maps_city import COMMUNITY  # noqa: F401
from tests.live import launch_chromium, serve_api

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"
ROAD = (0xF2, 0xA6, 0x5A)  # main road
WATER = (0xA6, 0xCE, 0xE3)
BLANK = (0xF4, 0xF3, 0xEE)
GAP, FULL = (0xFE, 0xD9, 0x76), (0x22, 0x5E, 0xA8)  # coverage < 50 % and ≥ 95 %
FILL_OPACITY = 0.55


@pytest.fixture
def server(small_city):
    with small_city.begin() as conn:  # a named main road across the community and a lake south of it
        conn.execute(
            text(
                "INSERT INTO base_features (layer, kind, name, geom, source_id) VALUES "
                "('road', 'major', '学院路', "
                "ST_GeomFromText('LINESTRING(116.295 39.9815, 116.335 39.9815)', 4326), 't'), "
                "('water', 'lake', '未名湖', ST_GeomFromText('POLYGON((116.300 39.9765, 116.312 39.9765, "
                "116.312 39.9785, 116.300 39.9785, 116.300 39.9765))', 4326), 't')"
            )
        )
    with serve_api() as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()


def offline_page(browser, base: str):
    """A page whose every request off this server is aborted (and recorded)."""
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    page.blocked, page.errors = [], []
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))

    def route(r):
        if r.request.url.startswith(base) or r.request.url.startswith("data:"):
            return r.continue_()
        page.blocked.append(r.request.url)
        return r.abort()

    page.route("**/*", route)
    return page


def open_map(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("body[data-geogrid-ready]", state="attached", timeout=30_000)
    assert page.get_attribute("body", "data-geogrid-ready") == "1", page.evaluate("geogrid.errors")
    page.wait_for_timeout(300)


def pixel(page, lon: float, lat: float) -> tuple[int, int, int]:
    from PIL import Image

    x, y = page.evaluate(
        "([lon, lat]) => { const p = geogrid.map.latLngToContainerPoint([lat, lon]);"
        " return [Math.round(p.x), Math.round(p.y)]; }",
        [lon, lat],
    )
    image = Image.open(BytesIO(page.screenshot())).convert("RGB")
    return image.getpixel((x, y))


def near(got, want, tolerance: int = 12) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(got, want, strict=True))


def blend(colour, under=BLANK, alpha=FILL_OPACITY):
    return tuple(round(alpha * c + (1 - alpha) * u) for c, u in zip(colour, under, strict=True))


def test_community_map_reads_without_internet(browser, server):
    page = offline_page(browser, server)
    open_map(page, f"{server}/maps/coverage?community={COMMUNITY}")
    page.evaluate("geogrid.map.setView([39.9835, 116.3075], 15, {animate: false})")
    page.wait_for_timeout(400)
    # the base map is drawn: the main road over the grids, the lake outside them
    assert near(pixel(page, 116.2985, 39.9815), ROAD), "main road not drawn"
    assert near(pixel(page, 116.3065, 39.9772), WATER), "water not drawn"
    # coverage classes: the uncovered grid in the gap class, the island fully covered
    assert near(pixel(page, 116.3185, 39.9885), blend(GAP))
    assert near(pixel(page, 116.3050, 39.9848), blend(FULL), tolerance=20)
    classes = page.eval_on_selector_all("#geogrid-legend [data-class]", "els => els.map(e => e.innerText)")
    assert any("(2)" in c and "< 50%" in c for c in classes) and any("≥ 95%" in c and "(1)" in c for c in classes)
    assert "5-minute" in page.inner_text("#geogrid-legend") or "300 m" in page.inner_text("#geogrid-legend")
    # the legend explains every symbol drawn, and nothing that is not
    legend = set(page.eval_on_selector_all("#geogrid-legend [data-symbol]", "els => els.map(e => e.dataset.symbol)"))
    drawn = {"facility:service_station", "candidate", "area", "uncovered", "base:road:major", "base:water"}
    if page.evaluate("geogrid.layers.problems && geogrid.layers.problems.getLayers().length > 0"):
        drawn.add("problem")
    if page.locator(".marker-cluster").count():
        drawn.add("cluster")
    assert legend == drawn
    # names label the grids, the code is on hover; the title and the summary speak of names and households
    labels = page.eval_on_selector_all(".geogrid-label", "els => els.map(e => e.innerText)")
    assert "北区网格" in labels and not any(label.startswith("110108") for label in labels)
    assert page.inner_text(".geogrid-title").startswith("东王庄社区")
    summary = page.inner_text("#geogrid-summary")
    assert "870" in summary and "23%" in summary and "670" in summary  # 200 of 870 households covered
    assert page.blocked == [] and page.errors == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "readable-community.png"))


def test_print_view_makes_a_pdf_and_a_png(browser, server):
    page = offline_page(browser, server)
    open_map(page, f"{server}/maps/coverage?community={COMMUNITY}&print=true")
    assert not page.is_visible(".leaflet-control-layers") and not page.is_visible(".geogrid-search")
    assert page.is_visible("#geogrid-legend") and page.is_visible("#geogrid-summary")
    assert page.is_visible(".geogrid-title")
    pdf = page.pdf(format="A3", landscape=True, print_background=True)
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    png = page.screenshot()
    assert png.startswith(b"\x89PNG")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "print-view.pdf").write_bytes(pdf)
    assert page.blocked == [] and page.errors == []


def test_city_scale_base_map_comes_as_vector_tiles(browser, server, monkeypatch):
    from maps import pages

    monkeypatch.setattr(pages, "EMBED_MAX_GRIDS", 1)  # the small city drawn as a city-scale page is
    page = offline_page(browser, server)
    tiles = []
    page.on("response", lambda r: "/tiles/base/" in r.url and tiles.append(r.status))
    open_map(page, f"{server}/maps/coverage")
    page.evaluate("geogrid.map.setView([39.9815, 116.2985], 16, {animate: false})")
    page.wait_for_timeout(1500)
    assert tiles and set(tiles) == {200}
    assert near(pixel(page, 116.2975, 39.9815), ROAD, tolerance=25)  # between two of its name labels
    names = page.eval_on_selector_all(".geogrid-road-label", "els => els.map(e => e.innerText)")
    assert "学院路" in names  # the main road named from the tiles' labels layer, at street zoom
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "readable-city-road-labels.png"))
    assert page.blocked == [] and page.errors == []


def test_city_scale_grids_and_areas_come_as_vector_tiles(browser, server, monkeypatch):
    """The city map at city scale draws its grids from /tiles (only the tiles in view), with the
    coverage classes, summary and legend counts of the whole city; the grid list loads only for a search."""
    from maps import pages

    monkeypatch.setattr(pages, "EMBED_MAX_GRIDS", 1)
    page = offline_page(browser, server)
    fetched: list[str] = []
    page.on("response", lambda r: fetched.append(r.url.split("?")[0]))
    open_map(page, f"{server}/maps/coverage?measure=coverage")
    assert page.evaluate("!!geogrid.tiledGrids") and page.evaluate("geogrid.grids.length") == 0
    assert any("/tiles/grids/" in u for u in fetched)  # service areas too, once stored (bench/bench_maps.py)
    assert not any(u.endswith("/maps/layers/grids.geojson") for u in fetched)
    page.evaluate("geogrid.map.setView([39.9835, 116.3075], 15, {animate: false})")
    page.wait_for_timeout(1200)
    assert near(pixel(page, 116.3185, 39.9885), blend(GAP))  # the uncovered grid, coloured from its tile
    assert near(pixel(page, 116.3050, 39.9848), blend(FULL), tolerance=20)
    classes = page.eval_on_selector_all("#geogrid-legend [data-class]", "els => els.map(e => e.innerText)")
    assert any("≥ 95%" in c and "(1)" in c for c in classes)
    assert "870" in page.inner_text("#geogrid-summary") or "," in page.inner_text("#geogrid-summary")
    page.fill("#geogrid-search-input", "北区网格")
    page.press("#geogrid-search-input", "Enter")
    for _ in range(50):  # wait_for_function would evaluate a string, which the page's CSP forbids
        if page.evaluate("geogrid.indexed === true"):
            break
        page.wait_for_timeout(200)
    assert "网格" in page.inner_text("#geogrid-search-result")
    assert page.blocked == [] and page.errors == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "readable-city-tiles.png"))
