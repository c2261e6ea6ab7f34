"""A grid named like a script (``<img src=x onerror=...>``) stays text in Chromium: in the planner's tooltip and
grid list, on the map pages, with the CSP the API sends."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.fixtures.planning_city import C1, A
from tests.live import launch_chromium, serve_api
from tests.maps.test_planning_browser import _pixel

PAYLOAD = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


@pytest.fixture
def server(planning_city):
    with planning_city.begin() as conn:
        conn.execute(text("UPDATE grids SET name = :n WHERE code = :c"), {"n": PAYLOAD, "c": A})
    with serve_api() as url:
        yield url


@pytest.mark.browser
def test_script_in_a_grid_name_is_inert(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{server}/planner?community={C1}")
        page.wait_for_function("() => window.geogridPlannerReady === true")
        page.mouse.move(*_pixel(page, 116.305, 39.908))  # over grid A: its tooltip opens
        page.wait_for_selector(".leaflet-tooltip", timeout=10_000)
        tooltip = page.inner_text(".leaflet-tooltip")
        option = page.inner_text(f"#planner-grid option[value='{A}']")
        page.wait_for_timeout(500)
        planner_xss = page.evaluate("() => window.__xss")
        assert page.locator(".leaflet-tooltip img").count() == 0
        page.goto(f"{server}/maps/grids/{A}")
        page.wait_for_timeout(1500)
        map_xss = page.evaluate("() => window.__xss")
        page.goto(f"{server}/maps")
        index_xss = page.evaluate("() => window.__xss")
        index_text = page.inner_text("body")
        browser.close()
    assert "<img src=x" in tooltip and "<img src=x" in option  # shown as the text it is
    assert (planner_xss, map_xss, index_xss) == (None, None, None)
    assert "社区001" in index_text  # the index rendered
