"""A small street for roster tests: one community, grids G1 | G2 | G3 side by side, a building in each."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import text

COMMUNITY = "110108014001"


def workbook(path: Path, header: list[str], rows: list[list]) -> str:
    """A real .xlsx written by openpyxl, as a street office's spreadsheet."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return str(path)


@pytest.fixture
def street(empty_db):
    """Community 110108014001 (116.30–116.33 E) with grids G1, G2, G3 (west to east) and building b1..b3."""
    with empty_db.begin() as conn:
        conn.execute(text(
            "INSERT INTO admin_areas (code, name, level, geom) VALUES (:c, '清华园社区', 'community', "
            "ST_Multi(ST_MakeEnvelope(116.30, 39.90, 116.33, 39.91, 4326)))"), {"c": COMMUNITY})
        for k in range(3):
            x = 116.30 + 0.01 * k
            conn.execute(text(
                "INSERT INTO grids (code, name, kind, community_id, geom) SELECT :code, :name, 'basic', id, "
                "ST_Multi(ST_MakeEnvelope(:x, 39.90, :x + 0.01, 39.91, 4326)) FROM admin_areas"),
                {"code": f"G{k + 1}", "name": f"第{k + 1}网格", "x": x})
            conn.execute(text(
                "INSERT INTO buildings (id, source_id, address, households, geom) "
                "VALUES (:i, :s, :a, 40, ST_SetSRID(ST_MakePoint(:x + 0.005, 39.905), 4326))"),
                {"i": k + 1, "s": f"b{k + 1}", "a": f"清华园{k + 1}号楼", "x": x})
        from geogrid.assign import assign_all

        assign_all(conn)
    return empty_db
