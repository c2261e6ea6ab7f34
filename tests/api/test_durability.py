"""Acknowledged writes survive a crash: plans applied over HTTP, the database stopped at once (no checkpoint),
restarted, and every plan that answered 200 is there.

Before ``synchronous_commit`` was on, 8 of 8 applies that answered 200 were gone after a stop ~110 ms later.
The test runs its own cluster (a crash would disturb the shared test cluster) and its own API server process.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from geogrid.db import cluster
from geogrid.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
APPLIES = 8
LOAD = """
from geogrid import db
from geogrid.accounts import store
from geogrid.demo import load_demo
with db.ready().begin() as c:
    load_demo(c)
    store.add_user(c, "planner", "admin", None, [])
    print(store.add_key(c, "planner"))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def crash_cluster(tmp_path_factory):
    home = Path(f"/tmp/geogrid-durability-{os.getpid()}")  # under /tmp: reachable by the postgres user
    settings = Settings(home=home, db_port=_free_port(), db_name="geogrid")
    env = {
        **os.environ,
        "GEOGRID_HOME": str(home),
        "GEOGRID_DB_PORT": str(settings.db_port),
        "GEOGRID_DB_NAME": "geogrid",
        "GEOGRID_API_PORT": str(_free_port()),
        "GEOGRID_LANG": "en",
    }
    env.pop("GEOGRID_DATABASE_URL", None)
    env.pop("GEOGRID_SYNCHRONOUS_COMMIT", None)  # the default is what is tested
    loaded = subprocess.run(
        [sys.executable, "-c", LOAD], env=env, check=True, cwd=ROOT, timeout=300, capture_output=True, text=True
    )
    env["TEST_API_KEY"] = loaded.stdout.strip().splitlines()[-1]
    yield settings, env
    cluster.stop(settings, mode="immediate")
    subprocess.run(["rm", "-rf", str(home)], check=False)


def _serve(env: dict) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.app:app", "--port", env["GEOGRID_API_PORT"], "--log-level", "warning"],
        env=env,
        cwd=ROOT,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{env['GEOGRID_API_PORT']}/health", timeout=1).status_code < 500:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise AssertionError("the API did not start")


def test_acknowledged_plan_applies_survive_an_immediate_stop(crash_cluster):
    settings, env = crash_cluster
    engine = create_engine(settings.url)
    with engine.connect() as conn:
        code, geometry, version = conn.execute(
            text(
                "SELECT code, ST_AsGeoJSON(geom)::json, version FROM grids WHERE valid_to IS NULL ORDER BY code LIMIT 1"
            )
        ).one()
    engine.dispose()
    server = _serve(env)
    acknowledged = []
    try:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{env['GEOGRID_API_PORT']}",
            timeout=60,
            headers={"Authorization": f"Bearer {env['TEST_API_KEY']}"},
        ) as client:
            for _ in range(APPLIES):
                plan = client.post("/plans", json={"edits": [{"op": "redraw", "grid": code, "geometry": geometry}]})
                assert plan.status_code == 201, plan.text
                applied = client.post(f"/plans/{plan.json()['plan']}/apply")
                assert applied.status_code == 200, applied.text
                acknowledged.append(plan.json()["plan"])
        cluster.stop(settings, mode="immediate")  # a crash right after the last 200: no checkpoint, no flush
    finally:
        server.kill()
        server.wait()
    cluster.start(settings)
    engine = create_engine(settings.url)
    with engine.connect() as conn:
        applied = conn.scalars(text("SELECT id FROM plans WHERE status = 'applied' ORDER BY id")).all()
        now = conn.scalar(text("SELECT version FROM grids WHERE code = :c"), {"c": code})
    engine.dispose()
    assert applied == acknowledged
    assert now == version + APPLIES
