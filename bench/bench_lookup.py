"""Point lookups at 32 concurrent clients, address lookups beside them, and batches of points per second.

The server is started as users start it, ``geogrid serve --workers N`` with one worker per core (README),
with rate limits off (``GEOGRID_RATE_LIMIT=0``: this measures capacity, not the per-client quota) and batches
sent with an ``api_client`` key, as a hotline system sends them. Targets, measured in interleaved rounds on
the same server and database with the same random points (median of the rounds):

- ``GET /health``: one ``SELECT 1`` through the same connection pool (the floor of an answer over HTTP);
- ``GET /lookup?lon&lat``: grid, community/street/district, staff, party organisation, nearest service
  station with walking minutes along the network, 5-minute coverage (answered from memory, checked against
  ``lookup_changes`` in one database round trip: :mod:`geogrid.point_index`);
- ``GET /lookup?address``: building and compound names as people write them (the trigram gazetteer);
- peer ``tipg`` (OGC API Features, its own uvicorn with the same number of workers) serving the same
  ``grids`` table: ``/collections/public.grids/items`` with a CQL2 ``S_INTERSECTS`` filter, ``limit=1``. It
  answers a different question (the first grid polygon that intersects, with its full geometry as GeoJSON, and
  the number of matches), so it is a reference for a general feature server on the same data, not a race.

Each target also reports the server side's CPU per request (uvicorn workers + PostgreSQL backends, from
``/proc``): on a shared machine that is the figure least moved by other load. Batches: 100k points in process
(:func:`geogrid.lookup.lookup_columns`, :func:`geogrid.lookup.lookup_batch`) and over HTTP as items (JSON, 20k
per request), as columns (JSON ``{"lon": [...], "lat": [...], "id": [...]}``, one request) and as a CSV.
Goals (issue 15): ``/lookup`` ≥ 0.6 of ``/health``'s throughput with p99 ≤ 50 ms, batch ≥ 100k points/s.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("GEOGRID_HOME", str(ROOT / ".geogrid-bench"))
os.environ.setdefault("GEOGRID_DB_PORT", "54377")  # its own cluster: the default port may be anyone's
os.environ["GEOGRID_DB_NAME"] = "geogrid_bench_lookup"

WORKERS = os.cpu_count() or 1  # README: one worker per core
BATCH_POINTS = 100_000
HTTP_CHUNK = 20_000  # items per request in the items format (20k items ≈ 1 MB of JSON)
ADDRESSES = 300


def _prepare(buildings: int | None) -> dict:
    """Load the demo city (scaled) and compute assignment, gazetteer and service areas."""
    from sqlalchemy import text

    from bench.common import load_city
    from geogrid import db
    from geogrid.pipeline import compute_all

    load_city(buildings)
    compute_all()
    with db.ready().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
        return dict(
            conn.execute(
                text(
                    "SELECT (SELECT count(*) FROM grids WHERE valid_to IS NULL) AS grids, "
                    "(SELECT count(*) FROM buildings) AS buildings, (SELECT count(*) FROM gazetteer) AS names, "
                    "(SELECT count(*) FROM walk_edges) AS paths, (SELECT count(*) FROM service_areas) AS areas"
                )
            )
            .one()
            ._mapping
        )


def _gazetteer() -> dict:
    """Rebuild the address gazetteer once more, timed (no peer: it scales with names, reported per second)."""
    from geogrid import db
    from geogrid.address import normalise
    from geogrid.gazetteer import build_gazetteer

    normalise("北京市海淀区")  # dictionaries loaded once per process, as in the pipeline
    start = time.perf_counter()
    with db.ready().begin() as conn:
        names = build_gazetteer(conn)
    seconds = time.perf_counter() - start
    return {"names": names, "seconds": round(seconds, 2), "names_per_s": round(names / seconds)}


def _key() -> str:
    """An ``api_client`` account and key for batches, as ``geogrid users add`` / ``geogrid keys add`` make."""
    from geogrid import db
    from geogrid.accounts.store import add_key, add_user

    with db.ready().begin() as conn:
        add_user(conn, "bench-hotline", "api_client", None)
        return add_key(conn, "bench-hotline")


def _addresses(n: int) -> list[str]:
    """Building and compound names of the city, a fixed sample, as a caller would type them."""
    from sqlalchemy import text

    from geogrid import db

    with db.ready().connect() as conn:
        conn.execute(text("SELECT setseed(0.5)"))
        return list(
            conn.scalars(
                text("SELECT text FROM gazetteer WHERE kind IN ('building', 'compound') ORDER BY random() LIMIT :n"),
                {"n": n},
            )
        )


def _points(n: int, seed: int = 1) -> tuple[list[float], list[float]]:
    """``n`` random points inside the grids' extent (most inside a grid, some outside: both are real traffic)."""
    import numpy as np
    from sqlalchemy import text

    from geogrid import db

    with db.ready().connect() as conn:
        x0, y0, x1, y1 = conn.execute(
            text(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom)::geometry AS e "
                "FROM grids WHERE valid_to IS NULL) t"
            )
        ).one()
    rng = np.random.default_rng(seed)
    return rng.uniform(x0, x1, n).round(7).tolist(), rng.uniform(y0, y1, n).round(7).tolist()


def _serve(env: dict, port: int) -> subprocess.Popen:
    """``geogrid serve`` as users run it (access log and all), one worker per core."""
    from bench import load
    from bench.common import geogrid_cli

    proc = subprocess.Popen(
        geogrid_cli("serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(WORKERS)),
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    load.wait_ready(proc, f"http://127.0.0.1:{port}/health")
    return proc


def _tipg(env: dict, port: int) -> subprocess.Popen:
    from bench import load
    from bench.common import tipg_dsn

    peer_env = dict(
        env,
        DATABASE_URL=tipg_dsn(),
        TIPG_DB_SCHEMAS='["public"]',
        TIPG_DB_TABLES='["public.grids"]',
        TIPG_DB_SPATIAL_EXTENT="false",
        TIPG_DB_DATETIME_EXTENT="false",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "tipg.main:app", "--host", "127.0.0.1", "--port", str(port)]
        + ["--workers", str(WORKERS), "--log-level", "warning", "--no-access-log"],
        env=peer_env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    load.wait_ready(proc, f"http://127.0.0.1:{port}/collections")
    return proc


def _postmaster() -> int | None:
    from geogrid.settings import get_settings

    try:
        return int((get_settings().pgdata / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None


def _agree(ours: str, lookups: list[str], peer: str, features: list[str], n: int = 50) -> float:
    """Share of points where tipg's first feature is our grid (tipg has no lowest-code rule on shared edges)."""
    import httpx

    same = 0
    for a, b in zip(lookups[:n], features[:n], strict=True):
        mine = httpx.get(ours + a).json().get("grid") or {}
        theirs = httpx.get(peer + b).json().get("features") or [{}]
        same += mine.get("code") == (theirs[0].get("properties") or {}).get("code")
    return same / n


def _http(seconds: int, rounds: int, lon: list[float], lat: list[float], addresses: list[str]) -> dict:
    """Every target in interleaved rounds (the machine is shared), medians reported; then the batches."""
    from urllib.parse import quote

    from bench import load

    env = dict(os.environ, GEOGRID_RATE_LIMIT="0")
    port, peer_port = load.free_port(), load.free_port()
    server = _serve(env, port)
    procs = [server]
    try:
        procs.append(_tipg(env, peer_port))
        ours, peer = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{peer_port}"
        pairs = list(zip(lon, lat, strict=True))
        features = [
            f"/collections/public.grids/items?filter-lang=cql2-text&limit=1&properties=code,name,kind"
            f"&filter=S_INTERSECTS(geom,POINT({x}%20{y}))"
            for x, y in pairs
        ]
        targets = {
            "health": (ours, ["/health"], load.server_pids(server.pid, _postmaster())),
            "lookup": (
                ours,
                [f"/lookup?lon={x}&lat={y}" for x, y in pairs],
                load.server_pids(server.pid, _postmaster()),
            ),
            "address": (
                ours,
                [f"/lookup?address={quote(a)}" for a in addresses],
                load.server_pids(server.pid, _postmaster()),
            ),
            "tipg": (peer, features, load.server_pids(procs[1].pid, _postmaster())),
        }
        for base, paths, _ in targets.values():
            load.wrk(base, paths[:400], 3)  # warm up: connections, prepared statements, the memory copy
        runs: dict[str, list[dict]] = {name: [] for name in targets}
        for _ in range(rounds):
            for name, (base, paths, pids) in targets.items():
                runs[name].append(load.wrk(base, paths, seconds, pids))
        out: dict = {
            name: {key: statistics.median(r[key] for r in rs) for key in rs[0]} | {"rounds": rs}
            for name, rs in runs.items()
        }
        out["tipg_agrees"] = _agree(ours, targets["lookup"][1], peer, features)
        out["batch_http"] = _batch_http(ours, lon, lat, _key())
    finally:
        for proc in procs:
            load.stop(proc)
    return out


def _batch_points(lon: list[float], lat: list[float]) -> tuple[list[float], list[float]]:
    return [lon[i % len(lon)] for i in range(BATCH_POINTS)], [lat[i % len(lat)] for i in range(BATCH_POINTS)]


def _batch_http(base: str, lon: list[float], lat: list[float], key: str) -> dict:
    """100k points over HTTP in each format, each timed from the client's first byte to its parsed answer."""
    import httpx
    import orjson

    x, y = _batch_points(lon, lat)
    ids = list(range(BATCH_POINTS))
    items = [{"id": i, "lon": a, "lat": b} for i, a, b in zip(ids, x, y, strict=True)]
    csv_body = ("id,lon,lat\n" + "".join(f"{i},{a},{b}\n" for i, a, b in zip(ids, x, y, strict=True))).encode()
    out = {}
    with httpx.Client(base_url=base, timeout=300, headers={"Authorization": f"Bearer {key}"}) as client:

        def items_format() -> int:
            located = 0
            for k in range(0, BATCH_POINTS, HTTP_CHUNK):
                body = orjson.dumps({"items": items[k : k + HTTP_CHUNK]})
                r = client.post("/lookup/batch", content=body, headers={"content-type": "application/json"})
                r.raise_for_status()
                located += sum(a["grid"] is not None for a in orjson.loads(r.content)["results"])
            return located

        def columns_format() -> int:
            body = orjson.dumps({"lon": x, "lat": y, "id": ids})
            r = client.post("/lookup/batch", content=body, headers={"content-type": "application/json"})
            r.raise_for_status()
            return sum(c is not None for c in orjson.loads(r.content)["grid_code"])

        def csv_format() -> int:
            r = client.post("/lookup/batch", content=csv_body, headers={"content-type": "text/csv"})
            r.raise_for_status()
            return sum(1 for line in r.text.splitlines()[1:] if line.split(",")[1])

        for name, fn in (("items_json", items_format), ("columns_json", columns_format), ("csv", csv_format)):
            fn()  # warm
            times, located = [], 0
            for _ in range(3):
                start = time.perf_counter()
                located = fn()
                times.append(time.perf_counter() - start)
            seconds = statistics.median(times)
            out[name] = {
                "points": BATCH_POINTS,
                "seconds": round(seconds, 3),
                "points_per_s": round(BATCH_POINTS / seconds),
                "in_a_grid": located,
            }
    return out


def _batch_inprocess(lon: list[float], lat: list[float]) -> dict:
    from geogrid import db
    from geogrid.lookup import lookup_batch, lookup_columns

    x, y = _batch_points(lon, lat)
    items = [{"id": i, "lon": a, "lat": b} for i, (a, b) in enumerate(zip(x, y, strict=True))]
    out = {}
    with db.ready().connect() as conn:
        for name, fn in (
            ("columns", lambda: lookup_columns(conn, None, x, y)),
            ("items", lambda: lookup_batch(conn, items)),
        ):
            fn()
            start = time.perf_counter()
            fn()
            seconds = time.perf_counter() - start
            out[name] = {
                "points": BATCH_POINTS,
                "seconds": round(seconds, 3),
                "points_per_s": round(BATCH_POINTS / seconds),
            }
    return out


def run(quick: bool) -> dict:
    from bench.common import goal

    seconds, rounds = (4, 1) if quick else (10, 3)
    data = _prepare(None if quick else 20_000)
    lon, lat = _points(2_000 if quick else 20_000)
    load_before = os.getloadavg()
    result = {
        "data": data,
        "workers": WORKERS,
        "connections": 32,
        "seconds_per_round": seconds,
        "rounds": rounds,
        "gazetteer": _gazetteer(),
        "batch_inprocess": _batch_inprocess(lon, lat),
        **_http(seconds, rounds, lon, lat, _addresses(ADDRESSES)),
        "load": {"before_http": [round(v, 2) for v in load_before], "after": [round(v, 2) for v in os.getloadavg()]},
    }
    lookup, health, tipg = (result[k]["requests_per_s"] for k in ("lookup", "health", "tipg"))
    cpu = {k: result[k]["server_cpu_ms_per_request"] for k in ("health", "lookup", "address", "tipg")}
    best_batch = max(v["points_per_s"] for v in result["batch_http"].values())
    result["ratios"] = {
        "lookup_vs_health": round(lookup / health, 2),
        "lookup_vs_tipg": round(lookup / tipg, 2),
        "health_vs_lookup_cpu_per_request": round(cpu["health"] / cpu["lookup"], 2) if cpu["lookup"] else None,
    }
    result["goals"] = [
        goal("/lookup throughput vs /health (same server)", lookup / health, 0.6),
        goal("/lookup p99 at 32 connections", result["lookup"]["p99_ms"], 50, at_least=False, unit=" ms"),
        goal("batch points per second over HTTP (best format)", best_batch, 100_000, unit=" points/s"),
    ]
    return result
