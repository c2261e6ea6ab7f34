"""Test setup: a real embedded PostGIS cluster under /tmp, one database per xdist worker."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"

# Under /tmp so that the postgres user (the server's user when tests run as root) can always reach it.
os.environ.setdefault("GEOGRID_HOME", f"/tmp/geogrid-test-{hashlib.sha1(str(ROOT).encode()).hexdigest()[:10]}")
os.environ.setdefault("GEOGRID_DB_PORT", "54339")
os.environ["GEOGRID_DB_NAME"] = f"geogrid_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"

from sqlalchemy import text  # noqa: E402

from geogrid import db  # noqa: E402
from geogrid.db import cluster  # noqa: E402
from geogrid.model import Base  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    """Start the cluster once, in the controller, before xdist workers race to do it."""
    if not hasattr(config, "workerinput") and not os.environ.get("GEOGRID_DATABASE_URL"):
        cluster.start()


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
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def empty_db(database):
    """An empty database (all tables truncated) for a test that loads its own data."""
    truncate_all(database)
    return database
