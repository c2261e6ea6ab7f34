"""The roster API: dated assignments and "who was responsible on date D"; party organisations moved; no phones
or residents' names in any public answer (every GET route of /openapi.json is walked)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app


@pytest.fixture
def client(street, client_as):
    """Signed in as community staff of the street's community (roster edits need the `personal` permission)."""
    with client_as("community_staff", "110108014001", raise_server_exceptions=False) as c:
        yield c


def test_edits_need_sign_in_and_stay_in_the_callers_areas(street, client_as):
    with TestClient(create_app(), raise_server_exceptions=False) as anonymous:
        assert anonymous.post("/staff", json={"name": "张三"}).status_code == 401
        assert anonymous.get("/staff").status_code == 200  # names and roles are public
    with client_as("community_staff", "110108014999", raise_server_exceptions=False) as other:
        sid = other.post("/staff", json={"name": "张三"}).json()["id"]
        answer = other.post(f"/staff/{sid}/assignments", json={"grid_code": "G1", "role": "full_time_worker"})
        assert answer.status_code == 403 and "G1" in answer.text
    with street.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM staff_assignments")) == 0


def test_assign_end_and_answer_as_of_any_date(client, street):
    old = client.post("/staff", json={"name": "张三", "author": "王主任"}).json()
    new = client.post("/staff", json={"name": "李四"}).json()
    first = client.post(
        f"/staff/{old['id']}/assignments",
        json={"grid_code": "G1", "role": "full_time_worker", "start_date": "2024-01-01"},
    )
    assert first.status_code == 201, first.text
    ended = client.post(f"/assignments/{first.json()['id']}/end", json={"end_date": "2024-06-30", "author": "王主任"})
    assert ended.json()["end_date"] == "2024-06-30"
    client.post(
        f"/staff/{new['id']}/assignments",
        json={"grid_code": "G1", "role": "full_time_worker", "start_date": "2024-07-01"},
    )

    def names(day: str) -> list[str]:
        answer = client.get("/grids/G1/responsible", params={"on": day})
        assert answer.status_code == 200, answer.text
        return [s["name"] for s in answer.json()["staff"]]

    assert names("2023-12-31") == []
    assert names("2024-06-30") == ["张三"]
    assert names("2024-07-01") == ["李四"]
    assert [s["name"] for s in client.get("/staff", params={"grid": "G1"}).json()] == ["李四"]
    lookup = client.get("/lookup", params={"lon": 116.305, "lat": 39.905}).json()
    assert "李四" in str(lookup) and "张三" not in str(lookup)
    with street.connect() as conn:
        log = conn.execute(text("SELECT action, author FROM roster_changes ORDER BY id")).all()
    me = client.account
    assert [tuple(r) for r in log] == [
        ("create", "王主任"),
        ("create", me),
        ("assign", me),
        ("end", "王主任"),
        ("assign", me),
    ]


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/staff/1/assignments", {"grid_code": "G1", "role": "full_time_worker", "start_date": "2999-01-01"}, 400),
        ("/staff/1/assignments", {"grid_code": "G9", "role": "full_time_worker"}, 404),
        ("/staff/1/assignments", {"grid_code": "G1", "role": "保安"}, 400),
        ("/staff/99/assignments", {"grid_code": "G1", "role": "full_time_worker"}, 404),
        ("/assignments/2147483647/end", {}, 404),
        ("/assignments/99999999999/end", {}, 422),
    ],
)
def test_bad_edits_are_clear_4xx(client, path, body, status):
    assert client.post("/staff", json={"name": "张三"}).status_code == 201
    assert client.post(path, json=body).status_code == status


def test_end_twice_is_a_conflict_and_same_role_twice_too(client):
    sid = client.post("/staff", json={"name": "张三"}).json()["id"]
    body = {"grid_code": "G1", "role": "full_time_worker"}
    aid = client.post(f"/staff/{sid}/assignments", json=body).json()["id"]
    assert client.post(f"/staff/{sid}/assignments", json=body).status_code == 409
    assert client.post(f"/assignments/{aid}/end", json={}).status_code == 200
    assert client.post(f"/assignments/{aid}/end", json={}).status_code == 409


def test_move_a_branch_to_another_grid(client, street):
    parent = client.post("/party-orgs", json={"name": "社区党委", "level": "community_committee"}).json()
    branch = client.post(
        "/party-orgs",
        json={
            "name": "一支部",
            "level": "grid_branch",
            "grid_code": "G1",
            "parent_id": parent["id"],
            "secretary": "吴",
        },
    ).json()
    assert (branch["grid_code"], branch["community_code"]) == ("G1", "110108014001")
    moved = client.patch(f"/party-orgs/{branch['id']}", json={"grid_code": "G3", "author": "组织委员"})
    assert moved.status_code == 200 and moved.json()["grid_code"] == "G3"
    assert moved.json()["parent_id"] == parent["id"]
    assert client.patch(f"/party-orgs/{branch['id']}", json={"parent_id": branch["id"]}).status_code == 400
    with street.connect() as conn:
        detail = conn.scalar(text("SELECT detail FROM roster_changes WHERE action = 'move'"))
    assert detail["from"]["grid_code"] == "G1" and detail["to"]["grid_code"] == "G3"
    problems = client.get("/validation").json()["problems"]
    assert {p["grids"][0] for p in problems if p["rule"] == "no_party_org"} == {"G1", "G2"}


def _fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "1"), path)


@pytest.mark.parametrize("who", ["anonymous", "viewer", "api_client"])
def test_no_phone_or_resident_name_in_any_public_get_route(demo_city, database, client_as, who):
    """Every GET route of the API, with its path filled from the demo city, answers anonymous callers and
    non-staff accounts without any staff phone, resident phone or resident name (staff names are public)."""
    with database.connect() as conn:
        secrets = set(conn.scalars(text("SELECT phone FROM staff_contacts WHERE phone IS NOT NULL")))
        secrets |= set(conn.scalars(text("SELECT phone FROM resident_personal WHERE phone IS NOT NULL LIMIT 2000")))
        resident_names = set(
            conn.scalars(
                text(
                    "SELECT p.name FROM resident_personal p WHERE length(p.name) >= 3 AND p.name NOT IN "
                    "(SELECT name FROM staff) LIMIT 2000"
                )
            )
        )
        grid = conn.scalar(text("SELECT code FROM grids WHERE valid_to IS NULL ORDER BY code LIMIT 1"))
        values = {
            "code": grid,
            "grid": grid,
            "community": grid[:12],
            "staff_id": str(conn.scalar(text("SELECT min(staff_id) FROM staff_assignments"))),
            "org_id": str(conn.scalar(text("SELECT min(id) FROM party_orgs"))),
        }
    assert secrets and resident_names
    client = (
        TestClient(create_app(), raise_server_exceptions=False)
        if who == "anonymous"
        else client_as(who, raise_server_exceptions=False)
    )
    with client:
        routes = [(path, ops) for path, ops in client.get("/openapi.json").json()["paths"].items() if "get" in ops]
        assert any(p == "/staff" for p, _ in routes) and any("responsible" in p for p, _ in routes)
        walked = 0
        for path, _ in routes:
            answer = client.get(_fill(path, values), params={"grid": grid, "community": grid[:12]})
            body = answer.text
            leaked = [s for s in secrets if s in body] + [n for n in resident_names if n in body]
            assert not leaked, (path, leaked[:3])
            walked += answer.status_code == 200
        assert walked >= len(routes) // 2


@pytest.mark.parametrize("value", ["0", "1700000000", "2024-7-1", "yesterday"])
def test_responsible_on_is_a_written_date(client, value):
    """``?on=0`` was read as a Unix time (1970-01-01) and answered 200, as ``/audit?until=0`` once was."""
    answer = client.get("/grids/G1/responsible", params={"on": value})
    assert answer.status_code == 422, answer.text
    assert "YYYY-MM-DD" in answer.json()["error"] and "query.on" in answer.json()["error"]
