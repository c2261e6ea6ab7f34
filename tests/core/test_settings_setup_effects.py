"""The README's set-up settings, each changed once with its effect checked: the database's name, the PostgreSQL
programs the embedded cluster runs, and the base-map credit."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

from sqlalchemy import text

from geogrid.db import cluster
from geogrid.settings import get_settings
from maps import data, pages


def test_db_name_is_the_database_used(database):
    """The test suite runs under its own name (``tests/conftest.py``): the connection is to that database."""
    name = os.environ["GEOGRID_DB_NAME"]
    assert name != "geogrid"  # not the default, so the setting is what decided
    with database.connect() as conn:
        assert conn.scalar(text("SELECT current_database()")) == name


def test_pg_bindir_picks_the_postgresql_programs(database, settings_env):
    """A directory whose ``pg_ctl`` always fails: the running cluster is reported as not running."""
    if os.environ.get("GEOGRID_DATABASE_URL"):
        return  # no embedded cluster to ask
    assert cluster.running(get_settings())
    fake = Path(f"/tmp/geogrid-bindir-{os.getpid()}")  # under /tmp: the server's user runs it
    fake.mkdir(mode=0o755, exist_ok=True)
    try:
        script = fake / "pg_ctl"
        script.write_text("#!/bin/sh\nexit 3\n")
        script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        settings_env("GEOGRID_PG_BINDIR", str(fake))
        assert cluster.bindir(get_settings()) == fake
        assert not cluster.running(get_settings())
    finally:
        shutil.rmtree(fake, ignore_errors=True)


def test_tile_attribution_is_shown_with_the_tiles(small_city, settings_env):
    settings_env("GEOGRID_TILE_URL", "https://tiles.example.org/{z}/{x}/{y}.png")
    with small_city.connect() as conn:
        assert json.dumps("base map") in pages.coverage_page(conn, data.Scope())  # the default credit
        settings_env("GEOGRID_TILE_ATTRIBUTION", "© 测试地图供应商")
        html = pages.coverage_page(conn, data.Scope())
    assert json.dumps("© 测试地图供应商") in html  # as folium writes it into the page's script
