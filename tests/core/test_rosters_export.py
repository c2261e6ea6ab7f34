"""The roster and the special-group ledger (台账) as .xlsx workbooks, from the CLI only."""

from __future__ import annotations

import openpyxl
from sqlalchemy import text
from typer.testing import CliRunner

from geogrid.cli import application


def sheets(path) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(path, read_only=True)
    return {name: list(book[name].iter_rows(values_only=True)) for name in book.sheetnames}


def test_ledger_lists_special_groups_with_building_and_staff_responsible(demo_city, database, tmp_path):
    community = "110108600001"
    out = tmp_path / "台账.xlsx"
    result = CliRunner().invoke(application(), ["export", "ledger", "-o", str(out), "--community", community])
    assert result.exit_code == 0, result.output
    book = sheets(out)
    header, *rows = book["特殊群体台账"]
    assert header[:8] == ("社区", "网格编码", "楼栋", "单元", "房号", "姓名", "联系电话", "特殊群体")
    with database.connect() as conn:
        expected = conn.scalar(
            text(
                "SELECT count(*) FROM residents r JOIN building_assignments a ON a.building_id = r.building_id "
                "JOIN grids g ON g.id = a.grid_id JOIN admin_areas c ON c.id = g.community_id "
                "WHERE c.code = :c AND cardinality(r.special_groups) > 0"
            ),
            {"c": community},
        )
        worker = conn.scalar(
            text(
                "SELECT s.name FROM staff_assignments a JOIN staff s ON s.id = a.staff_id "
                "JOIN grids g ON g.id = a.grid_id WHERE g.code = :g AND a.role = 'full_time_worker'"
            ),
            {"g": rows[0][1]},
        )
    assert len(rows) == expected > 0
    assert all(r[1].startswith(community) and r[7] for r in rows)
    assert worker in rows[0][8]
    counts_header, *counts = book["分网格统计"]
    assert "独居老人" in counts_header
    assert sum(sum(v for v in r[2:] if isinstance(v, int)) for r in counts) >= len(rows)


def test_roster_has_phones_and_party_orgs_and_refuses_other_formats(demo_city, database, tmp_path):
    out = tmp_path / "花名册.xlsx"
    result = CliRunner().invoke(application(), ["export", "roster", "-o", str(out)])
    assert result.exit_code == 0, result.output
    book = sheets(out)
    header, *rows = book["网格人员"]
    with database.connect() as conn:
        phone = conn.scalar(text("SELECT phone FROM staff_contacts ORDER BY staff_id LIMIT 1"))
        current = conn.scalar(text("SELECT count(*) FROM staff_assignments WHERE end_date IS NULL"))
    assert "联系电话" in header and len(rows) == current
    assert phone in {r[header.index("联系电话")] for r in rows}
    assert {r[header.index("角色")] for r in rows} >= {"专职网格员", "网格长"}
    assert len(book["党组织"]) > 1
    bad = CliRunner().invoke(application(), ["export", "ledger", "-o", str(tmp_path / "x.csv")])
    assert bad.exit_code != 0
