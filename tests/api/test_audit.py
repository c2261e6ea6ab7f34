"""Every write leaves an audit row (who, when, from where, what); the log is append-only; GET /audit and
``geogrid audit`` filter it by area, user and date."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
import shapely
from shapely.geometry import box, mapping
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from geogrid.cli import application
from tests.fixtures import planning_city as pc
from tests.fixtures.planning_city import C1, A

A_GROWN = shapely.difference(box(116.30, 39.90, 116.3125, 39.91), pc.HOLE)
runner = CliRunner()


def _rows(engine, since_id: int) -> list[dict]:
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(text("SELECT * FROM audit_log WHERE id > :i ORDER BY id"), {"i": since_id}).mappings()
        ]


def _last_id(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(text("SELECT coalesce(max(id), 0) FROM audit_log"))


def test_api_writes_are_audited_with_who_where_what(planning_city, client_as):
    start = _last_id(planning_city)
    planner = client_as("planner", C1)
    plan = planner.post("/plans", json={"edits": [{"op": "redraw", "grid": A, "geometry": mapping(A_GROWN)}]}).json()
    applied = planner.post(f"/plans/{plan['plan']}/apply").json()
    planner.post(f"/grids/{A}/revert", params={"to_version": 1})
    planner.post("/plans", json={"edits": [{"op": "redraw", "grid": "nope"}]})  # refused: no row
    rows = _rows(planning_city, start)
    assert [r["action"] for r in rows] == ["plan_create", "plan_apply", "grid_revert"]
    for r in rows:
        assert (r["actor"], r["role"], r["via"], r["address"], r["area"]) == (
            planner.account,
            "planner",
            "key",
            "testclient",
            C1,
        )
        assert r["at"] is not None
    assert rows[1]["target"] == f"plan {plan['plan']}" and rows[1]["details"]["changed"] == applied["changed"]
    assert rows[1]["details"]["buildings_moved"] == applied["buildings_moved"]


def test_account_changes_and_logins_are_audited(planning_city, client_as):
    start = _last_id(planning_city)
    admin = client_as("admin")
    assert (
        admin.post(
            "/users", json={"name": "王规划", "role": "planner", "password": "correct horse", "areas": [C1]}
        ).status_code
        == 201
    )
    key = admin.post("/users/王规划/keys").json()["key"]
    admin.delete(f"/keys/{key.split('_')[1]}")
    admin.post("/users/王规划/disable")
    admin.post("/login", json={"name": "王规划", "password": "wrong one"})
    actions = [(r["action"], r["actor"], r["target"]) for r in _rows(planning_city, start)]
    assert actions == [
        ("user_add", admin.account, "王规划"),
        ("key_add", admin.account, "王规划"),
        ("key_revoke", admin.account, "王规划"),
        ("user_disable", admin.account, "王规划"),
        ("login_failed", "王规划", None),
    ]
    assert key not in json.dumps([r["details"] for r in _rows(planning_city, start)])  # the key itself is never logged


def test_audit_log_is_append_only(planning_city, client_as):
    client_as("admin").post("/users", json={"name": "x-user", "role": "viewer"})
    for statement in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log", "TRUNCATE audit_log"):
        with pytest.raises(DBAPIError, match="append-only|permission denied"), planning_city.begin() as conn:
            conn.execute(text(statement))


def test_get_audit_filters_by_user_area_and_date(planning_city, client_as):
    planner = client_as("planner", C1)
    planner.post("/plans", json={"edits": [{"op": "redraw", "grid": A, "geometry": mapping(A_GROWN)}]})
    admin = client_as("admin")
    mine = admin.get("/audit", params={"user": planner.account}).json()
    assert [e["action"] for e in mine] == ["plan_create"] and mine[0]["area"] == C1
    assert admin.get("/audit", params={"user": planner.account, "area": "110108001002"}).json() == []
    assert len(admin.get("/audit", params={"user": planner.account, "area": "110108001"}).json()) == 1  # street
    today = date.today()
    assert admin.get("/audit", params={"user": planner.account, "until": str(today - timedelta(days=1))}).json() == []
    assert len(admin.get("/audit", params={"user": planner.account, "since": str(today)}).json()) == 1
    assert planner.get("/audit").status_code == 403


def test_cli_account_changes_and_imports_are_audited(planning_city, tmp_path):
    start = _last_id(planning_city)
    app = application()
    ok = runner.invoke(
        app, ["users", "add", "李网格", "--role", "grid_staff", "--area", C1, "--password", "correct horse"]
    )
    assert ok.exit_code == 0, ok.output
    assert runner.invoke(app, ["users", "add", "李网格", "--role", "grid_staff", "--no-password"]).exit_code == 1
    assert runner.invoke(app, ["users", "add", "x", "--role", "boss", "--no-password"]).exit_code == 1
    key = runner.invoke(app, ["keys", "add", "李网格"]).stdout.strip().splitlines()[-1]
    assert key.startswith("gg_")
    path = tmp_path / "grids.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"code": C1 + "009", "name": "新网格"},
                        "geometry": mapping(box(116.3001, 39.9001, 116.3002, 39.9002)),
                    }
                ],
            }
        )
    )
    runner.invoke(app, ["import", "grids", str(path)])
    rows = _rows(planning_city, start)
    assert [r["action"] for r in rows][:2] == ["user_add", "key_add"]
    assert all(r["actor"].startswith("cli:") and r["via"] == "cli" for r in rows)
    assert rows[2]["action"] == "import" and rows[2]["target"] == "grids.geojson"
    assert rows[2]["details"]["rows"] == 1
    listed = runner.invoke(app, ["audit", "--user", rows[0]["actor"], "--json"])
    assert listed.exit_code == 0 and "user_add" in listed.stdout
    assert runner.invoke(app, ["audit", "--since", "yesterday"]).exit_code == 1


def test_cli_exports_of_personal_data_are_audited(planning_city, tmp_path):
    """`geogrid export ledger|roster` writes names and phones to a file: who, what and where is recorded."""
    start = _last_id(planning_city)
    app = application()
    for layer in ("ledger", "roster"):
        done = runner.invoke(app, ["export", layer, "-o", str(tmp_path / f"{layer}.xlsx"), "--community", C1])
        assert done.exit_code == 0, done.output
    rows = _rows(planning_city, start)
    assert [(r["action"], r["area"], r["via"]) for r in rows] == [
        ("ledger_export", C1, "cli"),
        ("roster_export", C1, "cli"),
    ]
    assert rows[0]["actor"].startswith("cli:") and rows[0]["target"] == "ledger.xlsx"
    assert rows[0]["details"]["rows"] == 0
    runner.invoke(app, ["export", "grids", "-o", str(tmp_path / "grids.geojson")])  # no personal data: no row
    assert len(_rows(planning_city, start)) == 2


def test_cli_plan_writes_name_their_community(planning_city, tmp_path):
    """A plan made and applied from the command line is found by `geogrid audit --area` like one made over HTTP."""
    start = _last_id(planning_city)
    app = application()
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({"edits": [{"op": "redraw", "grid": A, "geometry": mapping(A_GROWN)}]}))
    made = runner.invoke(app, ["plan", "create", str(path)])
    assert made.exit_code == 0, made.output
    plan_id = json.loads(made.stdout[made.stdout.index("{") :])["plan"]
    assert runner.invoke(app, ["plan", "apply", str(plan_id)]).exit_code == 0
    assert runner.invoke(app, ["plan", "revert", A, "--to-version", "1"]).exit_code == 0
    rows = _rows(planning_city, start)
    assert [(r["action"], r["area"]) for r in rows] == [("plan_create", C1), ("plan_apply", C1), ("grid_revert", C1)]
    listed = runner.invoke(app, ["audit", "--area", C1, "--json"])
    assert [e["action"] for e in json.loads(listed.stdout)][:3] == ["grid_revert", "plan_apply", "plan_create"]
