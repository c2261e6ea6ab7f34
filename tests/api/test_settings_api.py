"""The API's database settings changed once with their effect checked: statement and lock timeouts, the pool's
wait for a connection, the connect timeout, and the address ``geogrid serve`` listens on."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from geogrid.db.engine import get_engine
from tests.conftest import ROOT


@pytest.fixture
def own_engine(database) -> Iterator[None]:
    """The process engine is built afresh from the settings a test sets, and dropped afterwards."""
    get_engine.cache_clear()
    yield
    get_engine().dispose()
    get_engine.cache_clear()


def _timed_get(client: TestClient, path: str) -> tuple[int, float]:
    start = time.monotonic()
    status = client.get(path).status_code
    return status, time.monotonic() - start


@pytest.mark.parametrize(
    "statement_ms, lock_ms", [(300, 20_000), (20_000, 300)], ids=["statement_timeout", "lock_timeout"]
)
def test_api_timeouts_end_a_request_waiting_on_a_lock(empty_db, settings_env, statement_ms, lock_ms):
    """With the grids table locked by another session, a read waits until the smaller of the two timeouts and
    answers 503 (the defaults, 30 s and 5 s, would hold it 5 s)."""
    settings_env("GEOGRID_API_STATEMENT_TIMEOUT_MS", str(statement_ms))
    settings_env("GEOGRID_API_LOCK_TIMEOUT_MS", str(lock_ms))
    with TestClient(create_app()) as client:
        assert client.get("/grids").status_code == 200
        with empty_db.connect() as holder:
            holder.execute(text("LOCK TABLE grids IN ACCESS EXCLUSIVE MODE"))
            status, seconds = _timed_get(client, "/grids")
            holder.rollback()
        assert client.get("/grids").status_code == 200
    assert status == 503 and 0.25 < seconds < 4  # well under the default lock timeout of 5 s


def test_db_pool_timeout_is_how_long_a_request_waits_for_a_connection(own_engine, settings_env):
    """All 30 pooled connections (10 + 20 overflow) held elsewhere: a request answers 503 after the wait set."""
    settings_env("GEOGRID_DB_POOL_TIMEOUT", "3")
    with TestClient(create_app()) as client:
        assert client.get("/grids").status_code == 200
        held = [get_engine().connect() for _ in range(30)]
        try:
            status, seconds = _timed_get(client, "/grids")
        finally:
            for conn in held:
                conn.close()
        assert client.get("/grids").status_code == 200
    assert status == 503 and 2.9 < seconds < 8  # the default 1 s would answer in about 1 s


def test_db_connect_timeout_bounds_a_connection_to_a_silent_server(own_engine, settings_env):
    """A server that accepts TCP connections and never answers: connecting gives up after the timeout set."""
    from sqlalchemy.exc import OperationalError

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        settings_env("GEOGRID_DATABASE_URL", f"postgresql://nobody:secret@127.0.0.1:{port}/none")

        def seconds_to_fail() -> float:
            get_engine.cache_clear()
            start = time.monotonic()
            with pytest.raises(OperationalError):
                get_engine().connect()
            return time.monotonic() - start

        default = seconds_to_fail()
        settings_env("GEOGRID_DB_CONNECT_TIMEOUT", "5")
        longer = seconds_to_fail()
    assert 1.5 < default < 3.5 and 4.5 < longer < 7.5


def test_api_host_is_where_serve_listens(database):
    """``geogrid serve`` with GEOGRID_API_HOST=127.0.0.2 answers there, and nothing listens on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.2", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "GEOGRID_API_HOST": "127.0.0.2",
        "GEOGRID_API_PORT": str(port),
        "GEOGRID_ALLOWED_HOSTS": "127.0.0.2",
    }
    server = subprocess.Popen(
        [sys.executable, "-c", "from geogrid.cli import main; main()", "serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline, answer = time.monotonic() + 150, None
        while answer is None and time.monotonic() < deadline:
            assert server.poll() is None, server.stderr.read().decode(errors="replace")[-2000:]  # type: ignore[union-attr]
            try:
                answer = httpx.get(f"http://127.0.0.2:{port}/health", timeout=2)
            except httpx.TransportError:
                time.sleep(0.3)
        assert answer is not None and answer.status_code == 200
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_max_body_bytes_refuses_larger_bodies_with_413(planning_city, client_as, settings_env):
    """A 2.8 KB batch of 100 points is read at the default 5 MB; at 1,000 bytes it is refused, naming the limit."""
    body = {"items": [{"lon": 116.312, "lat": 39.903}] * 100}
    client = client_as("admin")
    first = client.post("/lookup/batch", json=body)
    assert first.status_code == 200 and len(first.json()["results"]) == 100
    settings_env("GEOGRID_MAX_BODY_BYTES", "1000")
    refused = client.post("/lookup/batch", json=body)
    assert refused.status_code == 413 and refused.json()["limit"] == 1000
