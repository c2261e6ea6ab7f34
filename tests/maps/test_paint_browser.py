"""Paint mode of the planner in a real Chromium, on the 3×3 street city: paint three blocks from one grid to its
neighbour with a live balance bar, undo/redo, preview (the server's figures equal the bar's), apply (each grid one
piece, no hole but the community's pond), and a painting that cuts a grid in two asks first."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import make_account
from tests.fixtures.paint_city import C1, A, B
from tests.live import launch_chromium, serve_api, sign_in

PASSWORD = "correct horse battery"
SHOTS = Path("/tmp/geogrid-paint-shots")


@pytest.fixture
def server(paint_city):
    name = make_account(paint_city, "planner", (C1,), password=PASSWORD)[0]
    with serve_api() as url:
        yield url, name


def _click(page, lon: float, lat: float) -> None:
    page.mouse.click(*_point(page, lon, lat))


def _point(page, lon: float, lat: float) -> tuple[float, float]:
    return page.evaluate(
        """([lon, lat]) => {
        const el = document.querySelector('.folium-map'), map = window[el.id];
        const p = map.latLngToContainerPoint([lat, lon]), r = el.getBoundingClientRect();
        return [r.left + p.x, r.top + p.y];
    }""",
        [lon, lat],
    )


@contextmanager
def _paint_mode(url: str, name: str) -> Iterator:
    """A signed-in planner page of the paint city in paint mode, painting into grid B; no script error on it."""
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(exist_ok=True)
    errors: list[str] = []
    with sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(url) else r.abort())
        page.on("pageerror", lambda e: errors.append(str(e)))
        sign_in(page, url, name, PASSWORD, f"/planner?community={C1}")
        page.wait_for_function("() => window.geogridPlannerReady === true")
        page.select_option("#planner-grid", B)
        page.check("#paint-mode")
        page.wait_for_function("() => window.geogridPaintUnits !== undefined")
        yield page
        browser.close()
    assert not errors


def _drag(page, start: tuple[float, float], end: tuple[float, float]) -> None:
    """One brush stroke from ``start`` to ``end`` (page pixels)."""
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=12)
    page.mouse.up()


def _brush(page, px: int) -> None:
    page.evaluate(
        "(r) => { const b = document.getElementById('paint-brush'); b.value = r; b.dispatchEvent(new Event('input')); }",
        px,
    )


def _bar(page) -> dict:
    return page.evaluate("() => window.geogridPaintBar")


def _shape(conn, code: str) -> tuple[int, int]:
    return conn.execute(
        text(
            "SELECT ST_NumGeometries(geom), (SELECT sum(ST_NumInteriorRings(d.geom)) FROM ST_Dump(g.geom) d) "
            "FROM grids g WHERE code = :c AND valid_to IS NULL"
        ),
        {"c": code},
    ).one()


@pytest.mark.browser
def test_paint_three_blocks_preview_apply_and_confirm_a_split(server, paint_city):
    with _paint_mode(*server) as page:
        _click(page, 116.412, 39.905)  # column 1, row 0
        _brush(page, 20)  # a 20 px brush, dragged over rows 1 and 2 (west of the pond): one stroke
        x0, y0 = _point(page, 116.412, 39.913)
        x1, y1 = _point(page, 116.412, 39.925)
        _drag(page, (x0, y0), (x1, y1))
        bar = _bar(page)
        assert (bar[A]["households"], bar[B]["households"]) == (300, 600)
        assert (bar[A]["pieces"], bar[B]["pieces"]) == (1, 1)
        page.screenshot(path=str(SHOTS / "1-painted.png"))
        page.click("#paint-undo")  # the whole stroke
        assert (_bar(page)[A]["households"], _bar(page)[B]["households"]) == (500, 400)
        page.click("#paint-redo")
        assert _bar(page)[B]["households"] == 600
        page.click("#planner-preview")
        page.wait_for_function("() => window.geogridPaintPreviewed !== undefined", timeout=30_000)
        preview = page.evaluate("() => window.geogridPaintPreviewed.preview")
        after = {g["code"]: g["after"] for g in preview["grids"]}
        bar = _bar(page)
        for code in (A, B):  # the live bar's figures are the server's
            assert after[code]["households"] == bar[code]["households"]
            assert after[code]["coverage"] == bar[code]["coverage"]
            assert after[code]["parts"] == bar[code]["parts"] == 1
        assert "棋盘街11号楼" in page.inner_text("#planner-result")  # units by name, not id
        page.screenshot(path=str(SHOTS / "2-previewed.png"))
        asked: list[str] = []
        answer = {"accept": True}  # the apply's reason prompt (if any) is accepted; the split's confirm is not
        page.on(
            "dialog", lambda d: (asked.append(d.message), d.accept("街道批准") if answer["accept"] else d.dismiss())
        )
        page.click("#planner-apply")
        page.wait_for_function("() => window.geogridPlannerApplied !== undefined", timeout=30_000)
        with paint_city.connect() as conn:
            assert _shape(conn, A) == (1, 0)
            assert _shape(conn, B) == (1, 1)  # the pond, the community's own hole
        # A is column 0 now: painting its middle block into B cuts A in two, and the page asks first
        page.select_option("#planner-grid", B)
        page.check("#paint-mode")
        page.wait_for_function("() => window.geogridPaintUnits.grids.some(g => g.households === 600)")
        answer["accept"] = False
        _click(page, 116.405, 39.915)
        assert _bar(page)[A]["pieces"] == 2
        page.screenshot(path=str(SHOTS / "3-split.png"))
        page.click("#planner-preview")
        page.wait_for_function("() => document.getElementById('planner-status').classList.contains('error')")
        assert asked and A in asked[-1]


STRIP_EAST = 116.411  # a second carriageway east of the road at x = 116.41: a strip of road with no buildings


@pytest.fixture
def strip_server(empty_db):
    """The painting city with a dual carriageway between columns 0 and 1: its strip is three units (one per
    row) holding no buildings, inside grid A."""
    from geogrid.planning.painting import ensure_units
    from tests.fixtures.paint_city import Y0, build_city

    with empty_db.begin() as conn:
        build_city(conn)
        conn.execute(
            text(
                "INSERT INTO barrier_lines (kind, geom) VALUES ('road', ST_SetSRID(ST_MakeLine("
                "ST_MakePoint(:x, :y0), ST_MakePoint(:x, :y1)), 4326))"
            ),
            {"x": STRIP_EAST, "y0": Y0 - 0.005, "y1": Y0 + 0.035},
        )
        ensure_units(conn, C1)
    name = make_account(empty_db, "planner", (C1,), password=PASSWORD)[0]
    with serve_api() as url:
        yield url, name


@pytest.mark.browser
def test_the_brush_passes_road_strips_by_and_a_click_paints_one(strip_server):
    """Brushing the blocks beside a road paints the blocks, not the road's strips (drawn dashed); the pointer
    crossing a strip paints that one."""
    with _paint_mode(*strip_server) as page:
        strips = page.evaluate(  # {id: southern latitude} of the units without buildings
            "() => Object.fromEntries(window.geogridPaintUnits.features.filter(f => f.properties.buildings === 0)"
            ".map(f => [f.id, Math.min(...f.geometry.coordinates.flat(2).map(c => c[1]))]))"
        )
        assert len(strips) == 3
        south = min(strips, key=lambda k: strips[k])
        assert page.locator('path[stroke-dasharray="4 4"]').count() == 3  # drawn apart from the homes
        west_x, edge_x = _point(page, 116.41, 39.9)[0], _point(page, STRIP_EAST, 39.9)[0]
        radius = round(edge_x - west_x)  # the strip's width: a brush reaching into it, not across it to column 0
        _brush(page, radius)
        x = edge_x + radius / 2  # inside column 1, half the brush over the strip
        _, y0 = _point(page, 116.411, 39.902)
        _, y1 = _point(page, 116.411, 39.928)
        _drag(page, (x, y0), (x, y1))
        assert (_bar(page)[A]["households"], _bar(page)[B]["households"]) == (300, 600)
        _brush(page, 0)
        _click(page, (116.41 + STRIP_EAST) / 2, 39.905)  # a click inside the southern strip paints it
        page.screenshot(path=str(SHOTS / "4-strips.png"))
        page.click("#planner-preview")
        page.wait_for_function("() => window.geogridPaintPreviewed !== undefined", timeout=30_000)
        moved = page.evaluate("() => window.geogridPaintPreviewed.preview.units")
        assert {u["to"] for u in moved} == {B}
        assert len(moved) == 4 and [str(u["id"]) for u in moved if str(u["id"]) in strips] == [south]
