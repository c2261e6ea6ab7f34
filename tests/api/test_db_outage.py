"""Fault injection: the database crashes under a running server, then comes back (issue 11, item 5).

The cluster is stopped as a crash stops it (``pg_ctl -m immediate``: every backend killed, no checkpoint, WAL
replayed on start). While it is down every endpoint, reads and writes, answers 503 with a reason within 2 s (no
bare 500, no 30 s hang, even with many requests at once); once it is back, every endpoint answers normally
within 5 s, without a restart. The measured times are printed (``pytest -s``) for the issue's figures.
The server runs as a real ``geogrid serve`` process on its own embedded cluster (its own home and port), so
stopping that cluster disturbs no other test.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.conftest import _CHECKOUT

GEOGRID = str(Path(sys.executable).parent / "geogrid")
DOWN_WITHIN_S = 2.0
BACK_WITHIN_S = 5.0
# Point lookups (async pool), read endpoints (sync pool), planning, coverage, maps and the health check.
PROBES = [
    "/health",
    "/lookup?lon=116.3&lat=39.9",
    "/grids",
    "/areas",
    "/facilities",
    "/validation",
    "/coverage?mode=circle",
    "/plans/1",
    "/grids/110108001001001/history",
    "/maps",
    # Writes: a plan (WriteConn), an undo, a batch of addresses (its own pooled connection), a sign-in (its own
    # transaction, committed even when refused).
    ("POST", "/plans", {"edits": [{"op": "merge", "grids": ["110108001001001", "110108001001002"]}]}),
    ("POST", "/plans/1/undo", None),
    ("POST", "/lookup/batch", {"items": [{"id": "1", "address": "学院路1号"}]}),
    ("POST", "/login", {"name": "nobody", "password": "wrong-password"}),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served():
    """``geogrid serve`` on a cluster of its own; yields (base URL, environment for ``geogrid db``)."""
    env = {
        **os.environ,
        "GEOGRID_HOME": f"/tmp/geogrid-outage-{_CHECKOUT[:10]}",
        "GEOGRID_DB_PORT": str(_free_port()),
        "GEOGRID_DB_NAME": "geogrid_outage",
        "GEOGRID_API_PORT": str(_free_port()),
        "GEOGRID_LANG": "en",
    }
    base = f"http://127.0.0.1:{env['GEOGRID_API_PORT']}"
    server = subprocess.Popen([GEOGRID, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, server.stderr.read().decode(errors="replace")[-2000:]
            time.sleep(0.3)
        else:
            pytest.fail("geogrid serve did not come up")
        # Signed in as an admin, so that routes needing a permission reach the database too; the cluster outlives
        # a run, so the account is new each time.
        name = f"probe-{time.time_ns()}"
        subprocess.run(
            [GEOGRID, "users", "add", name, "--role", "admin", "--no-password"],
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )
        key = (
            subprocess.run(
                [GEOGRID, "keys", "add", name], env=env, check=True, capture_output=True, text=True, timeout=120
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        HEADERS["Authorization"] = f"Bearer {key}"
        yield base, env
    finally:
        server.terminate()
        server.wait(timeout=30)
        subprocess.run([GEOGRID, "db", "stop"], env=env, capture_output=True, timeout=120)


HEADERS: dict[str, str] = {}


def _get(base: str, probe) -> tuple[int, float, dict]:
    method, path, body = probe if isinstance(probe, tuple) else ("GET", probe, None)
    started = time.monotonic()
    response = httpx.request(method, base + path, json=body, timeout=30, headers=HEADERS)
    elapsed = time.monotonic() - started
    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    return response.status_code, elapsed, body


def _up(status: int) -> bool:
    return status < 500  # 404: the empty database has no grid at the point, no plan 1; 400: no coverage yet


def _key(probe) -> str:
    return " ".join(probe[:2]) if isinstance(probe, tuple) else probe


def _crash(env: dict) -> None:
    """Stop the served cluster as a crash would (every backend killed at once, nothing flushed beyond the WAL)."""
    stop = "from geogrid.db import cluster; assert cluster.stop(mode='immediate')"
    subprocess.run([sys.executable, "-c", stop], env=env, check=True, capture_output=True, timeout=120)


def test_503_while_the_database_is_down_and_recovery_without_restart(served):
    base, env = served
    assert all(_up(_get(base, p)[0]) for p in PROBES)  # every pool holds connections now

    _crash(env)
    down: dict[str, float] = {}
    for path in PROBES:
        status, elapsed, body = _get(base, path)
        assert status == 503, (path, status, body)
        assert elapsed < DOWN_WITHIN_S, (path, elapsed)
        assert "database" in str(body.get("error") or body.get("database")), (path, body)
        down[_key(path)] = round(elapsed, 3)

    # More lookups at once than the pool holds (8): the issue saw every request hang 30 s here. The bound is
    # twice the single-request one: 12 requests at once in one process on a shared 2-core test machine.
    burst = [PROBES[1]] * 10 + [PROBES[0], PROBES[2]]
    with ThreadPoolExecutor(max_workers=len(burst)) as pool:
        answers = list(pool.map(lambda p: _get(base, p), burst))
    assert {status for status, _, _ in answers} == {503}
    slow = sorted((round(e, 2), p) for p, (_, e, _) in zip(burst, answers, strict=True) if e >= 2 * DOWN_WITHIN_S)
    assert not slow, slow
    print(f"\noutage: {len(PROBES)} endpoints answered 503 in at most {max(down.values())} s: {down}")
    print(f"outage: burst of {len(burst)} at once, slowest {max(e for _, e, _ in answers):.3f} s")

    subprocess.run([GEOGRID, "db", "start"], env=env, check=True, capture_output=True, timeout=120)
    back = time.monotonic()
    up_after: dict[str, float] = {}
    with ThreadPoolExecutor(max_workers=len(PROBES)) as pool:  # every endpoint probed at once, round by round
        while len(up_after) < len(PROBES) and time.monotonic() - back < BACK_WITHIN_S + 10:
            waiting = [p for p in PROBES if _key(p) not in up_after]
            for path, (status, _, _) in zip(waiting, pool.map(lambda p: _get(base, p), waiting), strict=True):
                if _up(status):
                    up_after[_key(path)] = round(time.monotonic() - back, 2)
            time.sleep(0.1)
    print(f"outage: every endpoint up again {max(up_after.values(), default=None)} s after the database: {up_after}")
    assert len(up_after) == len(PROBES) and max(up_after.values()) < BACK_WITHIN_S, up_after
    for path in PROBES:  # and they stay up
        assert _up(_get(base, path)[0]), path
