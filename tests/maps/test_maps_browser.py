"""The maps in a real Chromium (Debian package) driven by Playwright, served by uvicorn from the real API."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.maps_city import COMMUNITY, EXPECTED, OTHER
from tests.live import launch_chromium, serve_api

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def server(small_city):  # noqa: F811
    with serve_api() as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()


class Watched:
    """A page that records console errors, failed requests and every host it talked to."""

    def __init__(self, browser, base: str) -> None:
        self.page = browser.new_page(viewport={"width": 1200, "height": 800})
        self.base, self.errors, self.failed, self.urls = base, [], [], []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("requestfailed", lambda r: self.failed.append(f"{r.url} {r.failure}"))
        self.page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.url} {r.status}"))
        self.page.on("request", lambda r: self.urls.append(r.url))

    def open(self, path: str) -> None:
        self.page.goto(self.base + path)
        self.page.wait_for_selector("body[data-geogrid-ready]", state="attached", timeout=30_000)
        assert self.page.get_attribute("body", "data-geogrid-ready") == "1", self.page.evaluate("geogrid.errors")

    def check_clean(self) -> None:
        assert self.errors == []
        assert self.failed == []
        assert all(u.startswith(self.base) or u.startswith("data:") for u in self.urls), self.urls

    def hover(self, lon: float, lat: float) -> str:
        """Move the mouse onto a place of the map and read the grid tooltip that opens."""
        x, y = self.page.evaluate(
            """([lon, lat]) => {
            const pt = geogrid.map.latLngToContainerPoint([lat, lon]);
            const r = geogrid.map.getContainer().getBoundingClientRect();
            return [pt.x + r.left, pt.y + r.top];
        }""",
            [lon, lat],
        )
        self.page.mouse.move(1, 790)  # off every grid: the previous tooltip closes
        self.page.wait_for_selector(".leaflet-tooltip.geogrid-tooltip", state="detached", timeout=5000)
        self.page.mouse.move(x - 3, y - 3)
        self.page.mouse.move(x, y)
        return self.page.wait_for_selector(".leaflet-tooltip.geogrid-tooltip", timeout=5000).inner_text()

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def _grids_in(community: str) -> list[str]:
    return [c for c in EXPECTED if c.startswith(community)]


def test_community_map_draws_every_grid_with_tooltips(browser, server):
    w = Watched(browser, server)
    w.open(f"/maps/coverage?community={COMMUNITY}")
    codes = _grids_in(COMMUNITY)
    assert w.page.locator("path.geogrid-grid").count() == len(codes)
    tip = w.hover(116.3015, 39.9885)
    assert f"{COMMUNITY}001" in tip and "张三" in tip and "380" in tip and "31.6%" in tip
    island = w.hover(116.3055, 39.9835)  # inside the hole of ...001: the island answers, not the ring
    assert f"{COMMUNITY}003" in island and "</script><b>岛" in island
    assert w.page.locator(".geogrid-legend").inner_text().count("households") >= 1
    assert w.page.locator(".leaflet-control-layers").count() == 1
    assert w.page.locator(".leaflet-control-fullscreen, .leaflet-control-zoom-fullscreen").count() >= 1
    w.shot("coverage-community")
    w.check_clean()


def test_city_map_and_grid_map(browser, server):
    w = Watched(browser, server)
    w.open("/maps/coverage?measure=coverage")
    assert w.page.locator("path.geogrid-grid").count() == len(EXPECTED)
    assert "%" in w.page.locator(".geogrid-legend").inner_text()
    w.shot("coverage-city")
    w.open(f"/maps/grids/{COMMUNITY}002?measure=party_members")
    assert w.page.locator("path.geogrid-grid").count() == len(_grids_in(COMMUNITY))
    assert w.page.evaluate("geogrid.layers.buildings.getLayers().length") == 2  # the exclave's building too
    assert f"{COMMUNITY}002" in w.hover(116.3185, 39.9815)
    assert f"{COMMUNITY}002" in w.hover(116.3215, 39.9925)  # the exclave belongs to the same grid
    w.shot("grid-map")
    w.check_clean()


def test_search_finds_a_grid_code(browser, server):
    w = Watched(browser, server)
    w.open(f"/maps/coverage?community={OTHER}")
    assert w.page.locator("path.geogrid-grid").count() == 1
    w.page.fill("#geogrid-search-input", f"{OTHER}001")
    w.page.press("#geogrid-search-input", "Enter")
    tip = w.page.wait_for_selector(".leaflet-tooltip.geogrid-tooltip", timeout=5000).inner_text()
    assert f"{OTHER}001" in tip and "—" in tip  # no households: no coverage share
    w.check_clean()


def test_index_links_every_map(browser, server):
    w = Watched(browser, server)
    w.page.goto(server + "/maps")
    hrefs = w.page.eval_on_selector_all("a", "els => els.map(e => e.getAttribute('href'))")
    assert "/maps/coverage" in hrefs
    assert f"/maps/coverage?community={COMMUNITY}" in hrefs
    assert {f"/maps/grids/{c}" for c in EXPECTED} <= set(hrefs)
    w.check_clean()


def test_search_finds_an_address_through_the_lookup_api(browser, server):
    w = Watched(browser, server)
    w.open(f"/maps/coverage?community={COMMUNITY}")
    w.page.fill("#geogrid-search-input", "学院路2号楼")
    w.page.press("#geogrid-search-input", "Enter")
    w.page.wait_for_selector("#geogrid-search-result:has-text('网格')", timeout=10_000)
    assert f"{COMMUNITY}001" in w.page.inner_text("#geogrid-search-result")
    lat, lng = w.page.evaluate("[geogrid.searchMarker.getLatLng().lat, geogrid.searchMarker.getLatLng().lng]")
    assert (lat, lng) == pytest.approx((39.989, 116.309), abs=1e-6)  # the answer is marked where the building is
    w.shot("search-address")
    w.check_clean()
