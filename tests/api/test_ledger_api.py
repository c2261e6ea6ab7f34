"""The special-group ledger over HTTP: staff of the place read it (JSON and the same .xlsx the CLI writes), every
read audited; anonymous callers get 401, viewers, API clients and staff of other places 403 (with no place named, staff get their own areas' ledger)."""

from __future__ import annotations

import io

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from geogrid.ledger import workbook_bytes
from tests.fixtures.rosters_street import COMMUNITY, PEOPLE


def _get(client: TestClient, path: str, **params):
    return client.get(path, params=params)


@pytest.mark.parametrize("role", ["grid_staff", "community_staff", "admin"])
def test_staff_of_the_place_read_the_ledger_of_a_community_and_of_a_grid(ledger_street, client_as, role):
    client = client_as(role, COMMUNITY)
    answer = _get(client, "/ledger", community=COMMUNITY)
    assert answer.status_code == 200, answer.text
    entries = answer.json()["entries"]
    assert sorted((e["grid_code"], e["name"], e["phone"]) for e in entries) == sorted(p[:3] for p in PEOPLE)
    assert {e["name"]: e["groups"] for e in entries}["李爷爷"] == ["elderly_alone", "disabled"]
    assert all(e["building"] and e["room"] for e in entries)
    counts = {c["grid_code"]: c["counts"] for c in answer.json()["by_grid"]}
    assert counts == {"G1": {"elderly_alone": 2, "disabled": 1, "hardship": 1}, "G2": {"disabled": 1}}
    one = _get(client, "/ledger", grid="G2").json()
    assert [(e["name"], e["grid_code"]) for e in one["entries"]] == [("钱大伯", "G2")]


def test_the_workbook_is_the_one_the_cli_writes_and_reads_are_audited(ledger_street, client_as):
    client = client_as("community_staff", COMMUNITY)
    answer = _get(client, "/ledger.xlsx", community=COMMUNITY)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in answer.headers["content-disposition"]
    with ledger_street.connect() as conn:
        cli = workbook_bytes(conn, "ledger", COMMUNITY)

    def cells(body: bytes) -> dict:
        book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
        return {name: list(book[name].iter_rows(values_only=True)) for name in book.sheetnames}

    sheets = cells(answer.content)
    assert sheets == cells(cli)
    header, *rows = sheets["特殊群体台账"]
    assert len(rows) == len(PEOPLE) and "13800000002" in {r[header.index("联系电话")] for r in rows}
    _get(client, "/ledger", grid="G1")
    with ledger_street.connect() as conn:
        audited = conn.execute(
            text("SELECT action, area FROM audit.audit_log WHERE actor = :a ORDER BY id"), {"a": client.account}
        ).all()
    assert [tuple(r) for r in audited] == [("ledger_export", COMMUNITY), ("ledger_read", "G1")]


def test_others_are_refused(ledger_street, client_as):
    with TestClient(create_app()) as anonymous:
        for path in ("/ledger", "/ledger.xlsx"):
            assert _get(anonymous, path, community=COMMUNITY).status_code == 401
    for role in ("viewer", "api_client", "planner"):
        answer = _get(client_as(role, COMMUNITY), "/ledger", community=COMMUNITY)
        assert answer.status_code == 403, (role, answer.text)
    outsider = client_as("community_staff", "110108014999")
    for params in ({"community": COMMUNITY}, {"grid": "G1"}):
        answer = _get(outsider, "/ledger.xlsx", **params)
        assert answer.status_code == 403 and "G1" in answer.text and "13800000001" not in answer.text
    own = _get(client_as("grid_staff", COMMUNITY), "/ledger").json()  # no place: the caller's own areas
    assert own["place"] == COMMUNITY and len(own["entries"]) == len(PEOPLE)
    assert _get(outsider, "/ledger").json()["entries"] == []  # the whole city is the admins' alone
    assert len(_get(client_as("admin"), "/ledger").json()["entries"]) == len(PEOPLE)
    assert _get(client_as("admin"), "/ledger", community="nowhere").status_code == 404
    both = _get(client_as("admin"), "/ledger", community=COMMUNITY, grid="G1")
    assert both.status_code == 400 and "not both" in both.json()["error"]


def test_grid_staff_granted_a_grid_read_that_grid_only(ledger_street, client_as):
    """A grid worker is granted their grid's code: its ledger, not the neighbouring grid's nor the community's."""
    worker = client_as("grid_staff", "G2")
    mine = _get(worker, "/ledger", grid="G2")
    assert mine.status_code == 200 and [e["name"] for e in mine.json()["entries"]] == ["钱大伯"]
    assert [e["grid_code"] for e in _get(worker, "/ledger").json()["entries"]] == ["G2"]  # no place: their grid
    for params in ({"grid": "G1"}, {"community": COMMUNITY}):
        answer = _get(worker, "/ledger", **params)
        assert answer.status_code == 403 and "G1" in answer.text and "13800000001" not in answer.text


def test_a_ledger_without_anyone_is_an_empty_workbook(empty_db, client_as):
    """No resident of a special group (a new street, or the whole city before any import): headers only, no 500."""
    answer = _get(client_as("admin"), "/ledger.xlsx")
    assert answer.status_code == 200, answer.text
    book = openpyxl.load_workbook(io.BytesIO(answer.content), read_only=True)
    assert [len(list(book[name].iter_rows())) for name in book.sheetnames] == [1, 1]
