"""Rosters over HTTP: staff and their dated grid assignments, party organisations, who was responsible when.

Public answers carry names and roles only (posted publicly in practice); phones and residents' names leave only
through the ledger (``GET /ledger``, ``/ledger.xlsx``): signed-in staff of the place, every read audited.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Connection, text

from api import security
from api.deps import WriteConn, WrittenDate
from api.security import CurrentUser
from geogrid import db
from geogrid.accounts.scope import check_grids
from geogrid.accounts.store import Principal
from geogrid.errors import GeogridError
from geogrid.i18n import t
from geogrid.ledger import Ledger, ledger_entries, workbook_bytes
from geogrid.rosters import (
    Assignment,
    EndAssignment,
    MovePartyOrg,
    NewAssignment,
    NewPartyOrg,
    NewStaff,
    PartyOrgOut,
    Responsible,
    StaffPublic,
    assign,
    create_party_org,
    create_staff,
    end_assignment,
    get_party_org,
    get_staff,
    list_party_orgs,
    list_staff,
    move_party_org,
    responsible_on,
)
from geogrid.scope import Scope, resolve_scope

router = APIRouter(tags=["rosters"])
Code = Annotated[str | None, Query(max_length=32, description="A grid or community code.")]
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/staff", response_model=list[StaffPublic])
def staff_list(grid: Code = None, community: Code = None) -> list[StaffPublic]:
    """Staff with their current grid roles (names and roles only), of one grid or community when given."""
    with db.ready().connect() as conn:
        return list_staff(conn, grid, community)


@router.post("/staff", response_model=StaffPublic, status_code=201)
def staff_create(body: NewStaff, who: CurrentUser) -> StaffPublic:
    with db.ready().begin() as conn:
        return create_staff(conn, body.model_copy(update={"author": body.author or who.name}))


@router.get("/staff/{staff_id}", response_model=StaffPublic)
def staff_read(staff_id: Id) -> StaffPublic:
    """A staff member with every assignment, current and ended (the history)."""
    with db.ready().connect() as conn:
        return get_staff(conn, staff_id)


@router.post("/staff/{staff_id}/assignments", response_model=Assignment, status_code=201)
def assignment_create(staff_id: Id, body: NewAssignment, who: CurrentUser) -> Assignment:
    """Assign a worker to a grid from a date (today by default, never in the future); 403 outside the caller's
    streets or communities."""
    with db.ready().begin() as conn:
        done = assign(conn, staff_id, body.model_copy(update={"author": body.author or who.name}))
        check_grids(conn, who, [body.grid_code])
        return done


@router.post("/assignments/{assignment_id}/end", response_model=Assignment)
def assignment_end(assignment_id: Id, body: EndAssignment, who: CurrentUser) -> Assignment:
    """End an assignment on a date; it stays in the history."""
    with db.ready().begin() as conn:
        done = end_assignment(conn, assignment_id, body.model_copy(update={"author": body.author or who.name}))
        if done.grid_code:
            check_grids(conn, who, [done.grid_code])
        return done


@router.get("/grids/{code}/responsible", response_model=Responsible)
def grid_responsible(
    code: str, on: Annotated[WrittenDate, Query(description="YYYY-MM-DD (today by default)")] = None
) -> Responsible:
    """Who was responsible for the grid on a date, from the dated assignments (retired grids too)."""
    with db.ready().connect() as conn:
        return responsible_on(conn, code, on or date.today())


@router.get("/party-orgs", response_model=list[PartyOrgOut])
def party_org_list(community: Code = None) -> list[PartyOrgOut]:
    with db.ready().connect() as conn:
        return list_party_orgs(conn, community)


@router.post("/party-orgs", response_model=PartyOrgOut, status_code=201)
def party_org_create(body: NewPartyOrg, who: CurrentUser) -> PartyOrgOut:
    with db.ready().begin() as conn:
        done = create_party_org(conn, body.model_copy(update={"author": body.author or who.name}))
        if done.grid_code:
            check_grids(conn, who, [done.grid_code])
        return done


@router.get("/party-orgs/{org_id}", response_model=PartyOrgOut)
def party_org_read(org_id: Id) -> PartyOrgOut:
    with db.ready().connect() as conn:
        return get_party_org(conn, org_id)


@router.patch("/party-orgs/{org_id}", response_model=PartyOrgOut)
def party_org_move(org_id: Id, body: MovePartyOrg, who: CurrentUser) -> PartyOrgOut:
    """Move a branch to another grid and/or parent (the move is logged with its author)."""
    with db.ready().begin() as conn:
        before = get_party_org(conn, org_id)
        done = move_party_org(conn, org_id, body.model_copy(update={"author": body.author or who.name}))
        check_grids(conn, who, [c for c in (before.grid_code, done.grid_code) if c])
        return done


@router.get("/rosters/{community}", response_class=HTMLResponse)
def roster_page(community: Annotated[str, Path(max_length=200)]) -> HTMLResponse:
    """The roster page of a community: grids with workers and branches, roster problems, edit forms."""
    from maps.roster_page import roster_page as page

    with db.ready().connect() as conn:
        return HTMLResponse(page(conn, community))


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _ledger_place(conn: Connection, who: Principal, community: str | None, grid: str | None) -> Scope:
    """The place asked for, checked against the caller's areas: staff read their own streets and communities'
    ledgers (403 naming the first grid outside them; with no place, all of their areas); admins read any."""
    if community and grid:
        raise GeogridError(t("give a community or a grid, not both"))
    if who.role != "admin" and not (community or grid):
        ids = conn.scalars(text(OWN_GRIDS_SQL), {"a": list(who.areas)}).all()
        return Scope(",".join(who.areas) or None, "community", tuple(ids), None)
    levels = ("grid",) if grid else ("district", "street", "community")
    place = resolve_scope(conn, grid or community, levels)
    if who.role != "admin" and place.grid_ids:
        codes = list(conn.scalars(text("SELECT code FROM grids WHERE id = ANY(:i)"), {"i": list(place.grid_ids)}))
        check_grids(conn, who, codes)
    return place


OWN_GRIDS_SQL = """
SELECT g.id FROM grids g LEFT JOIN admin_areas c ON c.id = g.community_id LEFT JOIN admin_areas s ON s.id = c.parent_id
 WHERE g.valid_to IS NULL AND (c.code = ANY(:a) OR s.code = ANY(:a) OR g.code = ANY(:a)) ORDER BY g.id
"""


@router.get("/ledger", response_model=Ledger)
def ledger_read(
    conn: WriteConn, request: Request, who: CurrentUser, community: Code = None, grid: Code = None
) -> Ledger:
    """The special-group ledger (台账) of a community or grid: residents, buildings, groups and the staff
    responsible, with counts per grid. Personal data: staff of the place only; every read is audited."""
    place = _ledger_place(conn, who, community, grid)
    answer = ledger_entries(conn, place)
    security.record(conn, request, "ledger_read", area=place.ref, details={"entries": len(answer.entries)})
    return answer


@router.get(
    "/ledger.xlsx",
    response_class=Response,
    responses={
        200: {"content": {XLSX: {}}, "description": "The ledger workbook (what `geogrid export ledger` writes)."}
    },
)
def ledger_workbook(
    conn: WriteConn, request: Request, who: CurrentUser, community: Code = None, grid: Code = None
) -> Response:
    """The ledger as the .xlsx workbook ``geogrid export ledger`` writes (same sheets); audited."""
    place = _ledger_place(conn, who, community, grid)
    body = workbook_bytes(conn, "ledger", place)
    security.record(conn, request, "ledger_export", area=place.ref)
    name = f"ledger-{place.ref or 'city'}.xlsx"
    return Response(body, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'})
