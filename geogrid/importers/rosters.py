"""Rosters from the spreadsheets street offices keep (.xlsx or CSV): staff, party organisations, building leaders.

Chinese headers (姓名, 角色, 网格编码, 联系电话, ...) and Chinese role and level names (专职网格员, 网格党支部, ...)
are recognised without options. Re-importing updates by key (the id column, else the name) and never blanks a
column the file does not carry: a staff file without phones keeps the phones on record, one without grid codes
keeps the assignments. Where the file does carry grid codes, it is the word on that person's grid roles: missing
roles end (dated today, kept in the history), new ones start on the file's start date or today.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

from geogrid.errors import InputError
from geogrid.i18n import t
from geogrid.importers.read import Source
from geogrid.importers.residents import building_ids
from geogrid.importers.upsert import ImportReport
from geogrid.model import PARTY_ORG_LEVELS, STAFF_ROLES
from geogrid.rosters import log_change

ROLE_NAMES = {
    "网格长": "grid_leader",
    "专职网格员": "full_time_worker",
    "网格员": "full_time_worker",
    "兼职网格员": "part_time_worker",
    "专业网格员": "specialist",
    "楼栋长": "building_leader",
    "楼长": "building_leader",
    "党员中心户": "party_central_household",
    "网格党建指导员": "party_instructor",
    "党建指导员": "party_instructor",
    "在职党员": "employed_party_member",
}
LEVEL_NAMES = {
    "街道党工委": "street_committee",
    "党工委": "street_committee",
    "社区党委": "community_committee",
    "社区党总支": "community_committee",
    "社区党支部": "community_committee",
    "网格党支部": "grid_branch",
    "小区党支部": "grid_branch",
    "党支部": "grid_branch",
    "楼栋党小组": "building_group",
    "党小组": "building_group",
}
GRID_ROLES = tuple(r for r in STAFF_ROLES if r not in ("building_leader", "party_central_household"))
SPLIT = re.compile(r"[;,，、|/；\s]+")


def import_staff(
    conn: Connection,
    source: Source,
    *,
    id_field: str | None = None,
    name_field: str | None = None,
    role_field: str | None = None,
    grid_field: str | None = None,
    phone_field: str | None = None,
    start_field: str | None = None,
    author: str | None = None,
) -> ImportReport:
    """Staff, their phones and their grid roles (a specialist's several grids in one cell: 0101、0102)."""
    names = _names(source, name_field)
    role_col, grid_col = source.column(role_field, "role"), source.column(grid_field, "grids")
    if grid_col and not role_col:
        raise InputError(
            t("grid codes need a role column (角色): name it with --role-field"), file=source.file, field=grid_col
        )
    roles = _choices(source, role_col, ROLE_NAMES, STAFF_ROLES, "full_time_worker")
    source.first_bad(
        np.isin(roles, ("building_leader", "party_central_household")) & bool(grid_col),
        lambda i: t("building leaders go in `geogrid import building-leaders`"),
        role_col,
    )
    grids = _grid_lists(conn, source, grid_col)
    starts = _dates(source, source.column(start_field, "start_date"))
    staff, new = _upsert_staff(conn, source, names, source.column(id_field, "staff_id"))
    phones = _phones(conn, source, staff, source.column(phone_field, "phone"))
    started = ended = 0
    if grid_col:
        wanted = pd.DataFrame(
            [(staff[i], roles[i], g, starts[i]) for i in range(len(source)) for g in grids[i]],
            columns=["staff_id", "role", "grid_id", "start_date"],
        ).drop_duplicates(["staff_id", "role", "grid_id"])
        started, ended = _replace_assignments(conn, np.unique(staff), wanted, author)
    source.tick(len(source))
    log_change(
        conn,
        author,
        "import",
        "staff",
        None,
        None,
        {"file": source.file, "rows": len(source), "started": started, "ended": ended},
    )
    return ImportReport(
        t("staff"),
        len(source),
        updated=len(set(staff.tolist())) - new,
        inserted=new,
        phones=phones,
        assignments_started=started,
        assignments_ended=ended,
    )


def import_building_leaders(
    conn: Connection,
    source: Source,
    *,
    id_field: str | None = None,
    name_field: str | None = None,
    role_field: str | None = None,
    building_field: str | None = None,
    address_field: str | None = None,
    households_field: str | None = None,
    phone_field: str | None = None,
    start_field: str | None = None,
    author: str | None = None,
) -> ImportReport:
    """楼栋长 and 党员中心户 with their building and the households they look after (their grid is the building's)."""
    names = _names(source, name_field)
    roles = _choices(source, source.column(role_field, "role"), ROLE_NAMES, STAFF_ROLES, "building_leader")
    source.first_bad(
        ~np.isin(roles, ("building_leader", "party_central_household")),
        lambda i: t("'{role}' is not a building leader or 党员中心户", role=roles[i]),
        role_field,
    )
    buildings = building_ids(conn, source, building_field, address_field)
    households = source.integers(source.column(households_field, "cared_households"))
    starts = _dates(source, source.column(start_field, "start_date"))
    staff, new = _upsert_staff(conn, source, names, source.column(id_field, "staff_id"))
    phones = _phones(conn, source, staff, source.column(phone_field, "phone"))
    rows = pd.DataFrame(
        {"staff_id": staff, "role": roles, "building_id": buildings, "households": households, "start_date": starts}
    )
    updated = conn.execute(
        text(
            "UPDATE staff_assignments a SET households = coalesce(v.h, a.households) "
            "FROM unnest(CAST(:s AS int[]), CAST(:r AS text[]), CAST(:b AS bigint[]), CAST(:h AS int[])) v(s, r, b, h) "
            "WHERE a.staff_id = v.s AND a.role = v.r AND a.building_id = v.b AND a.end_date IS NULL"
        ),
        _params(rows),
    ).rowcount
    inserted = conn.execute(
        text(
            "INSERT INTO staff_assignments (staff_id, role, building_id, grid_id, households, start_date, author) "
            "SELECT v.s, v.r, v.b, ba.grid_id, v.h, coalesce(v.d, current_date), :a "
            "FROM unnest(CAST(:s AS int[]), CAST(:r AS text[]), CAST(:b AS bigint[]), CAST(:h AS int[]), "
            "            CAST(:d AS date[])) v(s, r, b, h, d) "
            "LEFT JOIN building_assignments ba ON ba.building_id = v.b "
            "WHERE NOT EXISTS (SELECT 1 FROM staff_assignments a WHERE a.staff_id = v.s AND a.role = v.r "
            "                  AND a.building_id = v.b AND a.end_date IS NULL)"
        ),
        {**_params(rows), "d": list(starts), "a": author},
    ).rowcount
    source.tick(len(source))
    log_change(conn, author, "import", "building_leaders", None, None, {"file": source.file, "rows": len(source)})
    return ImportReport(
        t("building leaders"), len(source), updated=updated, inserted=inserted, new_staff=new, phones=phones
    )


def import_party_orgs(
    conn: Connection,
    source: Source,
    *,
    id_field: str | None = None,
    name_field: str | None = None,
    level_field: str | None = None,
    parent_field: str | None = None,
    grid_field: str | None = None,
    community_field: str | None = None,
    building_field: str | None = None,
    secretary_field: str | None = None,
    members_field: str | None = None,
    author: str | None = None,
) -> ImportReport:
    """Party organisations by key (id column, else name); parents by key or name, in the file or on record."""
    name_col = source.column(name_field, "org_name", required=True, option="--name-field")
    names = source.text(name_col)
    source.first_bad(names == None, lambda i: t("name is missing"), name_col)  # noqa: E711
    id_col = source.column(id_field, "staff_id")
    keys = source.text(id_col) if id_col else names
    source.first_bad(
        pd.Series(keys).duplicated().to_numpy(),
        lambda i: t("source id '{id}' appears twice in the file", id=keys[i]),
        id_col or name_col,
    )
    level_col = source.column(level_field, "org_level")
    cols: dict[str, object] = {"name": names}
    if level_col:
        cols["level"] = _choices(source, level_col, LEVEL_NAMES, PARTY_ORG_LEVELS, None)
    grid_col = source.column(grid_field, "grids")
    if grid_col:
        grids = _grid_lists(conn, source, grid_col)
        source.first_bad(
            np.asarray([len(g) > 1 for g in grids]), lambda i: t("a party organisation belongs to one grid"), grid_col
        )
        cols["grid_id"] = [g[0] if g else None for g in grids]
    community_col = source.column(community_field, "community")
    if community_col:
        cols["area_id"] = _area_ids(conn, source, community_col)
    building_col = source.column(building_field, "building")
    if building_col:
        present = source.text(building_col) != None  # noqa: E711
        ids = np.full(len(source), None, dtype=object)
        if present.any():
            ids[present] = building_ids(conn, _subset(source, present), building_col, None)
        cols["building_id"] = ids
    for key, given, column in (("secretary", secretary_field, "secretary"), ("member_count", members_field, "members")):
        col = source.column(given, column)
        if col:
            cols[key] = source.integers(col) if key == "member_count" else source.text(col)
    existing = _existing_orgs(conn, keys, by_name=id_col is None)
    inserted = _write_orgs(conn, source, keys, existing, cols, id_col is not None)
    parent_col = source.column(parent_field, "parent")
    if parent_col:
        _link_parents(conn, source, keys, parent_col)
    source.tick(len(source))
    log_change(conn, author, "import", "party_orgs", None, None, {"file": source.file, "rows": len(source)})
    return ImportReport(t("party organisations"), len(source), updated=len(source) - inserted, inserted=inserted)


def _names(source: Source, given: str | None) -> np.ndarray:
    col = source.column(given, "person", required=True, option="--name-field")
    names = source.text(col)
    source.first_bad(names == None, lambda i: t("name is missing"), col)  # noqa: E711
    return names


def _choices(
    source: Source, column: str | None, names: dict[str, str], allowed: tuple[str, ...], default: str | None
) -> np.ndarray:
    """A role or level per row: Chinese names or the English keys; ``default`` where empty."""
    values = source.text(column)
    out = np.asarray([names.get(v, v.lower().replace(" ", "_")) if v else default for v in values], dtype=object)
    source.first_bad(
        (out != None) & ~np.isin(out.astype(str), allowed),  # noqa: E711
        lambda i: t("unknown value '{value}': use one of {allowed}", value=values[i], allowed=list(names)),
        column,
    )
    if default is None:
        source.first_bad(out == None, lambda i: t("value is missing"), column)  # noqa: E711
    return out


def _grid_lists(conn: Connection, source: Source, column: str | None) -> list[list[int]]:
    """The grids in force named in each row (several codes split by 、 , ; or spaces)."""
    values = source.text(column)
    codes = [[c for c in SPLIT.split(v or "") if c] for v in values]
    found: dict[str, int] = dict(
        conn.execute(
            text("SELECT code, id FROM grids WHERE valid_to IS NULL AND code = ANY(:c)"),
            {"c": sorted({c for row in codes for c in row})},
        ).all()
    )
    source.first_bad(
        np.asarray([any(c not in found for c in row) for row in codes]),
        lambda i: t("no grid in force with code '{code}'", code=next(c for c in codes[i] if c not in found)),
        column,
    )
    return [[found[c] for c in row] for row in codes]


def _area_ids(conn: Connection, source: Source, column: str) -> np.ndarray:
    values = source.text(column)
    found: dict[str, int] = dict(
        conn.execute(
            text("SELECT code, id FROM admin_areas WHERE code = ANY(:c) OR name = ANY(:c)"),
            {"c": sorted({v for v in values if v})},
        ).all()
    )
    found |= dict(
        conn.execute(
            text("SELECT name, id FROM admin_areas WHERE name = ANY(:c)"), {"c": sorted({v for v in values if v})}
        ).all()
    )
    source.first_bad(
        np.asarray([v is not None and v not in found for v in values]),
        lambda i: t("no area with code or name '{code}'", code=values[i]),
        column,
    )
    return np.asarray([found.get(v) for v in values], dtype=object)


def _dates(source: Source, column: str | None) -> np.ndarray:
    """Dates as Excel or people write them (2024-03-01, 2024/3/1, 2024.3.1, 2024年3月1日); none in the future."""
    values = source.text(column)
    out = np.full(len(source), None, dtype=object)
    for i, value in enumerate(values):
        if value is None:
            continue
        cleaned = re.sub(r"[年月./]", "-", value).replace("日", "").split(" ")[0]
        try:
            out[i] = date.fromisoformat("-".join(p.zfill(2) for p in cleaned.split("-")))
        except ValueError:
            source.fail(i, t("'{value}' is not a date (write 2024-03-01)", value=value), column)
        if out[i] > date.today():
            source.fail(i, t("{day} is in the future", day=out[i].isoformat()), column)
    return out


def _upsert_staff(conn: Connection, source: Source, names: np.ndarray, id_col: str | None) -> tuple[np.ndarray, int]:
    """Staff id per row (by the id column, else by name); returns the ids and how many are new."""
    keys = source.text(id_col) if id_col else names
    source.first_bad(keys == None, lambda i: t("id is missing"), id_col)  # noqa: E711
    by = "source_id" if id_col else "name"
    rows = conn.execute(
        text(f"SELECT {by}, min(id), count(*) FROM staff WHERE {by} = ANY(:k) GROUP BY {by}"), {"k": sorted(set(keys))}
    ).all()
    found = {k: i for k, i, _ in rows}
    ambiguous = {k for k, _, n in rows if n > 1}
    source.first_bad(
        np.asarray([k in ambiguous for k in keys]),
        lambda i: t("'{name}' matches several staff: add an id column (工号)", name=keys[i]),
        id_col,
    )
    first = ~pd.Series(keys).duplicated().to_numpy()
    new = [i for i in np.flatnonzero(first) if keys[i] not in found]
    for i in new:
        found[keys[i]] = conn.scalar(
            text("INSERT INTO staff (name, source_id) VALUES (:n, :s) RETURNING id"),
            {"n": names[i], "s": keys[i] if id_col else None},
        )
    if id_col:
        conn.execute(
            text(
                "UPDATE staff s SET name = v.n FROM unnest(CAST(:i AS int[]), CAST(:n AS text[])) v(i, n) "
                "WHERE s.id = v.i AND s.name <> v.n"
            ),
            {"i": [found[keys[i]] for i in np.flatnonzero(first)], "n": list(names[first])},
        )
    return np.asarray([found[k] for k in keys], dtype=np.int64), len(new)


def _phones(conn: Connection, source: Source, staff: np.ndarray, column: str | None) -> int:
    """Phones where the file gives one; an empty cell or a file without phones keeps the phone on record."""
    phones = source.text(column)
    given = phones != None  # noqa: E711
    if not given.any():
        return 0
    return conn.execute(
        text(
            "INSERT INTO staff_contacts (staff_id, phone) SELECT DISTINCT ON (i) i, p "
            "FROM unnest(CAST(:i AS int[]), CAST(:p AS text[])) v(i, p) "
            "ON CONFLICT (staff_id) DO UPDATE SET phone = excluded.phone"
        ),
        {"i": staff[given].tolist(), "p": list(phones[given])},
    ).rowcount


def _replace_assignments(
    conn: Connection, staff: np.ndarray, wanted: pd.DataFrame, author: str | None
) -> tuple[int, int]:
    """Make the current grid roles of ``staff`` the ``wanted`` ones: end the others today, start the new."""
    current = pd.DataFrame(
        conn.execute(
            text(
                "SELECT id, staff_id, role, grid_id FROM staff_assignments WHERE staff_id = ANY(:s) "
                "AND end_date IS NULL AND building_id IS NULL AND role = ANY(:r)"
            ),
            {"s": staff.tolist(), "r": list(GRID_ROLES)},
        ).all(),
        columns=["id", "staff_id", "role", "grid_id"],
    )
    both = current.merge(wanted, how="outer", on=["staff_id", "role", "grid_id"], indicator=True)
    gone = both.loc[both["_merge"] == "left_only", "id"].astype(int).tolist()
    new = both[both["_merge"] == "right_only"]
    if gone:
        conn.execute(
            text(
                "UPDATE staff_assignments SET end_date = greatest(current_date, start_date), ended_by = :a "
                "WHERE id = ANY(:i)"
            ),
            {"i": gone, "a": author},
        )
    if len(new):
        conn.execute(
            text(
                "INSERT INTO staff_assignments (staff_id, role, grid_id, start_date, author) "
                "SELECT s, r, g, coalesce(d, current_date), :a FROM unnest(CAST(:s AS int[]), CAST(:r AS text[]), "
                "CAST(:g AS int[]), CAST(:d AS date[])) v(s, r, g, d)"
            ),
            {
                "s": new["staff_id"].astype(int).tolist(),
                "r": new["role"].tolist(),
                "g": new["grid_id"].astype(int).tolist(),
                "d": [None if pd.isna(d) else d for d in new["start_date"]],
                "a": author,
            },
        )
    return len(new), len(gone)


def _params(rows: pd.DataFrame) -> dict:
    return {
        "s": rows["staff_id"].astype(int).tolist(),
        "r": rows["role"].tolist(),
        "b": rows["building_id"].astype(int).tolist(),
        "h": [None if h is None else int(h) for h in rows["households"]],
    }


def _subset(source: Source, mask: np.ndarray) -> Source:
    """The rows in ``mask``, keeping their user-facing row numbers for errors."""
    kept = np.flatnonzero(mask)
    rows = np.array([source.row(int(i)) for i in kept], dtype=np.int64)
    return Source(source.frame.iloc[kept].reset_index(drop=True), source.file, source.crs, source.first_row, rows=rows)


def _existing_orgs(conn: Connection, keys: np.ndarray, by_name: bool) -> dict[str, int]:
    by = "name" if by_name else "source_id"
    return dict(
        conn.execute(
            text(f"SELECT DISTINCT ON ({by}) {by}, id FROM party_orgs WHERE {by} = ANY(:k) ORDER BY {by}, id"),
            {"k": sorted(set(keys))},
        ).all()
    )


def _write_orgs(
    conn: Connection, source: Source, keys: np.ndarray, existing: dict[str, int], cols: dict[str, Any], keyed: bool
) -> int:
    """Update the carried columns of known organisations; insert the others (a level is needed for those)."""
    inserted = 0
    for i, key in enumerate(keys):
        values = {c: _plain(v[i]) for c, v in cols.items()}
        if key in existing:
            sets = ", ".join(f"{c} = :{c}" for c in values)
            conn.execute(text(f"UPDATE party_orgs SET {sets} WHERE id = :id"), {**values, "id": existing[key]})
            continue
        if values.get("level") is None:
            source.fail(i, t("a new party organisation needs its level (级别)"), "level")
        values["source_id"] = key if keyed else None
        names = ", ".join(values)
        existing[key] = conn.scalar(
            text(f"INSERT INTO party_orgs ({names}) VALUES ({', '.join(':' + c for c in values)}) RETURNING id"), values
        )
        inserted += 1
    return inserted


def _link_parents(conn: Connection, source: Source, keys: np.ndarray, column: str) -> None:
    """Each row's parent by key or name; an empty cell keeps the parent on record."""
    parents = source.text(column)
    for i, parent in enumerate(parents):
        if parent is None:
            continue
        pid = conn.scalar(
            text(
                "SELECT id FROM party_orgs WHERE source_id = :p OR name = :p ORDER BY source_id = :p DESC, id LIMIT 1"
            ),
            {"p": parent},
        )
        if pid is None:
            source.fail(i, t("no party organisation '{name}'", name=parent), column)
        conn.execute(
            text(
                "UPDATE party_orgs SET parent_id = :p WHERE (source_id = :k OR (source_id IS NULL AND "
                "name = :k)) AND id <> :p"
            ),
            {"p": pid, "k": keys[i]},
        )


def _plain(value: object) -> object:
    """numpy scalars and pandas NA as the plain values the driver takes."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value
