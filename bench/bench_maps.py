"""City map in Chromium: HTML size and time until drawn, geogrid's page vs ``GeoDataFrame.explore()``.

Both pages show the same layers of the demo city (grids coloured by households with tooltips, facilities,
5-minute service areas; uncovered buildings are switched off at city scale in ours and left out of both).
- geogrid: ``GET /maps/coverage`` served by the API (uvicorn, this process); layers fetched as gzip GeoJSON;
  measured cold (layers prepared by the API's start-up warmer and read from PostGIS, none in process), warm
  (in process) and unprepared (nothing prepared: built on the request); ``prepared_after_start_seconds`` is
  when (after start-up) the layers were found stored, at the latest (the data was changed just before: coverage
  stored anew; the peer's HTML is built meanwhile); ``warmer_build_seconds`` the background build itself;
- peer: ``explore()`` of the same GeoDataFrames, saved as one HTML file and opened from disk, its Leaflet
  pointed at our local copy and every other outside request blocked (an intranet has no CDN).
"Drawn" = ours: every shown layer filled and a frame painted (``body[data-geogrid-ready]``); peer: the
``load`` event and two animation frames. Sizes are bytes of HTML (ours: plus the GeoJSON it fetches).
The demo city is loaded into a separate cluster (``.geogrid-bench-maps``); per-building coverage is stored
as ``geogrid compute`` stores it (its one-off cost is reported as ``store_coverage_seconds``).
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("GEOGRID_HOME", str(ROOT / ".geogrid-bench-maps"))
os.environ.setdefault("GEOGRID_DB_PORT", "54369")

BUILDINGS, QUICK_BUILDINGS = 1_000_000, 20_000
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
LEAFLET_CDN = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/"


def _store_coverage() -> float:
    """Seconds to store per-building coverage (the pipeline step after service areas), stored anew each run."""
    from geogrid import db
    from geogrid.coverage.covered import store_building_coverage

    with db.ready().begin() as conn:
        start = time.perf_counter()
        store_building_coverage(conn)
        return time.perf_counter() - start


def _load(n: int) -> tuple[int, float]:
    """Load (or reuse) the demo city of ``n`` buildings; returns grids in force and seconds storing coverage."""
    from sqlalchemy import text

    from geogrid import db
    from geogrid.assign import assign_all
    from geogrid.coverage.compute import compute_service_areas
    from geogrid.demo import load_demo
    from geogrid.model import Base

    engine = db.ready()
    with engine.begin() as conn:
        have = conn.scalar(text("SELECT count(*) FROM buildings"))
    if not (have and abs(have - n) / n < 0.05):  # else already loaded by an earlier run of the same size
        with engine.begin() as conn:
            tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            load_demo(conn, buildings=n)
            assign_all(conn)
            compute_service_areas(conn, ("circle",))
    store_s = _store_coverage()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
        return conn.scalar(text("SELECT count(*) FROM grids WHERE valid_to IS NULL")), store_s


def _serve() -> tuple[str, object]:
    import uvicorn

    from api.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server


def _artifact(name: str) -> Path:
    """Screenshots go with the test artifacts (gitignored), for a look at what was measured."""
    out = ROOT / "test-artifacts"
    out.mkdir(exist_ok=True)
    return out / name


def _draw(browser, url: str, shot: str | None = None) -> tuple[float, int, list[str]]:
    """Seconds from navigation to ``body[data-geogrid-ready]``, grids drawn, URLs requested."""
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    start = time.perf_counter()
    page.goto(url, wait_until="commit", timeout=600_000)
    page.wait_for_selector("body[data-geogrid-ready]", state="attached", timeout=600_000)
    seconds = time.perf_counter() - start
    drawn = page.evaluate("geogrid.grids.length")
    if shot:
        page.screenshot(path=shot)
    page.close()
    return seconds, drawn, urls


def _wait_prepared(since: float, timeout: float = 600) -> float:
    """Seconds until the API's start-up warmer has stored the city layers for the current data (0: a city
    below city scale, whose layers are embedded and never prepared ahead)."""
    from geogrid import db
    from maps import prepared

    while time.perf_counter() - since < timeout:
        with db.ready().connect() as conn:
            if prepared.city_scope(conn) is None or prepared.city_prepared(conn):
                return time.perf_counter() - since
        time.sleep(0.2)
    raise TimeoutError("the city layers were not prepared")


def _ours(browser, base: str, started: float) -> dict:
    """cold: first view in a process that has not served the map (layers read from PostGIS, as prepared at
    start-up / after compute); warm: the next view (layers in process); unprepared: first view with nothing
    prepared anywhere (layers built on the request, what "cold" meant before layers were prepared)."""
    import httpx

    from geogrid import db
    from maps import cache

    url = base + "/maps/coverage?mode=circle"
    from api.routers.maps import warmer

    prepare_s = _wait_prepared(started)
    cache.clear()
    cold, drawn, urls = _draw(browser, url, str(_artifact("maps-geogrid.png")))
    warm, _, _ = _draw(browser, url)
    with db.ready().begin() as conn:
        cache.clear(conn)
    unprepared, _, _ = _draw(browser, url)
    sizes = {}
    for u in [url] + [u for u in urls if "/maps/layers/" in u]:
        r = httpx.get(u, headers={"Accept-Encoding": "gzip"}, timeout=600)
        sizes[u] = (len(r.content), int(r.headers.get("content-length", len(r.content))))
    html, html_gz = sizes.pop(url)
    return {
        "seconds_cold": round(cold, 2),
        "seconds_warm": round(warm, 2),
        "seconds_unprepared": round(unprepared, 2),
        "prepared_after_start_seconds": round(prepare_s, 2),
        "warmer_build_seconds": round(warmer.last_seconds or 0, 2),
        "html_bytes": html,
        "html_gzip_bytes": html_gz,
        "layer_bytes": sum(v[0] for v in sizes.values()),
        "layer_gzip_bytes": sum(v[1] for v in sizes.values()),
        "grids_drawn": drawn,
    }


def _peer_html(out: Path) -> int:
    import geopandas as gpd

    from geogrid import db
    from maps import data

    with db.ready().connect() as conn:
        scope = data.check_scope(conn, data.Scope(None, "circle", 5))
        grids = data.grids(conn, scope)
        facilities = data.facilities(conn, scope)
        areas = data.service_areas(conn, scope)
    g = gpd.GeoDataFrame(grids.drop(columns="geom"), geometry=grids["geom"].to_numpy(), crs=4326)
    m = g.explore(
        column="households",
        tooltip=["code", "name", "worker", "households", "coverage", "party_members"],
        name="grids",
        legend=False,
        tiles=None,
    )
    gpd.GeoDataFrame(areas.drop(columns="geom"), geometry=areas["geom"].to_numpy(), crs=4326).explore(
        m=m, name="service areas", color="green"
    )
    gpd.GeoDataFrame(facilities.drop(columns="geom"), geometry=facilities["geom"].to_numpy(), crs=4326).explore(
        m=m, name="facilities", color="red"
    )
    import folium

    folium.LayerControl().add_to(m)
    vendor = (ROOT / "maps" / "static" / "vendor" / "leaflet").as_uri() + "/"
    html = m.get_root().render().replace(LEAFLET_CDN, vendor)
    out.write_text(html, encoding="utf-8")
    return len(g)


def _peer(browser, path: Path) -> dict:
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    page.route("http*://**", lambda route: route.abort())  # no CDN on an intranet (file:// still loads)
    start = time.perf_counter()
    page.goto(path.as_uri(), wait_until="load", timeout=600_000)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    seconds = time.perf_counter() - start
    drawn = page.evaluate("document.querySelectorAll('path.leaflet-interactive').length")
    page.screenshot(path=str(_artifact("maps-explore.png")))
    page.close()
    return {"seconds": round(seconds, 2), "html_bytes": path.stat().st_size, "paths_drawn": drawn}


def run(quick: bool) -> dict:
    from playwright.sync_api import sync_playwright

    n = QUICK_BUILDINGS if quick else BUILDINGS
    t0 = time.perf_counter()
    grids, store_s = _load(n)
    load_s = time.perf_counter() - t0
    started = time.perf_counter()
    base, server = _serve()
    try:
        with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
            peer_file = Path(tmp) / "explore.html"
            _peer_html(peer_file)
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            ours = _ours(browser, base, started)
            peer = _peer(browser, peer_file)
            browser.close()
    finally:
        server.should_exit = True
    ours_total = ours["html_bytes"] + ours["layer_bytes"]
    return {
        "buildings": n,
        "grids": grids,
        "load_seconds": round(load_s, 1),
        "store_coverage_seconds": round(store_s, 1),
        "geogrid": ours,
        "explore": peer,
        "html_smaller_x": round(peer["html_bytes"] / max(ours["html_bytes"], 1), 1),
        "html_plus_layers_smaller_x": round(peer["html_bytes"] / max(ours_total, 1), 2),
        "faster_cold_x": round(peer["seconds"] / max(ours["seconds_cold"], 1e-9), 2),
        "faster_warm_x": round(peer["seconds"] / max(ours["seconds_warm"], 1e-9), 2),
        "faster_unprepared_x": round(peer["seconds"] / max(ours["seconds_unprepared"], 1e-9), 2),
        "targets": {"smaller_x": 5, "faster_x": 3},
    }
