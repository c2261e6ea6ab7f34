"""``geogrid lookup`` for one query and for a CSV file."""

from __future__ import annotations

import csv
import io
import json

from typer.testing import CliRunner

from geogrid.cli import application
from geogrid.errors import InputError, NotFound

app = application()


def test_one_address_and_one_point(lookup_city):
    runner = CliRunner()
    got = runner.invoke(app, ["lookup", "巴蜀花园三号楼"])
    assert got.exit_code == 0, got.output
    assert json.loads(got.stdout)["grid"]["code"] == "110108600001002"
    got = runner.invoke(app, ["lookup", "116.312, 39.9055"])
    assert json.loads(got.stdout)["grid"]["code"] == "110108600001001"
    got = runner.invoke(app, ["lookup", "116.36,39.905"])
    assert isinstance(got.exception, NotFound) and "110108600002001" in str(got.exception)


def test_stdout_is_only_the_json_answer(lookup_city):
    """A fresh process (libraries imported for the first time) prints nothing but the answer on stdout."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    geogrid = str(Path(sys.executable).parent / "geogrid")
    out = subprocess.run(
        [geogrid, "lookup", "北京市海淀区巴蜀花园三号楼"],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["grid"]["code"] == "110108600001002"


def test_csv_file(lookup_city, tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("id,lon,lat,address\na,116.305,39.905,\nb,,,長湖街１２號\nc,nan,1,\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    got = CliRunner().invoke(app, ["lookup", "--file", str(src), "--out", str(out)])
    assert got.exit_code == 0, got.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [(r["id"], r["grid_code"]) for r in rows] == [("a", "110108600001002"), ("b", "110108600001001"), ("c", "")]
    assert rows[1]["match_address"] == "长湖街12号" and rows[2]["error"]


def test_bad_csv_names_file_and_field(lookup_city, tmp_path):
    src = tmp_path / "bad.csv"
    src.write_text("x,y\n1,2\n", encoding="utf-8")
    got = CliRunner().invoke(app, ["lookup", "--file", str(src)])
    assert isinstance(got.exception, InputError)
    assert "bad.csv" in str(got.exception) and "lon/lat/address" in str(got.exception)


def test_explain_says_why_on_stderr_and_keeps_stdout_json(lookup_city):
    runner = CliRunner()
    got = runner.invoke(app, ["lookup", "巴蜀花园三号楼", "--explain"])
    assert got.exit_code == 0, got.output
    answer = json.loads(got.stdout)
    assert answer["match"]["level"] == "building" and "explain" not in answer
    assert "巴蜀花园3栋" in got.stderr and "110108600001002" in got.stderr
    unsure = runner.invoke(app, ["lookup", "长湖街1号", "--explain"])
    assert json.loads(unsure.stdout)["ambiguous"] is True and "长湖街" in unsure.stderr
