"""The command line as a user meets it (issue 11, item 6): exit codes, one line per bad file naming file, row and
field and never the value, no traceback for anything, CRS and NUL checks, a database gone mid-import."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from sqlalchemy import text

from tests.fixtures.planning_city import C1, B

PHONE = "13912345678901234567890123456789012"  # 35 characters: longer than the column, and personal data


def geogrid(*args: str, **kwargs) -> subprocess.CompletedProcess:
    """The installed entry point (``geogrid.cli:main``) in a process of its own, as a user runs it."""
    env = {**os.environ, "GEOGRID_LANG": "en", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-c", "from geogrid.cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        **kwargs,
    )


def _last_line(result: subprocess.CompletedProcess) -> str:
    return [line for line in result.stderr.splitlines() if line.strip()][-1]


BAD_FILES = {  # name: (layer, content, field)
    "long_address.csv": ("buildings", "source_id,lon,lat,address\nb1,116.3,39.9,{}\n".format("长" * 301), "address"),
    "long_id.csv": ("buildings", "source_id,lon,lat\n{},116.3,39.9\n".format("i" * 201), "source_id"),
    "households.csv": ("buildings", "source_id,lon,lat,households\nb1,116.3,39.9,2147483648\n", "households"),
    "nul.csv": ("buildings", "source_id,lon,lat,address\nb1,116.3,39.9,长湖\x00街\n", "address"),
    "nul.geojson": (
        "buildings",
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
        '{"source_id": "b1", "address": "长湖\\u0000街"}, "geometry": {"type": "Point", "coordinates": '
        "[116.3, 39.9]}}]}",
        "address",
    ),
    "phone.csv": ("residents", f"building_id,household,name,phone\nb0,h1,张三,{PHONE}\n", "phone"),
    "birth.csv": ("residents", "building_id,household,name,birth_year\nb0,h1,张三,99999\n", "birth_year"),
    "grid_code.geojson": (
        "grids",
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"code": "'
        + "1" * 33
        + '", "name": "网格"}, "geometry": {"type": "Polygon", "coordinates": [[[116.301, 39.901], [116.302, 39.901], '
        "[116.302, 39.902], [116.301, 39.901]]]}}]}",
        "code",
    ),
    "code.csv": (
        "facilities",
        "source_id,lon,lat,name,kind,address\nf1,116.3,39.9,站,service_station,{}\n".format("x" * 301),
        "address",
    ),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_a_bad_file_is_one_line_naming_file_row_and_field(planning_city, tmp_path, name):
    layer, content, field = BAD_FILES[name]
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with planning_city.connect() as conn:
        before = conn.scalar(
            text(
                "SELECT (SELECT count(*) FROM buildings) + (SELECT count(*) FROM residents) "
                "+ (SELECT count(*) FROM facilities) + (SELECT count(*) FROM grids)"
            )
        )
    result = geogrid("import", layer, str(path))
    assert result.returncode == 1, result.stderr
    line = _last_line(result)
    assert name in line and "row " in line and f"'{field}'" in line, line
    assert "Traceback" not in result.stderr + result.stdout and PHONE not in result.stderr + result.stdout
    with planning_city.connect() as conn:
        after = conn.scalar(
            text(
                "SELECT (SELECT count(*) FROM buildings) + (SELECT count(*) FROM residents) "
                "+ (SELECT count(*) FROM facilities) + (SELECT count(*) FROM grids)"
            )
        )
    assert after == before


@pytest.mark.parametrize("crs", ["EPSG:4978", "EPSG:4979"])  # geocentric; geographic 3D
def test_geocentric_and_3d_crs_are_refused(planning_city, tmp_path, crs):
    path = tmp_path / "xyz.csv"
    path.write_text("source_id,lon,lat\nb1,-2178000,4388000\n")
    result = geogrid("import", "buildings", str(path), "--crs", crs)
    assert result.returncode == 1 and "two-dimensional" in _last_line(result) and "Traceback" not in result.stderr


def test_unknown_command_is_no_such_command(database):
    result = geogrid("import", "spaceships", "x")
    assert result.returncode == 2 and "No such command 'spaceships'" in result.stderr
    assert "Traceback" not in result.stderr


def test_validate_exit_codes(planning_city):
    warnings = geogrid("validate", "--community", C1)
    assert warnings.returncode == 0, warnings.stderr  # the city has warnings only (no worker, no party org in B)
    assert geogrid("validate", "--community", C1, "--strict").returncode == 1
    with planning_city.begin() as conn:  # retire B by hand: its area becomes a gap, its buildings in no grid
        conn.execute(text("UPDATE grids SET valid_to = now() WHERE code = :c"), {"c": B})
    errors = geogrid("validate", "--community", C1)
    assert errors.returncode == 2 and "gap" in errors.stdout + errors.stderr


def test_a_database_gone_mid_import_is_one_line_and_nothing_partial(planning_city, tmp_path):
    path = tmp_path / "many.csv"
    rows = "\n".join(
        f"m{i},{116.30 + (i % 1000) * 1e-5},{39.90 + (i // 1000) * 1e-5},{i % 300}" for i in range(100_000)
    )
    path.write_text("source_id,lon,lat,households\n" + rows + "\n")
    env = {**os.environ, "GEOGRID_LANG": "en"}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from geogrid.cli import main; main()", "import", "buildings", str(path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    killed = _kill_importer(planning_city, proc)
    out, err = proc.communicate(timeout=300)
    assert killed, "the import finished before it could be interrupted"
    assert proc.returncode == 1 and "Traceback" not in err + out
    assert "database stopped answering" in [line for line in err.splitlines() if line.strip()][-1]
    with planning_city.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM buildings WHERE source_id LIKE 'm%'")) == 0


def _kill_importer(engine, proc: subprocess.Popen) -> bool:
    """Terminate the importer's database session once it has written (as a server crash would end it)."""
    deadline = time.time() + 240
    from geogrid.db.engine import _superuser  # the application's role may not end another session
    from geogrid.settings import get_settings

    admin = _superuser(get_settings().db_name) if get_settings().embedded else engine
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        while time.time() < deadline and proc.poll() is None:
            conn.execute(text("SELECT pg_stat_clear_snapshot()"))  # else the view is read once per transaction
            pid = conn.scalar(
                text(  # a session of this database with writes in an open transaction
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND backend_xid IS NOT NULL AND query ILIKE '%import_buildings%'"
                )
            )
            if pid:
                return bool(conn.scalar(text("SELECT pg_terminate_backend(:p)"), {"p": pid}))
            time.sleep(0.005)
    return False
