"""Rosters and special-group ledgers (台账) as tables and as the .xlsx workbooks street offices file.

These carry personal data (phones, residents' names): the CLI writes them (``geogrid export roster|ledger -o
FILE.xlsx``) and the API serves the ledger to signed-in staff of the place only (``GET /ledger``, ``/ledger.xlsx``:
the same workbook). Maps show only the per-group counts of :mod:`geogrid.figures` (``maps.data.special_counts``:
small ones suppressed for the public).
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pandas as pd
from pydantic import BaseModel
from sqlalchemy import Connection

from geogrid.db.bulk import query_frame
from geogrid.errors import GeogridError
from geogrid.i18n import t
from geogrid.scope import Scope, resolve_scope

GROUP_NAMES = {
    "elderly_alone": "独居老人",
    "disabled": "残疾人",
    "hardship": "困难家庭",
    "left_behind_child": "留守儿童",
    "left_behind_elderly": "留守老人",
    "bereaved_parents": "失独家庭",
    "home_isolation": "居家隔离",
}
ROLE_NAMES = {
    "grid_leader": "网格长",
    "full_time_worker": "专职网格员",
    "part_time_worker": "兼职网格员",
    "specialist": "专业网格员",
    "building_leader": "楼栋长",
    "party_central_household": "党员中心户",
    "party_instructor": "网格党建指导员",
    "employed_party_member": "在职党员",
}
LEVEL_NAMES = {
    "street_committee": "街道党工委",
    "community_committee": "社区党委",
    "grid_branch": "网格党支部",
    "building_group": "楼栋党小组",
}

_SCOPE = "(CAST(:community AS text) IS NULL OR c.code = :community OR c.name = :community)"

ROSTER_SQL = f"""
SELECT c.name AS "社区", g.code AS "网格编码", g.name AS "网格名称", s.name AS "姓名", a.role AS "角色",
       sc.phone AS "联系电话", coalesce(b.address, b.name) AS "楼栋", a.households AS "联系户数",
       a.start_date AS "任职日期"
  FROM staff_assignments a JOIN staff s ON s.id = a.staff_id LEFT JOIN staff_contacts sc ON sc.staff_id = s.id
  LEFT JOIN grids g ON g.id = a.grid_id LEFT JOIN admin_areas c ON c.id = g.community_id
  LEFT JOIN buildings b ON b.id = a.building_id
 WHERE a.end_date IS NULL AND {_SCOPE}
 ORDER BY c.code, g.code, array_position(CAST(:roles AS text[]), CAST(a.role AS text)), s.name
"""

ORGS_SQL = """
SELECT coalesce(c.name, ca.name) AS "社区", p.name AS "党组织名称", p.level AS "级别", pp.name AS "上级党组织",
       g.code AS "网格编码", p.secretary AS "书记", p.member_count AS "党员人数"
  FROM party_orgs p LEFT JOIN party_orgs pp ON pp.id = p.parent_id LEFT JOIN grids g ON g.id = p.grid_id
  LEFT JOIN admin_areas c ON c.id = g.community_id LEFT JOIN admin_areas ca ON ca.id = p.area_id
 WHERE CAST(:community AS text) IS NULL OR coalesce(c.code, ca.code) = :community
       OR coalesce(c.name, ca.name) = :community
 ORDER BY 1, p.level, g.code, p.id
"""

LEDGER_SQL = """
SELECT c.name AS "社区", g.code AS "网格编码", coalesce(b.address, b.name, b.source_id) AS "楼栋",
       h.unit AS "单元", h.room AS "房号", p.name AS "姓名", p.phone AS "联系电话", r.special_groups AS groups,
       (SELECT string_agg(s.name, '、' ORDER BY s.name) FROM staff_assignments a JOIN staff s ON s.id = a.staff_id
         WHERE a.grid_id = g.id AND a.end_date IS NULL AND a.building_id IS NULL
           AND a.role IN ('full_time_worker', 'grid_leader')) AS "负责网格员",
       (SELECT string_agg(s.name, '、' ORDER BY s.name) FROM staff_assignments a JOIN staff s ON s.id = a.staff_id
         WHERE a.building_id = b.id AND a.end_date IS NULL) AS "楼栋长"
  FROM residents r JOIN buildings b ON b.id = r.building_id JOIN households h ON h.id = r.household_id
  LEFT JOIN resident_personal p ON p.resident_id = r.id
  LEFT JOIN building_assignments ba ON ba.building_id = b.id LEFT JOIN grids g ON g.id = ba.grid_id
  LEFT JOIN admin_areas c ON c.id = g.community_id
 WHERE cardinality(r.special_groups) > 0 AND {where}
 ORDER BY c.code, g.code, 3, h.unit, h.room, r.id
"""


def roster(conn: Connection, community: str | None = None) -> dict[str, pd.DataFrame]:
    """Current staff (with phones) and party organisations, as sheets named in Chinese."""
    staff = query_frame(conn, ROSTER_SQL, {"community": community, "roles": list(ROLE_NAMES)})
    staff["角色"] = staff["角色"].map(ROLE_NAMES)
    orgs = query_frame(conn, ORGS_SQL, {"community": community})
    orgs["级别"] = orgs["级别"].map(LEVEL_NAMES)
    return {"网格人员": staff, "党组织": orgs}


class LedgerEntry(BaseModel):
    """One resident of a special group in the ledger (personal data: staff of the place only)."""

    community: str | None
    grid_code: str | None
    building: str | None
    unit: str | None
    room: str | None
    name: str | None
    phone: str | None
    groups: list[str]
    worker: str | None
    building_leader: str | None


class LedgerCount(BaseModel):
    """Residents per special group in one grid."""

    community: str | None
    grid_code: str | None
    counts: dict[str, int]


class Ledger(BaseModel):
    """The special-group ledger of a place (a community, street, district or grid; the city when None)."""

    place: str | None
    on: date
    entries: list[LedgerEntry]
    by_grid: list[LedgerCount]


_ENTRY_COLUMNS = {
    "社区": "community",
    "网格编码": "grid_code",
    "楼栋": "building",
    "单元": "unit",
    "房号": "room",
    "姓名": "name",
    "联系电话": "phone",
    "负责网格员": "worker",
    "楼栋长": "building_leader",
}


def _place(conn: Connection, place: str | Scope | None) -> Scope:
    return place if isinstance(place, Scope) else resolve_scope(conn, place)


def _rows(conn: Connection, scope: Scope) -> pd.DataFrame:
    return query_frame(conn, LEDGER_SQL.format(where=scope.where("g.id")), scope.params())


def ledger(conn: Connection, place: str | Scope | None = None) -> dict[str, pd.DataFrame]:
    """The special-group ledger: every resident in a special group, with building and the staff responsible;
    one sheet for all and one of counts per grid. ``place`` is any place :func:`resolve_scope` knows."""
    rows = _rows(conn, _place(conn, place))
    names = ["、".join(GROUP_NAMES.get(g, g) for g in gs) for gs in rows.pop("groups")]
    rows.insert(7, "特殊群体", pd.Series(names, index=rows.index, dtype=object))  # text even when empty
    exploded = rows.assign(g=rows["特殊群体"].str.split("、")).explode("g")
    counts = (
        exploded.groupby(["社区", "网格编码", "g"], dropna=False).size().unstack("g", fill_value=0).reset_index()
        if len(rows)
        else pd.DataFrame(columns=["社区", "网格编码"])
    )
    counts.columns.name = None
    return {"特殊群体台账": rows, "分网格统计": counts}


def _text(value: object) -> str | None:
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def ledger_entries(conn: Connection, place: str | Scope | None = None) -> Ledger:
    """The ledger as typed entries (groups by their codes, e.g. ``elderly_alone``) and counts per grid."""
    scope = _place(conn, place)
    rows = _rows(conn, scope)
    entries = [
        LedgerEntry(groups=list(r["groups"]), **{en: _text(r[zh]) for zh, en in _ENTRY_COLUMNS.items()})
        for r in rows.to_dict("records")
    ]
    counts: dict[tuple, dict[str, int]] = {}
    for e in entries:
        per = counts.setdefault((e.community, e.grid_code), {})
        for g in e.groups:
            per[g] = per.get(g, 0) + 1
    by_grid = [LedgerCount(community=c, grid_code=g, counts=n) for (c, g), n in counts.items()]
    return Ledger(place=scope.ref, on=date.today(), entries=entries, by_grid=by_grid)


def _sheets(conn: Connection, what: str, place: str | Scope | None) -> dict[str, pd.DataFrame]:
    if what not in ("roster", "ledger"):
        raise GeogridError(t("unknown export '{what}': use roster or ledger", what=what))
    if what == "roster":
        return roster(conn, place.ref if isinstance(place, Scope) else place)
    return ledger(conn, place)


def _xlsx(sheets: dict[str, pd.DataFrame]) -> bytes:
    out = io.BytesIO()
    with pd.ExcelWriter(out, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)
    return out.getvalue()


def workbook_bytes(conn: Connection, what: str, place: str | Scope | None = None) -> bytes:
    """The ``roster`` or ``ledger`` workbook as .xlsx bytes: what ``geogrid export`` writes and the API sends."""
    return _xlsx(_sheets(conn, what, place))


def write_workbook(conn: Connection, what: str, output: Path, community: str | None = None) -> int:
    """Write ``roster`` or ``ledger`` to an .xlsx file; returns the rows of its first sheet."""
    sheets = _sheets(conn, what, community)
    if output.suffix.lower() != ".xlsx":
        raise GeogridError(t("rosters and ledgers are written as .xlsx, not '{suffix}'", suffix=output.suffix))
    output.write_bytes(_xlsx(sheets))
    return len(next(iter(sheets.values())))
