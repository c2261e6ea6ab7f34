"""Vector tiles over HTTP: geogrid's ``/tiles/{layer}/{z}/{x}/{y}.pbf`` against tipg's OGC API Tiles, same run.

Both serve the demo city's grids from the same PostGIS, each as its users run it in one process: geogrid by
``geogrid serve`` (its defaults, access log included), tipg standalone under uvicorn over ``public.grids``
(signed in as the application role); ``wrk`` cycles through every tile of zooms 14–16 that covers
the city. geogrid keeps tiles in memory keyed by the data version (:mod:`maps.tiles`), tipg builds
every tile in PostGIS: ``first_pass_tiles_per_s`` asks every tile once in order (geogrid's cache empty),
then ``wrk`` (32 connections) measures each warm. The base-map tiles (roads, water, railways, footprints)
have no tipg equivalent and are reported on their own. Rounds are interleaved (the machine is shared), medians
reported.
"""

from __future__ import annotations

import math
import os
import statistics
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("GEOGRID_HOME", str(ROOT / ".geogrid-bench-tiles"))
os.environ.setdefault("GEOGRID_DB_PORT", "54371")  # its own cluster: the default port may be anyone's

BUILDINGS, QUICK_BUILDINGS = 100_000, 20_000
ZOOMS = (14, 15, 16)
SECONDS, QUICK_SECONDS = 5, 3
ROUNDS, QUICK_ROUNDS = 3, 1


def _tiles(west: float, south: float, east: float, north: float) -> list[tuple[int, int, int]]:
    def xy(lon: float, lat: float, z: int) -> tuple[int, int]:
        n = 2**z
        return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)

    out = []
    for z in ZOOMS:
        x0, y0 = xy(west, north, z)
        x1, y1 = xy(east, south, z)
        out += [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    return out


def _in_buffer_only(geometry: dict, extent: int = 4096, slack: int = 2) -> bool:
    """True when a decoded feature lies in the tile's buffer, outside the tile proper (give or take ``slack``
    units, an eighth of a pixel: the two servers round the tile's edge differently)."""
    import shapely

    west, south, east, north = shapely.geometry.shape(geometry).bounds
    return east <= slack or west >= extent - slack or north <= slack or south >= extent - slack


def _same_features(ours: str, theirs: str, tiles: list[tuple[int, int, int]]) -> bool:
    """The same grids in a sample of tiles from both servers (same extent and 64-pixel buffer): a check that
    the race is fair, before it runs. geogrid also sends the grids that reach only into the buffer (tipg
    selects by the tile proper): every grid of ours inside the tile is in tipg's, every grid of tipg's is in
    ours (retired grids aside: tipg serves the whole table)."""
    import httpx
    import mapbox_vector_tile

    for z, x, y in tiles[:: max(1, len(tiles) // 20)]:
        a = mapbox_vector_tile.decode(httpx.get(f"{ours}/tiles/grids/{z}/{x}/{y}.pbf").content or b"") or {}
        peer = httpx.get(f"{theirs}/collections/public.grids/tiles/WebMercatorQuad/{z}/{x}/{y}")
        b = mapbox_vector_tile.decode(peer.content or b"") or {}
        inside = {
            f["properties"]["code"]: not _in_buffer_only(f["geometry"]) for lyr in a.values() for f in lyr["features"]
        }
        codes_b = {
            f["properties"]["code"]
            for layer in b.values()
            for f in layer["features"]
            if f["properties"].get("valid_to") is None
        }
        if not {code for code, core in inside.items() if core} <= codes_b <= set(inside):
            return False
    return True


def _command(app: str, port: int) -> list[str]:
    """geogrid as users start it (``geogrid serve``); tipg as its documentation does (uvicorn)."""
    import sys

    from bench.common import geogrid_cli

    if app == "geogrid":
        return geogrid_cli("serve", "--host", "127.0.0.1", "--port", str(port))
    return [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]


def _start(app: str, env: dict, port: int, probe: str):
    """One server process (a tile cache is per process: one worker each, tipg too, keeps the race even)."""
    import subprocess
    import time

    import httpx

    proc = subprocess.Popen(
        _command(app, port),
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}{probe}", timeout=5).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.terminate()
    raise RuntimeError(f"{app} did not answer {probe}")


def _first_pass(base: str, urls: list[str]) -> float:
    """Tiles per second asking every tile once, in order, on an empty cache (each one built in PostGIS)."""
    import time

    import httpx

    start = time.perf_counter()
    with httpx.Client(base_url=base, timeout=120) as client:
        for url in urls:
            client.get(url).raise_for_status()
    return len(urls) / (time.perf_counter() - start)


def run(quick: bool) -> dict:
    from bench.common import goal, load_city, tipg_dsn
    from bench.load import free_port as _free_port
    from bench.load import stop as _stop
    from bench.load import wrk as _wrk
    from geogrid import db
    from maps import tiles as mvt

    grids = load_city(QUICK_BUILDINGS if quick else BUILDINGS)
    with db.ready().connect() as conn:
        tiles = _tiles(*mvt.bounds(conn))
    seconds, rounds = (QUICK_SECONDS, QUICK_ROUNDS) if quick else (SECONDS, ROUNDS)
    env = dict(os.environ)
    peer_env = dict(
        env,
        DATABASE_URL=tipg_dsn(),
        TIPG_DB_SCHEMAS='["public"]',
        TIPG_DB_TABLES='["public.grids"]',
        TIPG_DB_SPATIAL_EXTENT="false",
        TIPG_DB_DATETIME_EXTENT="false",
        TIPG_TILE_BUFFER="64",  # ours: the same extent (4096) and buffer
    )
    port, peer_port = _free_port(), _free_port()
    procs = {"geogrid": _start("geogrid", env, port, "/health")}
    try:
        procs["tipg"] = _start("tipg.main:app", peer_env, peer_port, "/collections")
        ours, theirs = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{peer_port}"
        paths = {
            "grids": (ours, [f"/tiles/grids/{z}/{x}/{y}.pbf" for z, x, y in tiles]),
            "base": (ours, [f"/tiles/base/{z}/{x}/{y}.pbf" for z, x, y in tiles]),
            "tipg_grids": (
                theirs,
                [f"/collections/public.grids/tiles/WebMercatorQuad/{z}/{x}/{y}" for z, x, y in tiles],
            ),
        }
        first_pass = {name: round(_first_pass(base, urls), 1) for name, (base, urls) in paths.items()}
        same = _same_features(ours, theirs, tiles)
        if not same:
            raise RuntimeError("geogrid's and tipg's grid tiles hold different grids: the race would not be fair")
        runs: dict[str, list[dict]] = {name: [] for name in paths}
        for _ in range(rounds):
            for name, (base, urls) in paths.items():
                runs[name].append(_wrk(base, urls, seconds))
    finally:
        for proc in procs.values():
            _stop(proc)
    # medians over the rounds of what wrk measured (server CPU is None: no server pids are given here)
    out = {
        name: {k: statistics.median(r[k] for r in rs) for k in rs[0] if rs[0][k] is not None}
        for name, rs in runs.items()
    }
    warm = out["grids"]["requests_per_s"]
    ratio = warm / max(out["tipg_grids"]["requests_per_s"], 1e-9)
    return {
        "buildings": QUICK_BUILDINGS if quick else BUILDINGS,
        "grids": grids,
        "tiles": len(tiles),
        "zooms": list(ZOOMS),
        "first_pass_tiles_per_s": first_pass,
        **out,
        "tipg_grids_in_ours": same,
        "goals": [
            goal("warm grid tiles per second", warm, 1000, unit=" tiles/s"),
            goal("warm grid tiles vs tipg", ratio, 1),
        ],
    }
