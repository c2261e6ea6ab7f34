"""`geogrid stats` and `geogrid validate` read the rosters: 组建率 (share of grids with a party organisation), grids
without a full-time worker, workers covering too many grids — each checked against what was entered here."""

from __future__ import annotations

import json

from sqlalchemy import text
from typer.testing import CliRunner

from geogrid.cli import application
from geogrid.rosters import NewAssignment, NewStaff, assign, create_staff
from tests.fixtures.rosters_street import COMMUNITY


def _run(*args: str):
    result = CliRunner().invoke(application(), list(args), env={"GEOGRID_LANG": "en", "COLUMNS": "200"})
    assert result.exit_code in (0, 1), result.output  # validate exits 1 on warnings with --strict only
    return result


def test_stats_and_validate_report_the_rosters(street):
    with street.begin() as conn:
        worker = create_staff(conn, NewStaff(name="张三")).id
        for code in ("G1", "G2", "G3"):  # one full-time worker on three grids: more than the default of one
            assign(conn, worker, NewAssignment(grid_code=code, role="full_time_worker"))
        conn.execute(
            text(
                "INSERT INTO party_orgs (name, level, grid_id) SELECT '一支部', 'grid_branch', id FROM grids "
                "WHERE code = 'G1'"
            )
        )
        specialist = create_staff(conn, NewStaff(name="李四")).id
        assign(conn, specialist, NewAssignment(grid_code="G2", role="specialist"))
    rows = {r["code"]: r for r in json.loads(_run("stats", "--community", COMMUNITY, "--json").stdout)}
    assert {c: (r["staff"], r["full_time_workers"], r["party_org"]) for c, r in rows.items()} == {
        "G1": (1, 1, True),
        "G2": (2, 1, False),
        "G3": (1, 1, False),
    }
    table = _run("stats", "--community", COMMUNITY).output
    assert "组建率) 33.3%; 0 grid(s) without a full-time worker" in " ".join(table.split())

    by_rule = _problems()
    assert by_rule["worker_too_many_grids"] == [["G1", "G2", "G3"]]
    assert sorted(by_rule["no_party_org"]) == [["G2"], ["G3"]]
    assert "no_full_time_worker" not in by_rule
    with street.begin() as conn:  # the worker leaves G3: it is flagged, and covers two grids now
        conn.execute(
            text(
                "UPDATE staff_assignments SET end_date = current_date WHERE grid_id = "
                "(SELECT id FROM grids WHERE code = 'G3')"
            )
        )
    table = _run("stats", "--community", COMMUNITY).output
    assert "1 grid(s) without a full-time worker" in " ".join(table.split())
    after = _problems()
    assert after["no_full_time_worker"] == [["G3"]] and after["worker_too_many_grids"] == [["G1", "G2"]]


def _problems() -> dict[str, list]:
    problems = json.loads(_run("validate", "--community", COMMUNITY, "--json").stdout)
    problems = problems["problems"] if isinstance(problems, dict) else problems
    by_rule: dict[str, list] = {}
    for p in problems:
        by_rule.setdefault(p["rule"], []).append(p["grids"])
    return by_rule
