"""Point-lookup throughput and latency at 32 concurrent clients, and batch lookups per second.

Three HTTP targets, measured in the same run on the same database with the same random points:
- geogrid ``GET /lookup`` (grid, areas, staff, party, nearest station, coverage);
- geogrid ``GET /health`` on the same server (one ``SELECT 1``: the HTTP floor);
- peer ``tipg`` serving the same ``grids`` table, ``GET /collections/public.grids/items`` with a CQL2
  ``S_INTERSECTS`` filter (grid polygon only, so it does less work than ``/lookup``).
Servers run under uvicorn with ``WORKERS`` processes; the load comes from ``wrk`` (Debian package) in its own
process, each request a different point. Targets: ``/lookup`` ≥ 60 % of ``/health`` and ≥ 3× tipg.
Batch: ``lookup_batch`` in process and ``POST /lookup/batch`` over HTTP, for 100k points. The gazetteer
rebuild is timed too (names per second).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("GEOGRID_HOME", str(ROOT / ".geogrid-bench"))
os.environ.setdefault("GEOGRID_DB_PORT", "54359")
os.environ["GEOGRID_DB_NAME"] = "geogrid_bench_lookup"

WORKERS = 2
CONNECTIONS = 32
BATCH_POINTS = 100_000
HTTP_CHUNK = 20_000  # 20k items ≈ 1 MB of JSON, well under GEOGRID_MAX_BODY_BYTES


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
                    "(SELECT count(*) FROM buildings) AS buildings, (SELECT count(*) FROM gazetteer) AS names"
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(app: str, env: dict, port: int, probe: str) -> subprocess.Popen:
    import httpx

    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(WORKERS),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}{probe}", timeout=5).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"{app} exited: {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.5)
    proc.terminate()
    raise RuntimeError(f"{app} did not answer {probe} within 90 s")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _wrk(base: str, paths: list[str], seconds: int) -> dict:
    """Run wrk (1 thread, 32 connections) cycling through ``paths``; throughput, p50/p99 in ms, errors."""
    if not shutil.which("wrk"):
        raise RuntimeError("wrk is missing: apt-get install wrk")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(
            "paths = {" + ",".join(f'"{p}"' for p in paths) + "}\nlocal i = 0\n"
            "request = function()\n  i = i % #paths + 1\n  return wrk.format('GET', paths[i])\nend\n"
        )
    out = subprocess.run(
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "-s", lua.name, base],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    ).stdout
    os.unlink(lua.name)

    def latency(pct: str) -> float:
        value, unit = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return round(float(value) * _UNITS[unit], 2)

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
    }


def _servers(lon: list[float], lat: list[float]) -> tuple[dict, dict]:
    """Start geogrid and tipg side by side; the request paths for each target."""
    from geogrid.settings import get_settings

    s = get_settings()
    env = dict(os.environ)
    peer_env = dict(
        env,
        DATABASE_URL=f"postgresql://postgres@127.0.0.1:{s.db_port}/{s.db_name}",
        TIPG_DB_SCHEMAS='["public"]',
        TIPG_DB_TABLES='["public.grids"]',
        TIPG_DB_SPATIAL_EXTENT="false",
        TIPG_DB_DATETIME_EXTENT="false",
    )
    port, peer_port = _free_port(), _free_port()
    procs = {"geogrid": _start("api.app:app", env, port, "/health")}
    try:
        procs["tipg"] = _start("tipg.main:app", peer_env, peer_port, "/collections")
    except Exception:
        _stop(procs["geogrid"])
        raise
    ours, peer = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{peer_port}"
    pairs = list(zip(lon, lat, strict=True))
    targets = {
        "health": (ours, ["/health"]),
        "lookup": (ours, [f"/lookup?lon={x}&lat={y}" for x, y in pairs]),
        "tipg": (
            peer,
            [
                f"/collections/public.grids/items?filter-lang=cql2-text&limit=1&properties=code,name,kind"
                f"&filter=S_INTERSECTS(geom,POINT({x}%20{y}))"
                for x, y in pairs
            ],
        ),
    }
    return procs, targets


def _agree(targets: dict, n: int = 50) -> float:
    """Share of points where tipg's first feature is our grid (tipg has no lowest-code rule on shared edges)."""
    import httpx

    same = 0
    for ours, theirs in zip(targets["lookup"][1][:n], targets["tipg"][1][:n], strict=True):
        a = httpx.get(targets["lookup"][0] + ours).json().get("grid") or {}
        features = httpx.get(targets["tipg"][0] + theirs).json().get("features") or [{}]
        same += a.get("code") == (features[0].get("properties") or {}).get("code")
    return same / n


def _http(seconds: int, rounds: int, lon: list[float], lat: list[float]) -> dict:
    """Targets measured in interleaved rounds (the machine is shared), median of the rounds reported."""
    import statistics

    procs, targets = _servers(lon, lat)
    try:
        for base, paths in targets.values():
            _wrk(base, paths[:200], 2)  # warm up connections, prepared statements and caches
        runs: dict[str, list[dict]] = {name: [] for name in targets}
        for _ in range(rounds):
            for name, (base, paths) in targets.items():
                runs[name].append(_wrk(base, paths, seconds))
        out = {
            name: {key: statistics.median(r[key] for r in rs) for key in rs[0]} | {"rounds": rs}
            for name, rs in runs.items()
        }
        out["tipg_agrees"] = _agree(targets)
        out["batch_http"] = _batch_http(targets["health"][0], lon, lat)
    finally:
        for proc in procs.values():
            _stop(proc)
    return out


def _batch_http(base: str, lon: list[float], lat: list[float]) -> dict:
    import httpx

    items = [{"id": i, "lon": lon[i % len(lon)], "lat": lat[i % len(lat)]} for i in range(BATCH_POINTS)]
    start = time.perf_counter()
    with httpx.Client(base_url=base, timeout=300) as client:
        for k in range(0, len(items), HTTP_CHUNK):
            client.post("/lookup/batch", json={"items": items[k : k + HTTP_CHUNK]}).raise_for_status()
    seconds = time.perf_counter() - start
    return {"points": len(items), "seconds": round(seconds, 2), "points_per_s": round(len(items) / seconds)}


def _batch_inprocess(lon: list[float], lat: list[float]) -> dict:
    from geogrid import db
    from geogrid.lookup import lookup_batch

    items = [{"id": i, "lon": lon[i % len(lon)], "lat": lat[i % len(lat)]} for i in range(BATCH_POINTS)]
    start = time.perf_counter()
    with db.ready().connect() as conn:
        results = lookup_batch(conn, items)
    seconds = time.perf_counter() - start
    return {
        "points": len(items),
        "seconds": round(seconds, 2),
        "points_per_s": round(len(items) / seconds),
        "in_a_grid": sum(r["grid"] is not None for r in results),
    }


def run(quick: bool) -> dict:
    seconds, rounds = (4, 2) if quick else (10, 3)
    data = _prepare(None if quick else 20_000)
    lon, lat = _points(2_000 if quick else 20_000)
    result = {
        "data": data,
        "workers": WORKERS,
        "connections": CONNECTIONS,
        "seconds_per_round": seconds,
        "rounds": rounds,
        "cores": os.cpu_count(),
        "load_before": os.getloadavg(),
        "gazetteer": _gazetteer(),
        "batch_inprocess": _batch_inprocess(lon, lat),
        **_http(seconds, rounds, lon, lat),
    }
    lookup, health, tipg = (result[k]["requests_per_s"] for k in ("lookup", "health", "tipg"))
    result["ratios"] = {
        "lookup_vs_health": round(lookup / health, 2),
        "lookup_vs_tipg": round(lookup / tipg, 2),
        "targets": {"lookup_vs_health": 0.6, "lookup_vs_tipg": 3.0},
    }
    return result
