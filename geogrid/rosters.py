"""Rosters: who works each grid and which party organisation is attached to it, now and on any past date.

Every change is dated and attributed: an assignment runs from ``start_date`` to ``end_date`` (the last day
served) and is never deleted, and ``roster_changes`` logs who did what. Core functions take a connection; the
caller owns the transaction. Public shapes (``StaffPublic``, ``Responsible``) carry names and roles only —
staff names and roles are posted publicly in practice, phones never are.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, BeforeValidator, Field
from sqlalchemy import Connection, text

from geogrid.errors import Conflict, GeogridError, NotFound
from geogrid.i18n import t
from geogrid.model import PARTY_ORG_LEVELS, STAFF_ROLES


class Assignment(BaseModel):
    id: int
    staff_id: int
    name: str
    role: str
    grid_code: str | None
    start_date: date | None
    end_date: date | None


class StaffPublic(BaseModel):
    """A worker as the public may see them: name and current roles (no phone)."""

    id: int
    name: str
    assignments: list[Assignment]


class PartyOrgOut(BaseModel):
    id: int
    name: str
    level: str
    parent_id: int | None
    grid_code: str | None
    community_code: str | None
    secretary: str | None
    member_count: int | None


class Responsible(BaseModel):
    """Who was responsible for a grid on a date, read from the dated assignments."""

    grid_code: str
    on: date
    staff: list[Assignment]


class NewStaff(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    source_id: str | None = Field(None, max_length=200)
    author: str | None = Field(None, max_length=100)


def _iso_date(value: Any) -> Any:
    """A date is written YYYY-MM-DD: a bare number (which pydantic would read as a Unix time) is refused."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(t("a date is written YYYY-MM-DD"))
    return value


Day = Annotated[date, BeforeValidator(_iso_date)]


class NewAssignment(BaseModel):
    grid_code: str = Field(min_length=1, max_length=32)
    role: str = Field(min_length=1, max_length=32)
    start_date: Day | None = None
    author: str | None = Field(None, max_length=100)


class EndAssignment(BaseModel):
    end_date: Day | None = None
    author: str | None = Field(None, max_length=100)


class NewPartyOrg(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    level: str = Field(min_length=1, max_length=32)
    grid_code: str | None = Field(None, max_length=32)
    parent_id: int | None = Field(None, ge=1, le=2**31 - 1)
    secretary: str | None = Field(None, max_length=100)
    member_count: int | None = Field(None, ge=0, le=1_000_000)
    author: str | None = Field(None, max_length=100)


class MovePartyOrg(BaseModel):
    """Move a branch to another grid and/or under another parent; fields left out stay as they are."""

    grid_code: str | None = Field(None, max_length=32)
    parent_id: int | None = Field(None, ge=1, le=2**31 - 1)
    author: str | None = Field(None, max_length=100)


def log_change(
    conn: Connection,
    author: str | None,
    action: str,
    entity: str,
    entity_id: int | None,
    grid_id: int | None,
    detail: dict | None = None,
) -> None:
    conn.execute(
        text(
            "INSERT INTO roster_changes (author, action, entity, entity_id, grid_id, detail) "
            "VALUES (:a, :x, :e, :i, :g, CAST(:d AS jsonb))"
        ),
        {
            "a": author,
            "x": action,
            "e": entity,
            "i": entity_id,
            "g": grid_id,
            "d": orjson.dumps(detail or {}, default=str).decode(),
        },
    )


def _grid_id(conn: Connection, code: str) -> int:
    gid = conn.scalar(text("SELECT id FROM grids WHERE code = :c AND valid_to IS NULL"), {"c": code})
    if gid is None:
        raise NotFound(t("no grid in force with code '{code}'", code=code))
    return gid


def _not_future(day: date) -> date:
    if day > date.today():
        raise GeogridError(t("{day} is in the future", day=day.isoformat()))
    return day


_ASSIGNMENTS = """
SELECT a.id, a.staff_id, s.name, a.role, g.code AS grid_code, a.start_date, a.end_date
  FROM staff_assignments a JOIN staff s ON s.id = a.staff_id LEFT JOIN grids g ON g.id = a.grid_id
"""


def list_staff(conn: Connection, grid: str | None = None, community: str | None = None) -> list[StaffPublic]:
    """Staff with their current grid roles, optionally of one grid or community (code)."""
    rows = (
        conn.execute(
            text(
                _ASSIGNMENTS
                + """
        LEFT JOIN admin_areas c ON c.id = g.community_id
        WHERE a.end_date IS NULL AND a.building_id IS NULL
          AND (CAST(:g AS text) IS NULL OR g.code = :g) AND (CAST(:c AS text) IS NULL OR c.code = :c)
        ORDER BY s.name, s.id, g.code"""
            ),
            {"g": grid, "c": community},
        )
        .mappings()
        .all()
    )
    people: dict[int, StaffPublic] = {}
    for r in rows:
        people.setdefault(r["staff_id"], StaffPublic(id=r["staff_id"], name=r["name"], assignments=[]))
        people[r["staff_id"]].assignments.append(Assignment(**r))
    return list(people.values())


def get_staff(conn: Connection, staff_id: int) -> StaffPublic:
    name = conn.scalar(text("SELECT name FROM staff WHERE id = :i"), {"i": staff_id})
    if name is None:
        raise NotFound(t("no staff member {id}", id=staff_id))
    rows = (
        conn.execute(
            text(_ASSIGNMENTS + " WHERE a.staff_id = :i ORDER BY a.start_date NULLS FIRST, a.id"), {"i": staff_id}
        )
        .mappings()
        .all()
    )
    return StaffPublic(id=staff_id, name=name, assignments=[Assignment(**r) for r in rows])


def create_staff(conn: Connection, new: NewStaff) -> StaffPublic:
    sid = conn.scalar(
        text("INSERT INTO staff (name, source_id) VALUES (:n, :s) RETURNING id"), {"n": new.name, "s": new.source_id}
    )
    log_change(conn, new.author, "create", "staff", sid, None, {"name": new.name})
    return StaffPublic(id=sid, name=new.name, assignments=[])


def assign(conn: Connection, staff_id: int, new: NewAssignment) -> Assignment:
    """Start a worker's role in a grid (today unless dated); the same current role there is a conflict."""
    get_staff(conn, staff_id)
    if new.role not in STAFF_ROLES:
        raise GeogridError(t("unknown role '{role}': use {roles}", role=new.role, roles=list(STAFF_ROLES)))
    gid = _grid_id(conn, new.grid_code)
    start = _not_future(new.start_date or date.today())
    if conn.scalar(
        text(
            "SELECT 1 FROM staff_assignments WHERE staff_id = :s AND grid_id = :g AND role = :r "
            "AND end_date IS NULL AND building_id IS NULL"
        ),
        {"s": staff_id, "g": gid, "r": new.role},
    ):
        raise Conflict(t("staff member {id} already has this role in grid {code}", id=staff_id, code=new.grid_code))
    aid = conn.scalar(
        text(
            "INSERT INTO staff_assignments (staff_id, grid_id, role, start_date, author) "
            "VALUES (:s, :g, :r, :d, :a) RETURNING id"
        ),
        {"s": staff_id, "g": gid, "r": new.role, "d": start, "a": new.author},
    )
    log_change(
        conn,
        new.author,
        "assign",
        "staff_assignment",
        aid,
        gid,
        {"staff_id": staff_id, "role": new.role, "start_date": start},
    )
    return _assignment(conn, aid)


def end_assignment(conn: Connection, assignment_id: int, end: EndAssignment) -> Assignment:
    """End an assignment on a date (today unless given): the row stays as history."""
    row = conn.execute(
        text("SELECT grid_id, start_date, end_date FROM staff_assignments WHERE id = :i FOR UPDATE"),
        {"i": assignment_id},
    ).first()
    if row is None:
        raise NotFound(t("no assignment {id}", id=assignment_id))
    if row.end_date is not None:
        raise Conflict(t("assignment {id} already ended on {day}", id=assignment_id, day=row.end_date.isoformat()))
    day = _not_future(end.end_date or date.today())
    if row.start_date and day < row.start_date:
        raise GeogridError(t("an assignment cannot end before it starts ({day})", day=row.start_date.isoformat()))
    conn.execute(
        text("UPDATE staff_assignments SET end_date = :d, ended_by = :a WHERE id = :i"),
        {"d": day, "a": end.author, "i": assignment_id},
    )
    log_change(conn, end.author, "end", "staff_assignment", assignment_id, row.grid_id, {"end_date": day})
    return _assignment(conn, assignment_id)


def _assignment(conn: Connection, assignment_id: int) -> Assignment:
    return Assignment(**conn.execute(text(_ASSIGNMENTS + " WHERE a.id = :i"), {"i": assignment_id}).mappings().one())


def responsible_on(conn: Connection, code: str, on: date) -> Responsible:
    """Who held a role in grid ``code`` on ``on`` (retired grids answer too: their history is kept)."""
    gid = conn.scalar(text("SELECT id FROM grids WHERE code = :c"), {"c": code})
    if gid is None:
        raise NotFound(t("no grid with code '{code}'", code=code))
    rows = (
        conn.execute(
            text(
                _ASSIGNMENTS
                + """
        WHERE a.grid_id = :g AND a.building_id IS NULL
          AND (a.start_date IS NULL OR a.start_date <= :d) AND (a.end_date IS NULL OR a.end_date >= :d)
        ORDER BY array_position(CAST(:roles AS text[]), CAST(a.role AS text)), s.name"""
            ),
            {"g": gid, "d": on, "roles": list(STAFF_ROLES)},
        )
        .mappings()
        .all()
    )
    return Responsible(grid_code=code, on=on, staff=[Assignment(**r) for r in rows])


_ORGS = """
SELECT p.id, p.name, p.level, p.parent_id, g.code AS grid_code, coalesce(c.code, gc.code) AS community_code,
       p.secretary, p.member_count
  FROM party_orgs p LEFT JOIN grids g ON g.id = p.grid_id LEFT JOIN admin_areas c ON c.id = p.area_id
  LEFT JOIN admin_areas gc ON gc.id = g.community_id
"""


def list_party_orgs(conn: Connection, community: str | None = None) -> list[PartyOrgOut]:
    rows = conn.execute(
        text(
            f"SELECT * FROM ({_ORGS}) o WHERE CAST(:c AS text) IS NULL OR o.community_code = :c "
            "ORDER BY o.community_code, o.level, o.grid_code, o.id"
        ),
        {"c": community},
    )
    return [PartyOrgOut(**r) for r in rows.mappings()]


def get_party_org(conn: Connection, org_id: int) -> PartyOrgOut:
    row = conn.execute(text(_ORGS + " WHERE p.id = :i"), {"i": org_id}).mappings().first()
    if row is None:
        raise NotFound(t("no party organisation {id}", id=org_id))
    return PartyOrgOut(**row)


def create_party_org(conn: Connection, new: NewPartyOrg) -> PartyOrgOut:
    if new.level not in PARTY_ORG_LEVELS:
        raise GeogridError(t("unknown level '{level}': use {levels}", level=new.level, levels=list(PARTY_ORG_LEVELS)))
    gid = _grid_id(conn, new.grid_code) if new.grid_code else None
    if new.parent_id is not None:
        get_party_org(conn, new.parent_id)
    oid = conn.scalar(
        text(
            "INSERT INTO party_orgs (name, level, grid_id, parent_id, secretary, member_count) "
            "VALUES (:n, :l, :g, :p, :s, :m) RETURNING id"
        ),
        {"n": new.name, "l": new.level, "g": gid, "p": new.parent_id, "s": new.secretary, "m": new.member_count},
    )
    log_change(conn, new.author, "create", "party_org", oid, gid, new.model_dump(exclude={"author"}))
    return get_party_org(conn, oid)


def move_party_org(conn: Connection, org_id: int, move: MovePartyOrg) -> PartyOrgOut:
    """Attach a branch to another grid and/or parent; the log keeps where it was."""
    before = get_party_org(conn, org_id)
    sets: dict[str, int] = {}
    if move.grid_code is not None:
        sets["grid_id"] = _grid_id(conn, move.grid_code)
    if move.parent_id is not None:
        if move.parent_id == org_id:
            raise GeogridError(t("a party organisation cannot be its own parent"))
        get_party_org(conn, move.parent_id)
        sets["parent_id"] = move.parent_id
    if sets:
        conn.execute(
            text(f"UPDATE party_orgs SET {', '.join(f'{k} = :{k}' for k in sets)} WHERE id = :i"), {**sets, "i": org_id}
        )
        log_change(
            conn,
            move.author,
            "move",
            "party_org",
            org_id,
            sets.get("grid_id"),
            {
                "from": before.model_dump(include={"grid_code", "parent_id"}),
                "to": move.model_dump(include={"grid_code", "parent_id"}),
            },
        )
    return get_party_org(conn, org_id)
