"""Swagger UI and ReDoc render in Chromium from local files under the API's CSP (no CDN, no inline script,
no violation), with every off-machine request blocked."""

from __future__ import annotations

import pytest

from tests.live import launch_chromium, serve_api


@pytest.mark.browser
def test_swagger_ui_and_redoc_render_under_the_csp(empty_db):
    from playwright.sync_api import sync_playwright

    off_machine: list[str] = []
    problems: list[str] = []
    with serve_api() as server, sync_playwright() as p:
        browser = launch_chromium(p)
        context = browser.new_context()
        context.route(
            "**/*",
            lambda route: (
                route.continue_()
                if route.request.url.startswith(server)
                else (off_machine.append(route.request.url), route.abort())
            ),
        )
        page = context.new_page()
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.goto(f"{server}/docs")
        page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
        operations = page.locator(".opblock").count()
        page.goto(f"{server}/redoc")
        page.wait_for_selector("[role=menuitem], .redoc-json, h1", timeout=20_000)
        page.wait_for_timeout(1500)
        redoc_text = page.inner_text("body")
        browser.close()
    assert operations >= 30
    assert "Something went wrong" not in redoc_text and "/lookup/batch" in redoc_text, redoc_text[:300]
    # Only ReDoc's own logo (cdn.redoc.ly) is refused by img-src: the CSP keeps the page off the network.
    refused = [m for m in problems if "Content Security Policy" in m]
    assert [m for m in refused if "img-src" not in m or "https://cdn.redoc.ly/" not in m] == []
    assert off_machine == []
