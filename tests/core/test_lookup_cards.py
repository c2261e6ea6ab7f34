"""Grid cards (revision 0003_grid_cards): the per-grid part of a point lookup is precomputed, and every edit
of grids, staff, assignments, party organisations or areas shows on the very next lookup, checked against
answers rebuilt in Python from the tables."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Connection, text

from geogrid.lookup import lookup_point
from geogrid.model import STAFF_ROLES


def _point_in(conn: Connection, code: str) -> tuple[float, float]:
    """A point inside grid ``code`` that no other current grid covers."""
    return conn.execute(
        text("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM grids WHERE code = :c) t"),
        {"c": code},
    ).one()


def _expected(conn: Connection, code: str) -> dict:
    """Areas, staff (order of responsibility, then name) and party organisation of a grid, from the tables."""
    gid, community = conn.execute(text("SELECT id, community_id FROM grids WHERE code = :c"), {"c": code}).one()
    areas, area_id = [], community
    for _ in range(3):
        row = (
            conn.execute(
                text("SELECT code, name, parent_id FROM admin_areas WHERE id = :i"), {"i": area_id}
            ).one_or_none()
            if area_id
            else None
        )
        areas.append({"code": row.code, "name": row.name} if row and row.code else None)
        area_id = row.parent_id if row else None
    staff = [
        {"role": r, "name": n}
        for r, n in conn.execute(
            text(
                "SELECT sa.role, st.name FROM staff_assignments sa JOIN staff st ON st.id = sa.staff_id "
                "WHERE sa.grid_id = :g AND sa.building_id IS NULL"
            ),
            {"g": gid},
        )
    ]
    staff.sort(key=lambda s: (STAFF_ROLES.index(s["role"]), s["name"]))
    orgs = conn.execute(
        text("SELECT id, name, level FROM party_orgs WHERE grid_id = :g AND building_id IS NULL"), {"g": gid}
    ).all()
    org = min(orgs, key=lambda o: (o.level != "grid_branch", o.id), default=None)
    return {
        "community": areas[0],
        "street": areas[1],
        "district": areas[2],
        "staff": staff,
        "party_org": {"name": org.name, "level": org.level} if org else None,
    }


def _card_part(answer: dict) -> dict:
    return {k: answer[k] for k in ("community", "street", "district", "staff", "party_org")}


def _some_grids(conn: Connection, n: int = 12) -> list[str]:
    return list(conn.scalars(text(f"SELECT code FROM grids WHERE valid_to IS NULL ORDER BY code LIMIT {n}")))


def test_every_grid_answers_what_its_tables_say(demo_conn):
    assert (
        demo_conn.scalar(
            text("SELECT count(*) FROM grids g LEFT JOIN grid_cards c ON c.grid_id = g.id WHERE c.card IS NULL")
        )
        == 0
    )
    codes = list(demo_conn.scalars(text("SELECT code FROM grids WHERE valid_to IS NULL ORDER BY code")))
    for code in codes:
        got = lookup_point(demo_conn, *_point_in(demo_conn, code))
        assert got["grid"]["code"] == code
        assert _card_part(got) == _expected(demo_conn, code), code


def test_staff_change_is_visible_on_the_next_lookup(demo_conn):
    code = _some_grids(demo_conn)[0]
    point = _point_in(demo_conn, code)
    gid = demo_conn.scalar(text("SELECT id FROM grids WHERE code = :c"), {"c": code})
    leader = demo_conn.execute(
        text("SELECT staff_id FROM staff_assignments WHERE grid_id = :g AND role = 'grid_leader'"), {"g": gid}
    ).scalar()
    demo_conn.execute(text("UPDATE staff SET name = '新网格长' WHERE id = :s"), {"s": leader})
    got = lookup_point(demo_conn, *point)
    assert got["staff"][0] == {"role": "grid_leader", "name": "新网格长"}
    assert _card_part(got) == _expected(demo_conn, code)

    new = demo_conn.scalar(text("INSERT INTO staff (name) VALUES ('阿一') RETURNING id"))
    demo_conn.execute(
        text("INSERT INTO staff_assignments (staff_id, grid_id, role) VALUES (:s, :g, 'full_time_worker')"),
        {"s": new, "g": gid},
    )
    assert {"role": "full_time_worker", "name": "阿一"} in lookup_point(demo_conn, *point)["staff"]
    demo_conn.execute(text("DELETE FROM staff_assignments WHERE grid_id = :g AND role = 'grid_leader'"), {"g": gid})
    got = lookup_point(demo_conn, *point)
    assert all(s["role"] != "grid_leader" for s in got["staff"]) and _card_part(got) == _expected(demo_conn, code)
    demo_conn.execute(text("DELETE FROM staff WHERE id = :s"), {"s": new})  # cascades to its assignment
    assert {"role": "full_time_worker", "name": "阿一"} not in lookup_point(demo_conn, *point)["staff"]


def test_moved_assignment_updates_both_grids(demo_conn):
    a, b = _some_grids(demo_conn)[:2]
    demo_conn.execute(
        text(
            "UPDATE staff_assignments SET grid_id = (SELECT id FROM grids WHERE code = :b) "
            "WHERE grid_id = (SELECT id FROM grids WHERE code = :a)"
        ),
        {"a": a, "b": b},
    )
    for code in (a, b):
        got = lookup_point(demo_conn, *_point_in(demo_conn, code))
        assert _card_part(got) == _expected(demo_conn, code)
    assert lookup_point(demo_conn, *_point_in(demo_conn, a))["staff"] == []


def test_party_area_and_community_changes_are_visible(demo_conn):
    codes = _some_grids(demo_conn, 40)
    code = codes[0]
    point = _point_in(demo_conn, code)
    demo_conn.execute(
        text(
            "UPDATE party_orgs SET name = '改名党支部' WHERE grid_id = "
            "(SELECT id FROM grids WHERE code = :c) AND building_id IS NULL"
        ),
        {"c": code},
    )
    assert lookup_point(demo_conn, *point)["party_org"]["name"] == "改名党支部"
    demo_conn.execute(
        text("DELETE FROM party_orgs WHERE grid_id = (SELECT id FROM grids WHERE code = :c)"), {"c": code}
    )
    assert lookup_point(demo_conn, *point)["party_org"] is None

    demo_conn.execute(text("UPDATE admin_areas SET name = '新名街道' WHERE level = 'street'"))
    for c in codes:
        assert _card_part(lookup_point(demo_conn, *_point_in(demo_conn, c))) == _expected(demo_conn, c)
    other = demo_conn.execute(
        text(
            "SELECT a.id, a.code FROM admin_areas a WHERE a.level = 'community' AND a.id <> "
            "(SELECT community_id FROM grids WHERE code = :c) LIMIT 1"
        ),
        {"c": code},
    ).one()
    demo_conn.execute(text("UPDATE grids SET community_id = :a WHERE code = :c"), {"a": other.id, "c": code})
    assert lookup_point(demo_conn, *point)["community"]["code"] == other.code


def test_missing_card_is_computed_live(demo_conn):
    code = _some_grids(demo_conn)[0]
    point = _point_in(demo_conn, code)
    before = lookup_point(demo_conn, *point)
    demo_conn.execute(text("DELETE FROM grid_cards"))
    assert lookup_point(demo_conn, *point) == before


def test_concurrent_writers_on_one_grid_leave_the_latest_card(fresh_demo_city, database):
    """The second writer waits for the first and computes the card after it commits: no older view survives."""
    with database.connect() as conn:
        code = _some_grids(conn)[0]
        gid = conn.scalar(text("SELECT id FROM grids WHERE code = :c"), {"c": code})
        staff_id = conn.scalar(text("SELECT staff_id FROM staff_assignments WHERE grid_id = :g LIMIT 1"), {"g": gid})
    first, second = database.connect(), database.connect()
    try:
        first.begin()
        first.execute(text("UPDATE staff SET name = '先改' WHERE id = :s"), {"s": staff_id})
        second.begin()
        done = threading.Event()

        def other() -> None:
            second.execute(text("UPDATE party_orgs SET name = '后改' WHERE grid_id = :g"), {"g": gid})
            second.commit()
            done.set()

        worker = threading.Thread(target=other)
        worker.start()
        assert not done.wait(0.5)  # waits for the first writer's card
        first.commit()
        worker.join(10)
        assert done.is_set()
    finally:
        first.close()
        second.close()
    with database.connect() as conn:
        got = lookup_point(conn, *_point_in(conn, code))
        names = {s["name"] for s in got["staff"]}
        assert "先改" in names and got["party_org"]["name"] == "后改"
        assert _card_part(got) == _expected(conn, code)
        assert conn.scalar(text("SELECT card = grid_card(:g) FROM grid_cards WHERE grid_id = :g"), {"g": gid})


@pytest.mark.parametrize("statement", ["TRUNCATE staff_assignments", "TRUNCATE party_orgs CASCADE"])
def test_truncate_refreshes_the_cards(demo_conn, statement):
    code = _some_grids(demo_conn)[0]
    demo_conn.execute(text(statement))
    got = lookup_point(demo_conn, *_point_in(demo_conn, code))
    assert _card_part(got) == _expected(demo_conn, code)
