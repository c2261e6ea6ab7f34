"""Test setup: a real embedded PostGIS cluster under /tmp, one database per xdist worker."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("GEOGRID_SHARED_DATA") or ROOT.parent / "shared" / "data")  # worktrees sit deeper

# Under /tmp so that the postgres user (the server's user when tests run as root) can always reach it.
# One cluster per checkout (home and port derived from its path), so two clones never share or collide.
_CHECKOUT = hashlib.sha1(str(ROOT).encode()).hexdigest()
os.environ.setdefault("GEOGRID_HOME", f"/tmp/geogrid-test-{_CHECKOUT[:10]}")
os.environ.setdefault("GEOGRID_DB_PORT", str(54400 + int(_CHECKOUT[:4], 16) % 500))
os.environ["GEOGRID_DB_NAME"] = f"geogrid_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
# TestClient's host is "testserver"; rate limits are off unless a test sets GEOGRID_RATE_LIMIT (settings_env).
os.environ.setdefault("GEOGRID_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
os.environ.setdefault("GEOGRID_RATE_LIMIT", "0")

from sqlalchemy import text  # noqa: E402

from geogrid import db  # noqa: E402
from geogrid.db import cluster  # noqa: E402

# The test cities (tests/fixtures/) as fixtures: planning_city, lookup_city, small_city.
pytest_plugins = [
    "tests.fixtures.planning_city",
    "tests.fixtures.paint_city",
    "tests.fixtures.lookup_city",
    "tests.fixtures.maps_city",
    "tests.fixtures.rosters_street",
]


def pytest_configure(config: pytest.Config) -> None:
    """Start the cluster once, in the controller, before xdist workers race to do it."""
    if not hasattr(config, "workerinput") and not os.environ.get("GEOGRID_DATABASE_URL"):
        cluster.start()


def free_port() -> int:
    """A localhost port free right now, chosen by the OS: a fixed or derived port may be one another test's server
    or cluster got from the OS moments before."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shared_data(relative: str) -> Path:
    """A file under ../shared/data; skips locally when absent, fails in CI where it must be present."""
    path = SHARED_DATA / relative
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is missing in CI")
        pytest.skip(f"{path} not present")
    return path


@pytest.fixture(scope="session")
def database():
    """A freshly migrated database for this test session."""
    engine = db.ready()
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    db.reset_ready()
    return db.ready()


def truncate_all(engine) -> None:
    _DEMO["summary"] = None  # the demo city is gone: demo_city reloads it
    with engine.begin() as conn:
        db.truncate_all(conn)
    from maps import cache  # layers cached in this process must not outlive the data they were drawn from

    cache.clear()


@pytest.fixture
def empty_db(database):
    """An empty database (all tables truncated) for a test that loads its own data."""
    truncate_all(database)
    return database


# Demo city fixtures. ``_DEMO["summary"]`` is None whenever the test database does not hold the pristine demo.
_DEMO: dict = {"summary": None}


def _load_demo_city(engine):
    from geogrid.demo import load_demo
    from geogrid.pipeline import compute_all

    truncate_all(engine)
    with engine.begin() as conn:
        summary = load_demo(conn)
    compute_all()
    _DEMO["summary"] = summary
    return summary


@pytest.fixture
def demo_city(database):
    """The default demo city (seed 7), computed; loaded once and reused until a test empties or changes it.

    Returns :class:`geogrid.demo.DemoSummary`. Tests that modify the data use ``fresh_demo_city`` instead.
    """
    return _DEMO["summary"] or _load_demo_city(database)


@pytest.fixture
def fresh_demo_city(database):
    """A freshly loaded, computed demo city for a test that modifies the data; marked dirty afterwards."""
    summary = _load_demo_city(database)
    yield summary
    _DEMO["summary"] = None


@pytest.fixture
def settings_env(monkeypatch):
    """Set ``GEOGRID_*`` variables for one test; the cached settings are rebuilt before and after."""
    from geogrid.settings import get_settings

    def set_env(name: str, value: str) -> None:
        monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    yield set_env
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
def demo_conn(demo_city, database):
    """A connection to the computed demo city whose changes are all rolled back."""
    with database.connect() as conn:
        conn.begin()
        yield conn
        conn.rollback()


# Signed-in API clients. Every write through the API needs an account (api/security.py); read tests may stay
# anonymous (maps, read feeds and point lookups are public by default).
_ACCOUNTS = iter(range(1_000_000))


def make_account(engine, role: str = "admin", areas: tuple[str, ...] = (), password: str | None = None) -> tuple:
    """A new account of ``role`` granted ``areas`` (street/community codes) and an API key: ``(name, key)``."""
    import secrets

    from geogrid.accounts import store

    name = f"test-{role}-{next(_ACCOUNTS)}-{secrets.token_hex(3)}"
    with engine.begin() as conn:
        store.add_user(conn, name, role, password, list(areas))
        key = store.add_key(conn, name)
    return name, key


@pytest.fixture
def client_as(database):
    """``client_as(role="admin", *areas, **testclient_kwargs)`` → a ``TestClient(create_app())`` signed in by API
    key as a new account of that role, granted those street/community codes; ``client.account`` is its name.

    Use it for every write through the API (plans, apply, revert, merges, roster edits, imports)::

        def test_apply(client_as, demo_city):
            client = client_as("planner", "110108001001")
            client.post("/plans", json=...)

    Call it after the data is loaded (fixtures that empty the database remove accounts too).
    """
    from fastapi.testclient import TestClient

    from api.app import create_app

    def make(role: str = "admin", *areas: str, **kwargs) -> TestClient:
        name, key = make_account(database, role, areas)
        headers = {"Authorization": f"Bearer {key}", **kwargs.pop("headers", {})}
        client = TestClient(create_app(), headers=headers, **kwargs)
        client.account = name
        return client

    return make


@pytest.fixture
def admin_client(client_as):
    """A ``TestClient`` signed in as a new admin (see ``client_as``)."""
    return client_as("admin")
