"""The city map's first view in Chromium: bytes downloaded and seconds waited, geogrid vs ``GeoDataFrame.explore()``.

Both draw the same features of the demo city: every grid in force coloured by its coverage share with a tooltip
(code, name, community, households, coverage), the 5-minute service areas and the facilities.
- geogrid: ``GET /maps/coverage`` served by the API (uvicorn in this process, as ``geogrid serve`` runs it);
  at city scale the page draws grids and service areas from vector tiles (only those in view) and fetches
  the facilities as GeoJSON; measured cold (a process that has served no tile: tiles built in PostGIS on the
  request, page figures prepared by the start-up warmer) and warm (the next view).
- peer: ``explore()`` used competently: ``prefer_canvas=True``, the same simplification (2 m) and coordinate
  rounding (5 decimals) geogrid's city layers use, the same tooltip fields; its time counts building the HTML
  (``explore()`` + render + write, from frames already read) and Chromium loading it from disk until drawn;
  its Leaflet is pointed at our local copy and every other outside request blocked (an intranet has no CDN).
Sizes are everything the browser downloads for the first view (encoded bytes: gzip where served gzip), page,
scripts, styles, layers and tiles; the peer's HTML is a file as explore() users open it (also reported as it
would be served gzip). Before any time counts, both sides are checked to draw the same grids and service areas.
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

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
    from geogrid.coverage.compute import MODES, compute_service_areas
    from geogrid.demo import load_demo

    engine = db.ready()
    with engine.begin() as conn:
        have = conn.scalar(text("SELECT count(*) FROM buildings"))
    if not (have and abs(have - n) / n < 0.05):  # else already loaded by an earlier run of the same size
        with engine.begin() as conn:
            db.truncate_all(conn)  # as geogrid empties a database (the audit log is append-only)
            load_demo(conn, buildings=n)
            assign_all(conn)
    with engine.begin() as conn:  # stored as `geogrid compute` does: both modes (the page shows network ones)
        if conn.scalar(text("SELECT count(DISTINCT mode) FROM service_areas")) < len(MODES):
            compute_service_areas(conn)
    store_s = _store_coverage()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
        return conn.scalar(text("SELECT count(*) FROM grids WHERE valid_to IS NULL")), store_s


def _serve() -> tuple[str, Any]:
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


def _draw(browser, url: str, shot: str | None = None) -> dict:
    """Open the page; seconds until ``body[data-geogrid-ready]``, bytes downloaded, the grid tiles' bodies."""
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    sizes: dict[str, int] = {}

    def finished(request) -> None:
        sizes[request.url] = request.sizes()["responseBodySize"]  # as transferred (gzip where served so)

    page.on("requestfinished", finished)
    start = time.perf_counter()
    page.goto(url, wait_until="commit", timeout=600_000)
    page.wait_for_selector("body[data-geogrid-ready]", state="attached", timeout=600_000)
    seconds = time.perf_counter() - start
    state = page.get_attribute("body", "data-geogrid-ready")
    if shot:
        page.screenshot(path=shot)
    page.close()
    if state != "1":
        raise RuntimeError(f"the map did not draw: {state}")
    return {"seconds": seconds, "bytes": sum(sizes.values()), "requests": len(sizes), "urls": sizes}


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
    """cold: first view in a process that has served no tile (tiles built on the request, the page's figures
    prepared at start-up as after ``geogrid compute``); warm: the next view."""
    from api.routers import tiles as tile_routes
    from api.routers.maps import warmer

    url = base + "/maps/coverage?measure=coverage"
    prepare_s = _wait_prepared(started)
    tile_routes.cache.clear()
    cold = _draw(browser, url, str(_artifact("maps-geogrid.png")))
    warm = _draw(browser, url)
    return {
        "seconds_cold": round(cold["seconds"], 2),
        "seconds_warm": round(warm["seconds"], 2),
        "prepared_after_start_seconds": round(prepare_s, 2),
        "warmer_build_seconds": round(warmer.last_seconds or 0, 2),
        "bytes": cold["bytes"],
        "requests": cold["requests"],
        "bytes_by_kind": _by_kind(cold["urls"]),
        "drawn": _drawn_in_tiles(cold["urls"]),
    }


def _by_kind(sizes: dict[str, int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for url, n in sizes.items():
        kind = next((k for k in ("/tiles/", "/maps/layers/", "/maps/static/") if k in url), "page")
        out[kind.strip("/") or kind] = out.get(kind.strip("/") or kind, 0) + n
    return out


def _drawn_in_tiles(urls) -> dict:
    """Grid codes and service areas (facility, mode, minutes) in the grid and service-area tiles fetched
    (asked again once the view is measured: the page's tiles are the server's, unchanged)."""
    import httpx
    import mapbox_vector_tile

    codes, areas = set(), set()
    tiles = [u for u in urls if "/tiles/grids/" in u or "/tiles/service-areas" in u]
    for body in (httpx.get(u, timeout=600).content for u in tiles):
        for name, layer in (mapbox_vector_tile.decode(body) if body else {}).items():
            for f in layer["features"]:
                p = f["properties"]
                if name == "grids":
                    codes.add(p["code"])
                else:
                    areas.add((int(p["facility_id"]), p["mode"], int(p["minutes"])))
    return {"grid_codes": codes, "service_areas": areas}


def _frames():
    """The city's layers as geogrid's city page shows them: grids (coverage, default circle), 5-minute
    service areas, facilities; simplified 2 m and rounded to 5 decimals as geogrid's city layers are."""
    import geopandas as gpd
    import shapely

    from geogrid import crs, db
    from maps import data

    with db.ready().connect() as conn:
        scope = data.check_scope(conn, data.Scope())
        grids = data.grids(conn, scope)
        areas = data.service_areas(conn, scope)
        facilities = data.facilities(conn, scope)

    def frame(df, simplify: bool):
        g = gpd.GeoDataFrame(df.drop(columns="geom"), geometry=df["geom"].to_numpy(), crs=4326)
        if simplify:
            metric = crs.metric_epsg(*g.total_bounds[:2])
            g = g.to_crs(metric).simplify(2.0).to_frame("geometry").join(g.drop(columns="geometry")).to_crs(4326)
            g = gpd.GeoDataFrame(g, geometry="geometry", crs=4326)
        g["geometry"] = shapely.set_precision(g.geometry.to_numpy(), 1e-5)
        return g

    from bisect import bisect_right

    from maps.pages import measures

    m = measures()["coverage"]
    grids["fill"] = [
        m["none"] if v != v else m["colors"][min(bisect_right(m["breaks"], v), len(m["colors"]) - 1)]
        for v in grids["coverage"].astype(float)
    ]
    return scope, frame(grids, True), frame(areas, True), frame(facilities, False)


def _peer_html(out: Path, frames) -> float:
    """explore() of the same layers at its best; seconds to build and write the page."""
    import folium

    _, grids, areas, facilities = frames
    start = time.perf_counter()
    m = grids.explore(  # coloured by the same coverage classes as ours (explore's own classifier refuses NaN)
        tooltip=["code", "name", "community_name", "households", "coverage"],
        name="grids",
        tiles=None,
        prefer_canvas=True,
        style_kwds={
            "style_function": lambda f: {
                "fillColor": f["properties"]["fill"],
                "color": "#444",
                "weight": 1,
                "fillOpacity": 0.55,
            }
        },
    )
    areas.explore(m=m, name="service areas", color="green", tooltip=False)
    facilities.explore(m=m, name="facilities", color="black", tooltip=["name", "kind"])
    folium.LayerControl().add_to(m)
    vendor = (ROOT / "maps" / "static" / "vendor" / "leaflet").as_uri() + "/"
    out.write_text(m.get_root().render().replace(LEAFLET_CDN, vendor), encoding="utf-8")
    return time.perf_counter() - start


def _peer(browser, path: Path) -> dict:
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    page.route("http*://**", lambda route: route.abort())  # no CDN on an intranet (file:// still loads)
    local: list[str] = []
    page.on("requestfinished", lambda r: local.append(r.url))
    start = time.perf_counter()
    page.goto(path.as_uri(), wait_until="load", timeout=600_000)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    seconds = time.perf_counter() - start
    page.screenshot(path=str(_artifact("maps-explore.png")))
    page.close()
    files = [Path(u[len("file://") :]) for u in local if u.startswith("file://")]
    return {"seconds_load": seconds, "bytes": sum(f.stat().st_size for f in files if f.exists())}


def run(quick: bool) -> dict:
    import gzip

    from playwright.sync_api import sync_playwright

    from bench.common import goal

    n = QUICK_BUILDINGS if quick else BUILDINGS
    if quick:  # the small city drawn as the city is (tiles), so the smoke run takes the measured path
        from maps import pages

        pages.EMBED_MAX_GRIDS = 100
    t0 = time.perf_counter()
    grids, store_s = _load(n)
    load_s = time.perf_counter() - t0
    started = time.perf_counter()
    base, server = _serve()
    try:
        with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
            frames = _frames()
            peer_file = Path(tmp) / "explore.html"
            _peer_html(peer_file, tuple(f.head(5) if hasattr(f, "head") else f for f in frames))  # imports: warm-up
            build_s = _peer_html(peer_file, frames)
            peer_gzip = len(gzip.compress(peer_file.read_bytes(), 6))
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            ours = _ours(browser, base, started)
            peer = _peer(browser, peer_file)
            browser.close()
    finally:
        server.should_exit = True
    scope, g, a, _ = frames
    drawn = ours.pop("drawn")
    peer_areas = {(int(i), scope.mode, scope.minutes) for i in a["id"]}
    same = {
        "grids": drawn["grid_codes"] == set(g["code"]),
        "service_areas": drawn["service_areas"] >= peer_areas and len(a) == len(peer_areas),
    }
    if not all(same.values()):
        counts = (len(drawn["grid_codes"]), len(g), len(drawn["service_areas"]), len(peer_areas))
        raise RuntimeError(f"the two maps do not draw the same features: {same}, {counts}")
    peer_seconds = build_s + peer["seconds_load"]
    smaller = peer["bytes"] / max(ours["bytes"], 1)
    faster = peer_seconds / max(ours["seconds_cold"], 1e-9)
    return {
        "buildings": n,
        "grids": grids,
        "load_seconds": round(load_s, 1),
        "store_coverage_seconds": round(store_s, 1),
        "geogrid": ours,
        "explore": {
            "seconds": round(peer_seconds, 2),
            "build_seconds": round(build_s, 2),
            "load_seconds": round(peer["seconds_load"], 2),
            "bytes": peer["bytes"],
            "html_gzip_bytes": peer_gzip,
        },
        "same_features": same,
        "smaller_x": round(smaller, 2),
        "smaller_than_served_gzip_x": round(peer_gzip / max(ours["bytes"], 1), 2),
        "faster_cold_x": round(faster, 2),
        "faster_warm_x": round(peer_seconds / max(ours["seconds_warm"], 1e-9), 2),
        "goals": [
            goal("first view: bytes downloaded, explore() / geogrid", smaller, 5),
            goal("first view: seconds waited, explore() / geogrid (cold tiles)", faster, 3),
        ],
    }
