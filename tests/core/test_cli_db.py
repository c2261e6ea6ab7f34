"""``geogrid db`` on a brand-new data directory: the embedded cluster is created, started and stopped."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port

GEOGRID = str(ROOT / ".venv" / "bin" / "geogrid") if (ROOT / ".venv" / "bin" / "geogrid").exists() else "geogrid"


@pytest.fixture
def fresh_home():
    home = Path("/tmp") / f"geogrid-cli-{uuid.uuid4().hex[:8]}"  # the postgres user must reach it
    env = {**os.environ, "GEOGRID_HOME": str(home), "GEOGRID_DB_PORT": str(free_port())}
    env.pop("GEOGRID_DATABASE_URL", None)
    env.pop("GEOGRID_DB_NAME", None)
    yield env
    subprocess.run([GEOGRID, "db", "stop"], env=env, capture_output=True)
    shutil.rmtree(home, ignore_errors=True)


def geogrid(env, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([GEOGRID, *args], env=env, capture_output=True, text=True, timeout=180)


@pytest.mark.skipif(sys.platform != "linux", reason="the embedded cluster uses Debian's PostgreSQL packages")
def test_start_status_url_stop_on_a_new_home(fresh_home):
    assert "stopped" in geogrid(fresh_home, "db", "status").stdout
    started = geogrid(fresh_home, "db", "start")
    assert started.returncode == 0, started.stderr
    assert "running" in geogrid(fresh_home, "db", "status").stdout
    url = geogrid(fresh_home, "db", "url").stdout.strip()
    assert url.startswith("postgresql://") and url.endswith("/geogrid")
    tables = subprocess.run(
        ["psql", url, "-Atc", "SELECT count(*) FROM pg_tables WHERE tablename = 'grids'"],
        capture_output=True,
        text=True,
    )
    assert tables.stdout.strip() == "1"
    if os.geteuid() == 0:  # PostgreSQL refuses root: the server must run as the postgres user
        owner = subprocess.run(["ps", "-o", "user=", "-C", "postgres"], capture_output=True, text=True).stdout
        assert "postgres" in owner and "root" not in owner.split()
    assert "stopped" in geogrid(fresh_home, "db", "stop").stderr
    assert "stopped" in geogrid(fresh_home, "db", "status").stdout


def test_stats_starts_the_database_by_itself(fresh_home):
    out = geogrid(fresh_home, "stats", "--json")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_unreachable_external_database_is_one_clear_line(fresh_home):
    env = {**fresh_home, "GEOGRID_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    out = geogrid(env, "stats")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "cannot connect to the database" in out.stderr


@pytest.mark.parametrize(
    "name, value", [("GEOGRID_DB_PORT", "abc"), ("GEOGRID_CIRCLE_RADII", "5:x"), ("GEOGRID_WALK_SPEED", "fast")]
)
def test_unreadable_setting_is_one_clear_line_and_help_still_works(fresh_home, name, value):
    """A mistyped GEOGRID_* variable is named with its value and the expected form, never a traceback."""
    env = {**fresh_home, name: value}
    out = geogrid(env, "stats")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert f"{name}='{value}' cannot be read" in out.stderr and len(out.stderr.strip().splitlines()) <= 3
    helped = geogrid(env, "--help")
    assert helped.returncode == 0 and "Traceback" not in helped.stderr and "stats" in helped.stdout
