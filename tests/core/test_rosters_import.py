"""Rosters from real spreadsheets: Chinese headers and role names, all-or-nothing, re-imports that keep columns."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from geogrid.errors import InputError
from geogrid.importers import read_source
from geogrid.importers.rosters import import_building_leaders, import_party_orgs, import_staff
from tests.fixtures.rosters_street import workbook

STAFF_HEADER = ["工号", "姓名", "角色", "网格编码", "联系电话", "任职日期"]


def current(conn) -> set[tuple]:
    return set(
        conn.execute(
            text(
                "SELECT s.name, a.role, g.code FROM staff_assignments a JOIN staff s ON s.id = a.staff_id "
                "JOIN grids g ON g.id = a.grid_id WHERE a.end_date IS NULL AND a.building_id IS NULL"
            )
        ).all()
    )


def phones(conn) -> dict[str, str]:
    return dict(
        conn.execute(text("SELECT s.name, c.phone FROM staff s JOIN staff_contacts c ON c.staff_id = s.id")).all()
    )


def card(conn, code: str) -> dict:
    return json.loads(
        conn.scalar(
            text("SELECT c.card FROM grid_cards c JOIN grids g ON g.id = c.grid_id WHERE g.code = :c"), {"c": code}
        )
    )


def test_staff_xlsx_with_chinese_headers_and_roles(street, tmp_path):
    path = workbook(
        tmp_path / "网格员花名册.xlsx",
        STAFF_HEADER,
        [
            ["S1", "张三", "专职网格员", "G1", "13800000001", "2024-03-01"],
            ["S2", "李四", "专业网格员", "G1、G2,G3", 13900000002, None],
            ["S3", "王五", "网格长", "G2", None, "2023年9月1日"],
            ["S4", "赵六", "在职党员", None, None, None],
        ],
    )
    with street.begin() as conn:
        report = import_staff(conn, read_source(path, geometry=False), author="街道办")
        assert (report.rows, report.inserted) == (4, 4)
        assert current(conn) == {
            ("张三", "full_time_worker", "G1"),
            ("李四", "specialist", "G1"),
            ("李四", "specialist", "G2"),
            ("李四", "specialist", "G3"),
            ("王五", "grid_leader", "G2"),
        }
        assert phones(conn) == {"张三": "13800000001", "李四": "13900000002"}
        assert (
            conn.scalar(
                text(
                    "SELECT start_date::text FROM staff_assignments a JOIN staff s ON s.id = a.staff_id "
                    "WHERE s.name = '王五'"
                )
            )
            == "2023-09-01"
        )
        # The lookup card names the worker (no phone), in order of responsibility.
        assert card(conn, "G1")["staff"] == [
            {"role": "full_time_worker", "name": "张三"},
            {"role": "specialist", "name": "李四"},
        ]
        assert conn.scalar(text("SELECT author FROM roster_changes WHERE entity = 'staff'")) == "街道办"


def test_reimport_updates_by_key_and_never_blanks_columns_it_does_not_carry(street, tmp_path):
    with street.begin() as conn:
        import_staff(
            conn,
            read_source(
                workbook(
                    tmp_path / "a.xlsx",
                    STAFF_HEADER,
                    [
                        ["S1", "张三", "专职网格员", "G1", "13800000001", None],
                        ["S2", "李四", "专职网格员", "G2", "13900000002", None],
                    ],
                ),
                geometry=False,
            ),
        )
        # Phones only: assignments stay, names by key update.
        import_staff(
            conn,
            read_source(
                workbook(tmp_path / "b.xlsx", ["工号", "姓名", "联系电话"], [["S1", "张三丰", "13811111111"]]),
                geometry=False,
            ),
        )
        assert phones(conn) == {"张三丰": "13811111111", "李四": "13900000002"}
        assert current(conn) == {("张三丰", "full_time_worker", "G1"), ("李四", "full_time_worker", "G2")}
        # Grids without phones (CSV): the phone on record stays, S2 moves to G3 (G2 ended, kept as history).
        csv = tmp_path / "c.csv"
        csv.write_text("工号,姓名,岗位,所属网格\nS2,李四,专职网格员,G3\n", encoding="utf-8-sig")
        report = import_staff(conn, read_source(csv, geometry=False))
        assert (report.extra["assignments_started"], report.extra["assignments_ended"]) == (1, 1)
        assert phones(conn)["李四"] == "13900000002"
        assert current(conn) == {("张三丰", "full_time_worker", "G1"), ("李四", "full_time_worker", "G3")}
        assert conn.scalar(text("SELECT count(*) FROM staff_assignments WHERE end_date IS NOT NULL")) == 1
        assert conn.scalar(text("SELECT count(*) FROM staff")) == 2


@pytest.mark.parametrize(
    ("rows", "row", "field", "words"),
    [
        ([["S1", "张三", "专职网格员", "G1", None, None], ["S2", "李四", "保安", "G1", None, None]], 3, "角色", "保安"),
        ([["S1", "张三", "专职网格员", "G9", None, None]], 2, "网格编码", "G9"),
        ([["S1", None, "专职网格员", "G1", None, None]], 2, "姓名", "name"),
        ([["S1", "张三", "专职网格员", "G1", None, "2099-01-01"]], 2, "任职日期", "future"),
        ([["S1", "张三", "专职网格员", "G1", None, "去年"]], 2, "任职日期", "去年"),
    ],
)
def test_a_bad_row_names_file_row_and_column_and_writes_nothing(
    street, tmp_path, settings_env, rows, row, field, words
):
    settings_env("GEOGRID_LANG", "en")
    path = workbook(tmp_path / "bad.xlsx", STAFF_HEADER, rows)
    with pytest.raises(InputError) as err, street.begin() as conn:
        import_staff(conn, read_source(path, geometry=False))
    assert (err.value.row, err.value.field) == (row, field)
    assert "bad.xlsx" in str(err.value) and words in str(err.value)
    with street.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM staff")) == 0
        assert conn.scalar(text("SELECT count(*) FROM staff_assignments")) == 0


def test_party_orgs_with_levels_parents_and_partial_reimport(street, tmp_path):
    header = ["党组织名称", "级别", "上级党组织", "网格编码", "社区", "书记", "党员人数"]
    with street.begin() as conn:
        import_party_orgs(
            conn,
            read_source(
                workbook(
                    tmp_path / "党组织.xlsx",
                    header,
                    [
                        ["清华园社区党委", "社区党委", None, None, "110108014001", "周书记", 120],
                        ["第一网格党支部", "网格党支部", "清华园社区党委", "G1", None, "吴书记", 18],
                        ["第二网格党支部", "网格党支部", "清华园社区党委", "G2", None, "郑书记", 15],
                    ],
                ),
                geometry=False,
            ),
        )
        rows = {
            r.name: r
            for r in conn.execute(
                text(
                    "SELECT p.name, p.level, q.name AS parent, g.code, p.secretary, p.member_count FROM party_orgs p "
                    "LEFT JOIN party_orgs q ON q.id = p.parent_id LEFT JOIN grids g ON g.id = p.grid_id"
                )
            )
        }
        assert rows["第一网格党支部"][1:] == ("grid_branch", "清华园社区党委", "G1", "吴书记", 18)
        assert rows["清华园社区党委"].level == "community_committee"
        assert card(conn, "G2")["party_org"] == {"name": "第二网格党支部", "level": "grid_branch"}
        # Member counts only: secretaries, grids and parents stay.
        import_party_orgs(
            conn,
            read_source(
                workbook(tmp_path / "人数.xlsx", ["党组织名称", "党员人数"], [["第一网格党支部", 20]]), geometry=False
            ),
        )
        row = conn.execute(
            text(
                "SELECT secretary, member_count, parent_id IS NOT NULL, grid_id IS NOT NULL "
                "FROM party_orgs WHERE name = '第一网格党支部'"
            )
        ).one()
        assert tuple(row) == ("吴书记", 20, True, True)
        assert conn.scalar(text("SELECT count(*) FROM party_orgs")) == 3


def test_building_leaders_take_their_buildings_grid_and_households(street, tmp_path):
    header = ["姓名", "角色", "楼栋编号", "联系户数", "联系电话"]
    with street.begin() as conn:
        import_building_leaders(
            conn,
            read_source(
                workbook(
                    tmp_path / "楼栋长.xlsx",
                    header,
                    [["孙七", "楼栋长", "b2", 40, "13700000007"], ["钱八", "党员中心户", "b2", 9, None]],
                ),
                geometry=False,
            ),
        )
        rows = set(
            conn.execute(
                text(
                    "SELECT s.name, a.role, g.code, a.households FROM staff_assignments a "
                    "JOIN staff s ON s.id = a.staff_id JOIN grids g ON g.id = a.grid_id WHERE a.building_id = 2"
                )
            ).all()
        )
        assert rows == {("孙七", "building_leader", "G2", 40), ("钱八", "party_central_household", "G2", 9)}
        assert card(conn, "G2")["staff"] == []  # building leaders are not the grid's workers


def test_errors_in_a_subset_of_rows_name_the_row_of_the_file():
    """Party organisations look up buildings only for the rows that name one: an error there names the row as
    the spreadsheet shows it, not its place among those rows."""
    import numpy as np
    import pandas as pd

    from geogrid.errors import InputError
    from geogrid.importers.read import Source
    from geogrid.importers.rosters import _subset

    source = Source(pd.DataFrame({"building": [None, "b1", None, "b2", "b3"]}), "orgs.csv", "EPSG:4326", 2)
    sub = _subset(source, np.array([False, True, False, True, True]))
    assert len(sub) == 3
    with pytest.raises(InputError) as raised:
        sub.fail(1, "unknown building", "building")
    assert "row 5" in str(raised.value) and "orgs.csv" in str(raised.value)  # record 3 of the file, first row 2
    assert sub.source_ids(None)[2] == "orgs.csv#6"
