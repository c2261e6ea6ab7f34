"""The planner page in a real Chromium: propose grids for a community with none, apply them, draw a brand-new grid."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.conftest import make_account
from tests.core.test_partition import COMMUNITY, X0, Y0, build_street
from tests.live import launch_chromium, serve_api


@pytest.fixture
def street_server(empty_db):
    with empty_db.begin() as conn:
        build_street(conn)
    with serve_api() as url:
        yield url, empty_db


def _pixel(page, lon: float, lat: float) -> tuple[float, float]:
    return tuple(
        page.evaluate(
            """([lon, lat]) => {
        const el = document.querySelector('.folium-map'), map = window[el.id];
        const p = map.latLngToContainerPoint([lat, lon]), r = el.getBoundingClientRect();
        return [r.left + p.x, r.top + p.y];
    }""",
            [lon, lat],
        )
    )


def _lonlat(x: float, y: float) -> tuple[float, float]:
    from pyproj import Transformer

    return Transformer.from_crs(32650, 4326, always_xy=True).transform(X0 + x, Y0 + y)


@pytest.mark.browser
def test_planner_proposes_grids_then_draws_a_new_one(street_server, tmp_path):
    from playwright.sync_api import sync_playwright

    server, engine = street_server
    errors: list[str] = []
    with sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1280, "height": 800}, bypass_csp=True)  # polling predicates
        page.on("pageerror", lambda e: errors.append(str(e)))
        password = "partition-planner-Pw-2026!"
        name, _ = make_account(engine, "planner", (COMMUNITY,), password=password)
        signed = page.request.post(f"{server}/login", data={"name": name, "password": password})
        assert signed.ok, signed.text()  # a planner of this community, signed in (session cookie + CSRF)
        page.goto(f"{server}/planner?community={COMMUNITY}")
        page.wait_for_function("window.geogridPlannerReady === true")
        assert page.evaluate("window.geogridPlannerGrids.features.length") == 0
        page.click("#planner-propose")
        page.wait_for_function(
            "document.getElementById('planner-moved') || "
            "document.getElementById('planner-status').className.includes('error')",
            timeout=60_000,
        )
        assert page.query_selector("#planner-moved"), page.inner_text("#planner-status")
        assert "new" in page.inner_text("#planner-result")
        page.screenshot(path=str(tmp_path / "proposed.png"))
        page.click("#planner-apply")
        page.wait_for_function("window.geogridPlannerApplied !== undefined", timeout=30_000)
        created = page.evaluate("window.geogridPlannerApplied.created")
        assert len(created) >= 4 and page.evaluate("window.geogridPlannerGrids.features.length") == len(created)

        # a brand-new grid: a rectangle drawn with no grid picked, in the north-west block
        page.evaluate("window.geogridPlannerApplied = undefined")
        page.click(".leaflet-draw-draw-rectangle")
        x0, y0 = _pixel(page, *_lonlat(20, 380))
        x1, y1 = _pixel(page, *_lonlat(120, 280))
        page.mouse.move(x0, y0)
        page.mouse.down()
        page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=5)
        page.mouse.move(x1, y1, steps=5)
        page.mouse.up()
        assert "new grid drawn" in page.inner_text("#planner-status")
        page.click("#planner-preview")
        page.wait_for_selector("#planner-moved", timeout=30_000)
        page.click("#planner-apply")
        page.wait_for_function("window.geogridPlannerApplied !== undefined", timeout=30_000)
        new = page.evaluate("window.geogridPlannerApplied.created")
        browser.close()
    assert not errors
    assert len(new) == 1 and new[0] not in created
    with engine.connect() as conn:
        holds = conn.scalar(
            text("SELECT count(*) FROM building_assignments a JOIN grids g ON g.id = a.grid_id WHERE g.code = :c"),
            {"c": new[0]},
        )
    assert holds == 1  # the building at (50, 350) moved into the new grid
